// The CUDA backend's im2col and col2im, host side: they enqueue the kernels of
// conv_kernels.cuh on the context's stream. Same semantics as clr::cpu_impl::ConvKernels
// (contract in clr/backend/im2col.hpp).
#pragma once

#include "clr/backend/cuda/context.hpp"
#include "clr/backend/cuda/launchers.hpp"
#include "clr/backend/im2col.hpp"

namespace clr::cuda_impl {

struct ConvKernels {
  // columns [patch_size, out_h * out_w] from one image x [channels, height, width].
  static void im2col(const float* x, const ConvGeometry& g, float* columns) {
    launch::im2col(x, g, columns, Context::get().stream());
  }
  // dx [channels, height, width] += the adjoint of im2col applied to columns.
  static void col2im(const float* columns, const ConvGeometry& g, float* dx) {
    launch::col2im(columns, g, dx, Context::get().stream());
  }
};

}  // namespace clr::cuda_impl
