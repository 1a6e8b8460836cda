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
  // out[c] = sum over batch and spatial of x * z.
  static void channel_dot(const float* x, const float* z, int batch, int channels, int spatial,
                          float* out) {
    launch::channel_dot(x, z, batch, channels, spatial, out, Context::get().stream());
  }
  // y = a[c] x + b[c] z + c[c]; z may be null (then b is not read); y may be x.
  static void channel_affine(const float* x, const float* z, int batch, int channels, int spatial,
                             const float* a, const float* b, const float* c, float* y) {
    launch::channel_affine(x, z, batch, channels, spatial, a, b, c, y, Context::get().stream());
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
