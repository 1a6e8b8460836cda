// SGD with momentum: PyTorch's torch.optim.SGD, the optimizer of SupContrast (util.py's
// set_optimizer: lr, momentum 0.9, weight_decay 1e-4 on every parameter).
//
//   d = g + weight_decay p
//   buf = d on the first step, else momentum buf + (1 - dampening) d
//   d = nesterov ? d + momentum buf : buf        (with momentum 0: no buffer, d as is)
//   p -= lr d
//
// The state is PyTorch's momentum_buffer, one per parameter ("optimizer.momentum_buffer.<name>"
// in a checkpoint).
#pragma once

#include <cstddef>
#include <utility>

#include "clr/core/backend.hpp"
#include "clr/core/error.hpp"
#include "clr/nn/layer.hpp"
#include "clr/optim/optimizer.hpp"

namespace clr::optim {

// Defaults are SupContrast's flags (main_supcon.py); PyTorch's own are momentum 0 and
// weight_decay 0.
struct SGDOptions {
  double lr = 0.05;
  double momentum = 0.9;
  double dampening = 0.0;
  double weight_decay = 1e-4;
  bool nesterov = false;
  // SupContrast decays every parameter; true skips biases and BatchNorm's scale and shift,
  // as SimCLR does.
  bool exclude_bias_and_bn_from_weight_decay = false;
};

template <Backend B>
class SGD : public Optimizer<B> {
 public:
  SGD(nn::State<B> parameters, SGDOptions options = {})
      : Optimizer<B>(std::move(parameters), options.lr, "SGD"), options_(options) {
    detail::check_hyperparameter("SGD", "momentum", options.momentum, 0.0);
    detail::check_hyperparameter("SGD", "dampening", options.dampening, 0.0, 1.0);
    detail::check_hyperparameter("SGD", "weight_decay", options.weight_decay, 0.0);
    // PyTorch's own check: Nesterov momentum needs a momentum and no dampening.
    require(!options.nesterov || (options.momentum > 0.0 && options.dampening == 0.0),
            "SGD: nesterov needs momentum > 0 and dampening 0, got momentum ", options.momentum,
            ", dampening ", options.dampening);
    if (options.momentum != 0.0) momentum_buffer_ = this->add_slot("momentum_buffer");
  }

  const SGDOptions& options() const { return options_; }

  void step() override {
    this->check_shapes();
    const auto& params = this->parameters();
    const bool has_buffer = options_.momentum != 0.0;
    // Before any step the buffers hold nothing yet: PyTorch starts them as a copy of d.
    const bool first_step = this->steps() == 0;
    for (std::size_t i = 0; i < params.size(); ++i) {
      const auto& entry = params[i];
      if (entry.value->empty()) continue;
      const bool decays =
          !(options_.exclude_bias_and_bn_from_weight_decay && is_bias_or_batch_norm(entry.kind));
      float* buffer = has_buffer ? this->slot(momentum_buffer_, i).data() : nullptr;
      B::sgd_update(entry.value->data(), entry.grad->data(), buffer, entry.value->numel(),
                    static_cast<float>(this->lr()),
                    decays ? static_cast<float>(options_.weight_decay) : 0.0f,
                    static_cast<float>(options_.momentum), static_cast<float>(options_.dampening),
                    options_.nesterov, first_step);
    }
    this->count_step();
  }

 private:
  SGDOptions options_;
  std::size_t momentum_buffer_ = 0;
};

}  // namespace clr::optim
