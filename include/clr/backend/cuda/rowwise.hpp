// The CUDA backend's row-wise kernels (softmax, softmax statistics, L2 normalisation and
// its backward), host side: they enqueue the kernels of rowwise.cuh on the context's
// stream. Same semantics as clr::cpu_impl::RowKernels.
#pragma once

#include "clr/backend/cuda/context.hpp"
#include "clr/backend/cuda/launchers.hpp"

namespace clr::cuda_impl {

struct RowKernels {
  static void softmax_rows(float* x, int rows, int cols, int ld, float* log_sum_exp) {
    launch::softmax_rows(x, rows, cols, ld, log_sum_exp, Context::get().stream());
  }
  static void softmax_stats_rows(const float* x, int rows, int cols, int row_ld, int col_stride,
                                 int* argmax, float* entropy) {
    launch::softmax_stats_rows(x, rows, cols, row_ld, col_stride, argmax, entropy,
                               Context::get().stream());
  }
  static void l2_normalize_rows(const float* x, float* y, float* norms, int rows, int dim) {
    launch::l2_normalize_rows(x, y, norms, rows, dim, Context::get().stream());
  }
  static void l2_normalize_rows_backward(const float* y, const float* dy, const float* norms,
                                         float* dx, int rows, int dim) {
    launch::l2_normalize_rows_backward(y, dy, norms, dx, rows, dim, Context::get().stream());
  }
};

}  // namespace clr::cuda_impl
