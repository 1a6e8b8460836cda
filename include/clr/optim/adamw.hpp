// AdamW, Adam with decoupled weight decay (Loshchilov and Hutter 2019, arXiv:1711.05101), as
// PyTorch's torch.optim.AdamW (amsgrad off). At step t (from 1), per parameter:
//
//   p *= 1 - lr weight_decay
//   m = beta1 m + (1 - beta1) g
//   v = beta2 v + (1 - beta2) g^2
//   p -= lr / (1 - beta1^t) m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
//
// The coefficients are computed in double and rounded once, as PyTorch's Python floats. The
// state is PyTorch's exp_avg and exp_avg_sq ("optimizer.exp_avg.<name>", ...) and the step
// count, which a checkpoint keeps as "optimizer.steps".
#pragma once

#include <cmath>
#include <cstddef>
#include <utility>

#include "clr/core/backend.hpp"
#include "clr/nn/layer.hpp"
#include "clr/optim/optimizer.hpp"

namespace clr::optim {

// PyTorch's defaults.
struct AdamWOptions {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 1e-2;
  // PyTorch decays every parameter; true skips biases and BatchNorm's scale and shift.
  bool exclude_bias_and_bn_from_weight_decay = false;
};

template <Backend B>
class AdamW : public Optimizer<B> {
 public:
  AdamW(nn::State<B> parameters, AdamWOptions options = {})
      : Optimizer<B>(std::move(parameters), options.lr, "AdamW"), options_(options) {
    // beta < 1: the bias corrections 1 - beta^t must not vanish.
    detail::check_hyperparameter("AdamW", "beta1", options.beta1, 0.0, std::nextafter(1.0, 0.0));
    detail::check_hyperparameter("AdamW", "beta2", options.beta2, 0.0, std::nextafter(1.0, 0.0));
    detail::check_hyperparameter("AdamW", "eps", options.eps, 0.0);
    detail::check_hyperparameter("AdamW", "weight_decay", options.weight_decay, 0.0);
    exp_avg_ = this->add_slot("exp_avg");
    exp_avg_sq_ = this->add_slot("exp_avg_sq");
  }

  const AdamWOptions& options() const { return options_; }

  void step() override {
    this->check_shapes();
    const double lr = this->lr();
    const auto t = static_cast<double>(this->steps() + 1);
    const double bias_correction1 = 1.0 - std::pow(options_.beta1, t);
    const double bias_correction2 = 1.0 - std::pow(options_.beta2, t);
    AdamWStep coefficients{};
    coefficients.beta1 = static_cast<float>(options_.beta1);
    coefficients.one_minus_beta1 = static_cast<float>(1.0 - options_.beta1);
    coefficients.beta2 = static_cast<float>(options_.beta2);
    coefficients.one_minus_beta2 = static_cast<float>(1.0 - options_.beta2);
    coefficients.eps = static_cast<float>(options_.eps);
    coefficients.step_size = static_cast<float>(lr / bias_correction1);
    coefficients.bias_correction2_sqrt = static_cast<float>(std::sqrt(bias_correction2));
    const auto& params = this->parameters();
    for (std::size_t i = 0; i < params.size(); ++i) {
      const auto& entry = params[i];
      if (entry.value->empty()) continue;
      const bool decays =
          !(options_.exclude_bias_and_bn_from_weight_decay && is_bias_or_batch_norm(entry.kind));
      coefficients.decay = static_cast<float>(1.0 - lr * (decays ? options_.weight_decay : 0.0));
      B::adamw_update(entry.value->data(), entry.grad->data(), this->slot(exp_avg_, i).data(),
                      this->slot(exp_avg_sq_, i).data(), entry.value->numel(), coefficients);
    }
    this->count_step();
  }

 private:
  AdamWOptions options_;
  std::size_t exp_avg_ = 0, exp_avg_sq_ = 0;
};

}  // namespace clr::optim
