// The optimizers' kernels and their launchers: the squared norm of x + alpha y (a two-level
// reduction in double, in a fixed order, as sum's) and one grid-stride pass per update.
// Same semantics and operation order as clr::cpu_impl::OptimKernels.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "clr/backend/cuda/context.hpp"
#include "clr/backend/cuda/elementwise.cuh"
#include "clr/backend/cuda/launchers.hpp"
#include "clr/backend/cuda/reduce.cuh"

namespace clr::cuda_impl::kernels {

template <int kThreads>
__global__ void __launch_bounds__(kThreads)
    squared_norm_partials_kernel(const float* x, const float* y, std::int64_t n, float alpha,
                                 double* partials) {
  double total = 0.0;
  for (std::int64_t i = first_index(); i < n; i += grid_stride()) {
    // Rounded to float before squaring, as the CPU backend (and simclr's float32 grad).
    const float value = y == nullptr ? x[i] : x[i] + alpha * y[i];
    total += static_cast<double>(value) * value;
  }
  total = block_all_reduce<kThreads>(total, Sum{}, 0.0);
  if (threadIdx.x == 0) partials[blockIdx.x] = total;
}

__global__ void sgd_update_kernel(float* p, const float* g, float* buf, std::int64_t n, float lr,
                                  float weight_decay, float momentum, float dampening,
                                  bool nesterov, bool first_step) {
  const float keep = 1.0f - dampening;
  for (std::int64_t i = first_index(); i < n; i += grid_stride()) {
    float d = weight_decay != 0.0f ? __fadd_rn(g[i], __fmul_rn(weight_decay, p[i])) : g[i];
    if (momentum != 0.0f) {
      const float b = first_step ? d : __fadd_rn(__fmul_rn(buf[i], momentum), __fmul_rn(keep, d));
      buf[i] = b;
      d = nesterov ? __fadd_rn(d, __fmul_rn(momentum, b)) : b;
    }
    p[i] = __fadd_rn(p[i], __fmul_rn(-lr, d));
  }
}

__global__ void lars_update_kernel(float* p, const float* g, float* v, std::int64_t n,
                                   float scaled_lr, float momentum, float weight_decay,
                                   bool nesterov) {
  for (std::int64_t i = first_index(); i < n; i += grid_stride()) {
    const float d = weight_decay != 0.0f ? __fadd_rn(g[i], __fmul_rn(weight_decay, p[i])) : g[i];
    const float next_v = __fadd_rn(__fmul_rn(momentum, v[i]), __fmul_rn(scaled_lr, d));
    v[i] = next_v;
    const float update =
        nesterov ? __fadd_rn(__fmul_rn(momentum, next_v), __fmul_rn(scaled_lr, d)) : next_v;
    p[i] = __fsub_rn(p[i], update);
  }
}

__global__ void adamw_update_kernel(float* p, const float* g, float* m, float* v, std::int64_t n,
                                    float decay, float beta1, float one_minus_beta1, float beta2,
                                    float one_minus_beta2, float eps, float step_size,
                                    float bias_correction2_sqrt) {
  for (std::int64_t i = first_index(); i < n; i += grid_stride()) {
    const float gi = g[i];
    const float param = __fmul_rn(p[i], decay);
    const float exp_avg = __fadd_rn(__fmul_rn(m[i], beta1), __fmul_rn(one_minus_beta1, gi));
    const float exp_avg_sq =
        __fadd_rn(__fmul_rn(v[i], beta2), __fmul_rn(__fmul_rn(one_minus_beta2, gi), gi));
    m[i] = exp_avg;
    v[i] = exp_avg_sq;
    const float denom = __fadd_rn(__fdiv_rn(__fsqrt_rn(exp_avg_sq), bias_correction2_sqrt), eps);
    p[i] = __fadd_rn(param, __fdiv_rn(__fmul_rn(-step_size, exp_avg), denom));
  }
}

}  // namespace clr::cuda_impl::kernels

namespace clr::cuda_impl::launch {

double squared_norm(const float* x, const float* y, std::int64_t n, float alpha,
                    cudaStream_t stream) {
  if (n <= 0) return 0.0;
  if (alpha == 0.0f) y = nullptr;
  constexpr int kThreads = kernels::kElementwiseThreads;
  const int blocks = kernels::blocks_for(n, kernels::kSumBlocks);
  const kernels::StreamScratch scratch((static_cast<std::size_t>(blocks) + 1) * sizeof(double),
                                       stream);
  double* partials = static_cast<double*>(scratch.data());  // [blocks], then the total
  kernels::squared_norm_partials_kernel<kThreads>
      <<<blocks, kThreads, 0, stream>>>(x, y, n, alpha, partials);
  check_launch("squared_norm (partials)");
  kernels::sum_partials_final_kernel<kThreads>
      <<<1, kThreads, 0, stream>>>(partials, blocks, partials + blocks);
  check_launch("squared_norm (final)");
  double total = 0.0;
  check(cudaMemcpyAsync(&total, partials + blocks, sizeof(double), cudaMemcpyDeviceToHost, stream),
        "cudaMemcpyAsync(the squared norm, device to host)");
  check(cudaStreamSynchronize(stream), "cudaStreamSynchronize after a squared norm");
  return total;
}

void sgd_update(float* p, const float* g, float* buf, std::int64_t n, float lr, float weight_decay,
                float momentum, float dampening, bool nesterov, bool first_step,
                cudaStream_t stream) {
  if (n <= 0) return;
  kernels::sgd_update_kernel<<<kernels::blocks_for(n, kernels::kMaxBlocks),
                               kernels::kElementwiseThreads, 0, stream>>>(
      p, g, buf, n, lr, weight_decay, momentum, dampening, nesterov, first_step);
  check_launch("sgd_update");
}

void lars_update(float* p, const float* g, float* v, std::int64_t n, float scaled_lr,
                 float momentum, float weight_decay, bool nesterov, cudaStream_t stream) {
  if (n <= 0) return;
  kernels::lars_update_kernel<<<kernels::blocks_for(n, kernels::kMaxBlocks),
                                kernels::kElementwiseThreads, 0, stream>>>(
      p, g, v, n, scaled_lr, momentum, weight_decay, nesterov);
  check_launch("lars_update");
}

void adamw_update(float* p, const float* g, float* m, float* v, std::int64_t n, float decay,
                  float beta1, float one_minus_beta1, float beta2, float one_minus_beta2, float eps,
                  float step_size, float bias_correction2_sqrt, cudaStream_t stream) {
  if (n <= 0) return;
  kernels::adamw_update_kernel<<<kernels::blocks_for(n, kernels::kMaxBlocks),
                                 kernels::kElementwiseThreads, 0, stream>>>(
      p, g, m, v, n, decay, beta1, one_minus_beta1, beta2, one_minus_beta2, eps, step_size,
      bias_correction2_sqrt);
  check_launch("adamw_update");
}

}  // namespace clr::cuda_impl::launch
