// The layers' kernels and their launchers: per-channel bias and sums over [batch,
// channels, spatial] tensors, and ReLU. Same semantics as clr::cpu_impl::LayerKernels.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "clr/backend/cuda/context.hpp"
#include "clr/backend/cuda/elementwise.cuh"
#include "clr/backend/cuda/launchers.hpp"
#include "clr/backend/cuda/reduce.cuh"

namespace clr::cuda_impl::kernels {

__global__ void add_channel_bias_kernel(float* y, std::int64_t n, int channels, int spatial,
                                        const float* bias) {
  for (std::int64_t i = first_index(); i < n; i += grid_stride())
    y[i] += bias[(i / spatial) % channels];
}

// One block per channel: the sum over batch and spatial positions, in double.
template <int kThreads>
__global__ void __launch_bounds__(kThreads)
    channel_sums_kernel(const float* x, int batch, int channels, int spatial, float* out,
                        float beta) {
  const int channel = static_cast<int>(blockIdx.x);
  const std::int64_t count = static_cast<std::int64_t>(batch) * spatial;
  double total = 0.0;
  for (std::int64_t k = threadIdx.x; k < count; k += kThreads) {
    const std::int64_t b = k / spatial, s = k % spatial;
    total += x[(b * channels + channel) * spatial + s];
  }
  total = block_all_reduce<kThreads>(total, Sum{}, 0.0);
  if (threadIdx.x == 0)
    out[channel] = static_cast<float>((beta == 0.0f ? 0.0 : beta * double(out[channel])) + total);
}

__global__ void relu_kernel(const float* x, float* y, std::int64_t n) {
  for (std::int64_t i = first_index(); i < n; i += grid_stride()) y[i] = fmaxf(x[i], 0.0f);
}

__global__ void add_relu_kernel(const float* a, const float* b, float* y, std::int64_t n) {
  for (std::int64_t i = first_index(); i < n; i += grid_stride()) y[i] = fmaxf(a[i] + b[i], 0.0f);
}

__global__ void relu_backward_kernel(const float* y, const float* dy, float* dx, std::int64_t n) {
  for (std::int64_t i = first_index(); i < n; i += grid_stride())
    dx[i] = y[i] > 0.0f ? dy[i] : 0.0f;
}

}  // namespace clr::cuda_impl::kernels

namespace clr::cuda_impl::launch {

void add_channel_bias(float* y, int batch, int channels, int spatial, const float* bias,
                      cudaStream_t stream) {
  const std::int64_t n = static_cast<std::int64_t>(batch) * channels * spatial;
  if (n <= 0) return;
  kernels::add_channel_bias_kernel<<<kernels::blocks_for(n, kernels::kMaxBlocks),
                                     kernels::kElementwiseThreads, 0, stream>>>(y, n, channels,
                                                                                spatial, bias);
  check_launch("add_channel_bias");
}

void channel_sums(const float* x, int batch, int channels, int spatial, float* out, float beta,
                  cudaStream_t stream) {
  if (channels <= 0) return;
  constexpr int kThreads = 256;
  kernels::channel_sums_kernel<kThreads>
      <<<channels, kThreads, 0, stream>>>(x, batch, channels, spatial, out, beta);
  check_launch("channel_sums");
}

void relu(const float* x, float* y, std::int64_t n, cudaStream_t stream) {
  if (n <= 0) return;
  kernels::relu_kernel<<<kernels::blocks_for(n, kernels::kMaxBlocks), kernels::kElementwiseThreads,
                         0, stream>>>(x, y, n);
  check_launch("relu");
}

void add_relu(const float* a, const float* b, float* y, std::int64_t n, cudaStream_t stream) {
  if (n <= 0) return;
  kernels::add_relu_kernel<<<kernels::blocks_for(n, kernels::kMaxBlocks),
                             kernels::kElementwiseThreads, 0, stream>>>(a, b, y, n);
  check_launch("add_relu");
}

void relu_backward(const float* y, const float* dy, float* dx, std::int64_t n,
                   cudaStream_t stream) {
  if (n <= 0) return;
  kernels::relu_backward_kernel<<<kernels::blocks_for(n, kernels::kMaxBlocks),
                                  kernels::kElementwiseThreads, 0, stream>>>(y, dy, dx, n);
  check_launch("relu_backward");
}

}  // namespace clr::cuda_impl::launch
