// BatchNorm's and pooling's kernels and their launchers over NCHW tensors [batch, channels,
// spatial]: per-channel moments, and sums with dot products (in double), a per-channel affine
// map (with a fused ReLU, or a ReLU's gate), max pooling with its argmax, and plane means for
// global average pooling. Same semantics as
// clr::cpu_impl::NormPoolKernels.
#pragma once

#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "clr/backend/cuda/context.hpp"
#include "clr/backend/cuda/elementwise.cuh"
#include "clr/backend/cuda/launchers.hpp"
#include "clr/backend/cuda/reduce.cuh"

namespace clr::cuda_impl::kernels {

// x[b, channel, s] for the k-th of the channel's batch * spatial values.
__device__ inline float channel_value(const float* x, std::int64_t k, int channels, int channel,
                                      int spatial) {
  const std::int64_t b = k / spatial, s = k % spatial;
  return x[(b * channels + channel) * spatial + s];
}

// One block per channel. Two passes in double, as the CPU backend: the squares are taken
// about the mean, so there is no cancellation when the mean is large against the spread.
template <int kThreads>
__global__ void __launch_bounds__(kThreads)
    channel_moments_kernel(const float* x, int batch, int channels, int spatial, float* mean,
                           float* var) {
  const int channel = static_cast<int>(blockIdx.x);
  const std::int64_t count = static_cast<std::int64_t>(batch) * spatial;
  double total = 0.0;
  for (std::int64_t k = threadIdx.x; k < count; k += kThreads)
    total += channel_value(x, k, channels, channel, spatial);
  const double mu = block_all_reduce<kThreads>(total, Sum{}, 0.0) / static_cast<double>(count);
  double squares = 0.0;
  for (std::int64_t k = threadIdx.x; k < count; k += kThreads) {
    const double d = channel_value(x, k, channels, channel, spatial) - mu;
    squares += d * d;
  }
  squares = block_all_reduce<kThreads>(squares, Sum{}, 0.0);
  if (threadIdx.x == 0) {
    mean[channel] = static_cast<float>(mu);
    var[channel] = static_cast<float>(squares / static_cast<double>(count));  // biased
  }
}

// One block per channel: sums[c] = Σ g and dots[c] = Σ g x, in double, where g = dy, or
// with a gate g = dy where fmaf(gate_scale[c], x, gate_shift[c]) > 0 (the mask of
// channel_affine_relu_kernel, recomputed by the same fma), else 0.
template <int kThreads>
__global__ void __launch_bounds__(kThreads)
    channel_sums_dot_kernel(const float* dy, const float* x, int batch, int channels, int spatial,
                            const float* gate_scale, const float* gate_shift, float* sums,
                            float* dots) {
  const int channel = static_cast<int>(blockIdx.x);
  const std::int64_t count = static_cast<std::int64_t>(batch) * spatial;
  const float scale = gate_scale ? gate_scale[channel] : 0.0f;
  const float shift = gate_scale ? gate_shift[channel] : 0.0f;
  double sum = 0.0, dot = 0.0;
  for (std::int64_t k = threadIdx.x; k < count; k += kThreads) {
    const float in = channel_value(x, k, channels, channel, spatial);
    const bool open = !gate_scale || fmaf(scale, in, shift) > 0.0f;
    const float g = open ? channel_value(dy, k, channels, channel, spatial) : 0.0f;
    sum += g;
    dot += static_cast<double>(g) * in;
  }
  sum = block_all_reduce<kThreads>(sum, Sum{}, 0.0);
  dot = block_all_reduce<kThreads>(dot, Sum{}, 0.0);
  if (threadIdx.x == 0) {
    sums[channel] = static_cast<float>(sum);
    dots[channel] = static_cast<float>(dot);
  }
}

// y = a[c] g + b[c] z + c[c], g = x or, with a gate, x where fmaf(gate_scale[c], z,
// gate_shift[c]) > 0. Each thread reads its x (and z) before writing its y, so y may be x;
// no __restrict__ for that reason. z == nullptr (no gate): b is not read.
__global__ void channel_affine_kernel(const float* x, const float* z, std::int64_t n, int channels,
                                      int spatial, const float* a, const float* b, const float* c,
                                      const float* gate_scale, const float* gate_shift, float* y) {
  for (std::int64_t i = first_index(); i < n; i += grid_stride()) {
    const int channel = static_cast<int>(i / spatial % channels);
    float g = x[i];
    if (gate_scale && !(fmaf(gate_scale[channel], z[i], gate_shift[channel]) > 0.0f)) g = 0.0f;
    y[i] = z ? a[channel] * g + b[channel] * z[i] + c[channel] : a[channel] * g + c[channel];
  }
}

// y = max(fmaf(a[c], x, c[c]) (+ r), 0): BatchNorm's affine map with the ReLU after it, or
// after the sum with a residual r (not null).
__global__ void channel_affine_relu_kernel(const float* x, const float* r, std::int64_t n,
                                           int channels, int spatial, const float* a,
                                           const float* c, float* y) {
  for (std::int64_t i = first_index(); i < n; i += grid_stride()) {
    const int channel = static_cast<int>(i / spatial % channels);
    const float affine = fmaf(a[channel], x[i], c[channel]);
    y[i] = fmaxf(r ? affine + r[i] : affine, 0.0f);
  }
}

// One thread per output [planes, out_h, out_w]. The window is scanned as on the CPU (ki
// outer, kj inner, strict >), so the first maximum wins ties and padding never wins.
__global__ void max_pool_kernel(const float* x, int height, int width, int kernel, int stride,
                                int padding, int out_h, int out_w, float* y, int* argmax,
                                std::int64_t n) {
  for (std::int64_t o = first_index(); o < n; o += grid_stride()) {
    const int ow = static_cast<int>(o % out_w);
    const int oh = static_cast<int>(o / out_w % out_h);
    const std::int64_t p = o / (static_cast<std::int64_t>(out_h) * out_w);
    const float* in = x + p * height * width;
    float best = -INFINITY;
    int where = -1;
    for (int ki = 0; ki < kernel; ++ki) {
      const int ih = oh * stride - padding + ki;
      if (ih < 0 || ih >= height) continue;
      for (int kj = 0; kj < kernel; ++kj) {
        const int iw = ow * stride - padding + kj;
        if (iw < 0 || iw >= width) continue;
        const float v = in[ih * width + iw];
        if (v > best || where < 0) {
          best = v;
          where = ih * width + iw;
        }
      }
    }
    y[o] = best;
    argmax[o] = where;
  }
}

// One thread per output: dx[p, argmax] += dy. Overlapping windows (stride < kernel) route
// several outputs to one input, hence atomicAdd; their order, and so the last bits of such
// a sum, may vary between runs. Without overlap each input gets at most one add: exact.
__global__ void max_pool_backward_kernel(const float* dy, const int* argmax, int in_size,
                                         int out_size, float* dx, std::int64_t n) {
  for (std::int64_t i = first_index(); i < n; i += grid_stride()) {
    const std::int64_t p = i / out_size;
    atomicAdd(dx + p * in_size + argmax[i], dy[i]);
  }
}

// One warp per plane (global average pooling sees many small planes, 4x4 to 7x7), summed
// in double. The loop bound is the same for the whole block, so every lane of every warp
// reaches each shuffle; lanes past the last plane add nothing and write nothing.
template <int kThreads>
__global__ void __launch_bounds__(kThreads)
    plane_means_kernel(const float* x, int planes, int spatial, float* y) {
  constexpr int kWarps = kThreads / kWarpSize;
  const int lane = static_cast<int>(threadIdx.x) % kWarpSize;
  const int warp = static_cast<int>(threadIdx.x) / kWarpSize;
  for (std::int64_t first = static_cast<std::int64_t>(blockIdx.x) * kWarps; first < planes;
       first += static_cast<std::int64_t>(gridDim.x) * kWarps) {
    const std::int64_t p = first + warp;
    double total = 0.0;
    if (p < planes)
      for (int s = lane; s < spatial; s += kWarpSize) total += x[p * spatial + s];
    total = warp_all_reduce(total, Sum{});
    if (p < planes && lane == 0) y[p] = static_cast<float>(total / spatial);
  }
}

// dx[p, s] = dy[p] / spatial, divided in float as on the CPU.
__global__ void plane_means_backward_kernel(const float* dy, int spatial, float* dx,
                                            std::int64_t n) {
  for (std::int64_t i = first_index(); i < n; i += grid_stride())
    dx[i] = dy[i / spatial] / static_cast<float>(spatial);
}

}  // namespace clr::cuda_impl::kernels

