// The CUDA backend's BatchNorm and pooling kernels, host side: they enqueue the kernels of
// norm_pool_kernels.cuh on the context's stream. Same semantics as
// clr::cpu_impl::NormPoolKernels; every pointer is device memory.
#pragma once

#include "clr/backend/cuda/context.hpp"
#include "clr/backend/cuda/launchers.hpp"

namespace clr::cuda_impl {

struct NormPoolKernels {
  // mean[c] and the biased variance var[c] of x [batch, channels, spatial].
  static void channel_moments(const float* x, int batch, int channels, int spatial, float* mean,
                              float* var) {
    launch::channel_moments(x, batch, channels, spatial, mean, var, Context::get().stream());
  }
  // sums[c] = Σ g, dots[c] = Σ g x, g = dy (gated by gate_scale[c] x + gate_shift[c] > 0
  // where those are not null).
  static void channel_sums_dot(const float* dy, const float* x, int batch, int channels,
                               int spatial, const float* gate_scale, const float* gate_shift,
                               float* sums, float* dots) {
    launch::channel_sums_dot(dy, x, batch, channels, spatial, gate_scale, gate_shift, sums, dots,
                             Context::get().stream());
  }
  // y = a[c] g + b[c] z + c[c], g = x (gated by gate_scale[c] z + gate_shift[c] > 0 where
  // those are not null); z may be null without a gate (then b is not read); y may be x.
  static void channel_affine(const float* x, const float* z, int batch, int channels, int spatial,
                             const float* a, const float* b, const float* c,
                             const float* gate_scale, const float* gate_shift, float* y) {
    launch::channel_affine(x, z, batch, channels, spatial, a, b, c, gate_scale, gate_shift, y,
                           Context::get().stream());
  }
  // y = max(a[c] x + c[c], 0), or max((a[c] x + c[c]) + r, 0) with a residual r (not null).
  static void channel_affine_relu(const float* x, const float* residual, int batch, int channels,
                                  int spatial, const float* a, const float* c, float* y) {
    launch::channel_affine_relu(x, residual, batch, channels, spatial, a, c, y,
                                Context::get().stream());
  }
  // y [planes, out_h, out_w] and the winning index within each input plane.
  static void max_pool(const float* x, int planes, int height, int width, int kernel, int stride,
                       int padding, float* y, int* argmax) {
    launch::max_pool(x, planes, height, width, kernel, stride, padding, y, argmax,
                     Context::get().stream());
  }
  // dx[p, argmax] += dy (dx zeroed by the caller).
  static void max_pool_backward(const float* dy, const int* argmax, int planes, int in_size,
                                int out_size, float* dx) {
    launch::max_pool_backward(dy, argmax, planes, in_size, out_size, dx, Context::get().stream());
  }
  // y[p] = mean of plane p; backward: dx = dy[p] / spatial.
  static void plane_means(const float* x, int planes, int spatial, float* y) {
    launch::plane_means(x, planes, spatial, y, Context::get().stream());
  }
  static void plane_means_backward(const float* dy, int planes, int spatial, float* dx) {
    launch::plane_means_backward(dy, planes, spatial, dx, Context::get().stream());
  }
};

}  // namespace clr::cuda_impl
