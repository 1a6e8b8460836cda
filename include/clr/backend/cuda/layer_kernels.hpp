// The CUDA backend's layer kernels, host side: they enqueue the kernels of
// layer_kernels.cuh on the context's stream. Same semantics as clr::cpu_impl::LayerKernels.
#pragma once

#include <cstdint>

#include "clr/backend/cuda/context.hpp"
#include "clr/backend/cuda/launchers.hpp"

namespace clr::cuda_impl {

struct LayerKernels {
  static void add_channel_bias(float* y, int batch, int channels, int spatial, const float* bias) {
    launch::add_channel_bias(y, batch, channels, spatial, bias, Context::get().stream());
  }
  static void channel_sums(const float* x, int batch, int channels, int spatial, float* out,
                           float beta) {
    launch::channel_sums(x, batch, channels, spatial, out, beta, Context::get().stream());
  }
  static void relu(const float* x, float* y, std::int64_t n) {
    launch::relu(x, y, n, Context::get().stream());
  }
  static void add_relu(const float* a, const float* b, float* y, std::int64_t n) {
    launch::add_relu(a, b, y, n, Context::get().stream());
  }
  static void relu_backward(const float* y, const float* dy, float* dx, std::int64_t n) {
    launch::relu_backward(y, dy, dx, n, Context::get().stream());
  }
};

}  // namespace clr::cuda_impl
