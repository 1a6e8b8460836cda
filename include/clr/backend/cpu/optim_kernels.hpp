// The CPU backend's optimizer kernels: one fused pass over a parameter tensor for each update
// of clr/optim/ (PyTorch's SGD and AdamW, SimCLR's LARS), and the squared norm that LARS's
// trust ratio needs. Each update follows its reference's order of float operations (noted
// below), so that trajectories agree with PyTorch's and TensorFlow's to rounding.
#pragma once

#include <Eigen/Core>
#include <cmath>
#include <cstdint>

#include "clr/core/backend.hpp"

namespace clr::cpu_impl {

struct OptimKernels {
  // Below this many elements one thread does the update: a parallel region costs more than
  // a bias or a BatchNorm scale takes.
  static constexpr std::int64_t kParallelMin = std::int64_t{1} << 15;

  // |x + alpha y|^2 with each x + alpha y rounded to float first (simclr's LARS forms
  // `grad += weight_decay * param` in float32 before its norm), summed in double. y may be
  // null, and alpha == 0 ignores it.
  static double squared_norm(const float* x, const float* y, std::int64_t n, float alpha) {
    const Eigen::Map<const Eigen::ArrayXf> a(x, n);
    if (y == nullptr || alpha == 0.0f) return a.cast<double>().square().sum();
    const Eigen::Map<const Eigen::ArrayXf> b(y, n);
    return (a + alpha * b).cast<double>().square().sum();
  }

  // torch.optim.SGD (_single_tensor_sgd): d = g + wd p; buf = d on the first step, else
  // momentum buf + (1 - dampening) d; d = nesterov ? d + momentum buf : buf; p -= lr d.
  // With momentum 0 there is no buffer (buf may be null) and d is used as is.
  static void sgd_update(float* p, const float* g, float* buf, std::int64_t n, float lr,
                         float weight_decay, float momentum, float dampening, bool nesterov,
                         bool first_step) {
    const float keep = 1.0f - dampening;
#pragma omp parallel for schedule(static) if (n >= kParallelMin)
    for (std::int64_t i = 0; i < n; ++i) {
      float d = weight_decay != 0.0f ? g[i] + weight_decay * p[i] : g[i];
      if (momentum != 0.0f) {
        const float b = first_step ? d : buf[i] * momentum + keep * d;
        buf[i] = b;
        d = nesterov ? d + momentum * b : b;
      }
      p[i] = p[i] + -lr * d;
    }
  }

  // simclr's LARSOptimizer with classic momentum (lars_optimizer.py), once the host has
  // turned the trust ratio into scaled_lr = lr * trust_ratio: d = g + wd p;
  // v = momentum v + scaled_lr d; p -= nesterov ? momentum v + scaled_lr d : v.
  static void lars_update(float* p, const float* g, float* v, std::int64_t n, float scaled_lr,
                          float momentum, float weight_decay, bool nesterov) {
#pragma omp parallel for schedule(static) if (n >= kParallelMin)
    for (std::int64_t i = 0; i < n; ++i) {
      const float d = weight_decay != 0.0f ? g[i] + weight_decay * p[i] : g[i];
      const float next_v = momentum * v[i] + scaled_lr * d;
      v[i] = next_v;
      p[i] = p[i] - (nesterov ? momentum * next_v + scaled_lr * d : next_v);
    }
  }

  // torch.optim.AdamW (_single_tensor_adamw, amsgrad off): p *= 1 - lr wd;
  // m = beta1 m + (1 - beta1) g; v = beta2 v + (1 - beta2) g g;
  // p += -step_size m / (sqrt(v) / sqrt(1 - beta2^t) + eps), in ATen's operand order.
  static void adamw_update(float* p, const float* g, float* m, float* v, std::int64_t n,
                           const AdamWStep& s) {
#pragma omp parallel for schedule(static) if (n >= kParallelMin)
    for (std::int64_t i = 0; i < n; ++i) {
      const float gi = g[i];
      const float param = p[i] * s.decay;
      const float exp_avg = m[i] * s.beta1 + s.one_minus_beta1 * gi;
      const float exp_avg_sq = v[i] * s.beta2 + s.one_minus_beta2 * gi * gi;
      m[i] = exp_avg;
      v[i] = exp_avg_sq;
      const float denom = std::sqrt(exp_avg_sq) / s.bias_correction2_sqrt + s.eps;
      p[i] = param + -s.step_size * exp_avg / denom;
    }
  }
};

}  // namespace clr::cpu_impl
