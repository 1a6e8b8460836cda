// LARS, layer-wise adaptive rate scaling (You, Gitman and Ginsburg 2017,
// arXiv:1708.03888) as google-research/simclr's LARSOptimizer (lars_optimizer.py, classic
// momentum), the optimizer of SimCLR's large-batch pre-training. Per parameter tensor:
//
//   g += weight_decay p                                  (unless excluded)
//   trust_ratio = |p| > 0 ? (|g| > 0 ? eeta |p| / |g| : 1) : 1   (unless excluded: 1)
//   scaled_lr = lr trust_ratio
//   v = momentum v + scaled_lr g
//   p -= nesterov ? momentum v + scaled_lr g : v
//
// SimCLR excludes 'batch_normalization' and 'bias' variables from both the weight decay and
// the adaptation (exclude_from_layer_adaptation defaults to exclude_from_weight_decay); clr
// excludes by ParameterKind. The state is simclr's "Momentum" slot, one per parameter
// ("optimizer.momentum.<name>" in a checkpoint).
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <utility>

#include "clr/core/backend.hpp"
#include "clr/core/error.hpp"
#include "clr/nn/layer.hpp"
#include "clr/optim/optimizer.hpp"

namespace clr::optim {

// Defaults are simclr's flags (run.py) and LARSOptimizer's arguments. lr is the learning rate
// after scaling by batch size (see SimCLRSchedule), which sets it every step anyway.
struct LARSOptions {
  double lr = 0.3;
  double momentum = 0.9;
  double weight_decay = 1e-6;
  double eeta = 0.001;  // the trust coefficient, simclr's EETA_DEFAULT
  bool nesterov = false;
  bool exclude_bias_and_bn = true;  // from weight decay and from the trust ratio
};

template <Backend B>
class LARS : public Optimizer<B> {
 public:
  LARS(nn::State<B> parameters, LARSOptions options = {})
      : Optimizer<B>(std::move(parameters), options.lr, "LARS"), options_(options) {
    detail::check_hyperparameter("LARS", "momentum", options.momentum, 0.0);
    detail::check_hyperparameter("LARS", "weight_decay", options.weight_decay, 0.0);
    detail::check_hyperparameter("LARS", "eeta", options.eeta, 0.0);
    momentum_ = this->add_slot("momentum");
  }

  const LARSOptions& options() const { return options_; }

  // The trust ratio of parameter i at the current weights and gradients (1 when excluded):
  // what step() uses, for logging and tests.
  double trust_ratio(std::size_t i) const {
    require(i < this->parameters().size(), "LARS::trust_ratio: parameter ", i, " of ",
            this->parameters().size());
    const auto& entry = this->parameters()[i];
    if (excluded(entry) || entry.value->empty()) return 1.0;
    const std::int64_t n = entry.value->numel();
    const double w_norm = std::sqrt(B::squared_norm(entry.value->data(), nullptr, n, 0.0f));
    const double g_norm =
        std::sqrt(B::squared_norm(entry.grad->data(), entry.value->data(), n, weight_decay(entry)));
    return w_norm > 0.0 ? (g_norm > 0.0 ? options_.eeta * w_norm / g_norm : 1.0) : 1.0;
  }

  void step() override {
    this->check_shapes();
    const auto& params = this->parameters();
    for (std::size_t i = 0; i < params.size(); ++i) {
      const auto& entry = params[i];
      if (entry.value->empty()) continue;
      const double scaled_lr = this->lr() * trust_ratio(i);
      B::lars_update(entry.value->data(), entry.grad->data(), this->slot(momentum_, i).data(),
                     entry.value->numel(), static_cast<float>(scaled_lr),
                     static_cast<float>(options_.momentum), weight_decay(entry), options_.nesterov);
    }
    this->count_step();
  }

 private:
  bool excluded(const nn::StateEntry<B>& entry) const {
    return options_.exclude_bias_and_bn && is_bias_or_batch_norm(entry.kind);
  }
  float weight_decay(const nn::StateEntry<B>& entry) const {
    return excluded(entry) ? 0.0f : static_cast<float>(options_.weight_decay);
  }

  LARSOptions options_;
  std::size_t momentum_ = 0;
};

}  // namespace clr::optim
