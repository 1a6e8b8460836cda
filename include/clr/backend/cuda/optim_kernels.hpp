// The CUDA backend's optimizer kernels, host side: they enqueue the kernels of
// optim_kernels.cuh on the context's stream. Same semantics as clr::cpu_impl::OptimKernels.
#pragma once

#include <cstdint>

#include "clr/backend/cuda/context.hpp"
#include "clr/backend/cuda/launchers.hpp"
#include "clr/core/backend.hpp"

namespace clr::cuda_impl {

struct OptimKernels {
  // Waits for the stream: the host needs the norm (LARS's trust ratio).
  static double squared_norm(const float* x, const float* y, std::int64_t n, float alpha) {
    return launch::squared_norm(x, y, n, alpha, Context::get().stream());
  }
  static void sgd_update(float* p, const float* g, float* buf, std::int64_t n, float lr,
                         float weight_decay, float momentum, float dampening, bool nesterov,
                         bool first_step) {
    launch::sgd_update(p, g, buf, n, lr, weight_decay, momentum, dampening, nesterov, first_step,
                       Context::get().stream());
  }
  static void lars_update(float* p, const float* g, float* v, std::int64_t n, float scaled_lr,
                          float momentum, float weight_decay, bool nesterov) {
    launch::lars_update(p, g, v, n, scaled_lr, momentum, weight_decay, nesterov,
                        Context::get().stream());
  }
  static void adamw_update(float* p, const float* g, float* m, float* v, std::int64_t n,
                           const AdamWStep& step) {
    launch::adamw_update(p, g, m, v, n, step.decay, step.beta1, step.one_minus_beta1, step.beta2,
                         step.one_minus_beta2, step.eps, step.step_size, step.bias_correction2_sqrt,
                         Context::get().stream());
  }
};

}  // namespace clr::cuda_impl