namespace clr::cuda_impl::launch {

void channel_moments(const float* x, int batch, int channels, int spatial, float* mean, float* var,
                     cudaStream_t stream) {
  if (channels <= 0) return;
  constexpr int kThreads = 256;
  kernels::channel_moments_kernel<kThreads>
      <<<channels, kThreads, 0, stream>>>(x, batch, channels, spatial, mean, var);
  check_launch("channel_moments");
}

void channel_sums_dot(const float* dy, const float* x, int batch, int channels, int spatial,
                      const float* gate_scale, const float* gate_shift, float* sums, float* dots,
                      cudaStream_t stream) {
  if (channels <= 0) return;
  constexpr int kThreads = 256;
  kernels::channel_sums_dot_kernel<kThreads><<<channels, kThreads, 0, stream>>>(
      dy, x, batch, channels, spatial, gate_scale, gate_shift, sums, dots);
  check_launch("channel_sums_dot");
}

void channel_affine(const float* x, const float* z, int batch, int channels, int spatial,
                    const float* a, const float* b, const float* c, const float* gate_scale,
                    const float* gate_shift, float* y, cudaStream_t stream) {
  const std::int64_t n = static_cast<std::int64_t>(batch) * channels * spatial;
  if (n <= 0) return;
  kernels::channel_affine_kernel<<<kernels::blocks_for(n, kernels::kMaxBlocks),
                                   kernels::kElementwiseThreads, 0, stream>>>(
      x, z, n, channels, spatial, a, b, c, gate_scale, gate_shift, y);
  check_launch("channel_affine");
}

void channel_affine_relu(const float* x, const float* residual, int batch, int channels,
                         int spatial, const float* a, const float* c, float* y,
                         cudaStream_t stream) {
  const std::int64_t n = static_cast<std::int64_t>(batch) * channels * spatial;
  if (n <= 0) return;
  kernels::channel_affine_relu_kernel<<<kernels::blocks_for(n, kernels::kMaxBlocks),
                                        kernels::kElementwiseThreads, 0, stream>>>(
      x, residual, n, channels, spatial, a, c, y);
  check_launch("channel_affine_relu");
}

void max_pool(const float* x, int planes, int height, int width, int kernel, int stride,
              int padding, float* y, int* argmax, cudaStream_t stream) {
  const int out_h = (height + 2 * padding - kernel) / stride + 1;
  const int out_w = (width + 2 * padding - kernel) / stride + 1;
  if (planes <= 0 || out_h <= 0 || out_w <= 0) return;
  const std::int64_t n = static_cast<std::int64_t>(planes) * out_h * out_w;
  kernels::max_pool_kernel<<<kernels::blocks_for(n, kernels::kMaxBlocks),
                             kernels::kElementwiseThreads, 0, stream>>>(
      x, height, width, kernel, stride, padding, out_h, out_w, y, argmax, n);
  check_launch("max_pool");
}

void max_pool_backward(const float* dy, const int* argmax, int planes, int in_size, int out_size,
                       float* dx, cudaStream_t stream) {
  const std::int64_t n = static_cast<std::int64_t>(planes) * out_size;
  if (n <= 0) return;
  kernels::max_pool_backward_kernel<<<kernels::blocks_for(n, kernels::kMaxBlocks),
                                      kernels::kElementwiseThreads, 0, stream>>>(
      dy, argmax, in_size, out_size, dx, n);
  check_launch("max_pool_backward");
}

void plane_means(const float* x, int planes, int spatial, float* y, cudaStream_t stream) {
  if (planes <= 0) return;
  constexpr int kThreads = kernels::kElementwiseThreads;
  constexpr int kWarps = kThreads / kernels::kWarpSize;
  const int blocks = static_cast<int>(std::min<std::int64_t>(
      (static_cast<std::int64_t>(planes) + kWarps - 1) / kWarps, kernels::kMaxBlocks));
  kernels::plane_means_kernel<kThreads><<<blocks, kThreads, 0, stream>>>(x, planes, spatial, y);
  check_launch("plane_means");
}

void plane_means_backward(const float* dy, int planes, int spatial, float* dx,
                          cudaStream_t stream) {
  const std::int64_t n = static_cast<std::int64_t>(planes) * spatial;
  if (n <= 0) return;
  kernels::plane_means_backward_kernel<<<kernels::blocks_for(n, kernels::kMaxBlocks),
                                         kernels::kElementwiseThreads, 0, stream>>>(dy, spatial, dx,
                                                                                    n);
  check_launch("plane_means_backward");
}

}  // namespace clr::cuda_impl::launch
