// The CUDA backend's dense linear algebra and elementwise primitives: GEMM, scale and
// axpy through cuBLAS, fill and sum through the backend's own kernels.
#pragma once

#include <cublas_v2.h>

#include <cstdint>

#include "clr/backend/cuda/context.hpp"
#include "clr/backend/cuda/launchers.hpp"

namespace clr::cuda_impl {

struct Blas {
  // C[m,n] = alpha op(A) op(B) + beta C on row-major matrices with leading dimensions.
  // cuBLAS is column-major, and a row-major [r, c] matrix with stride ld is the
  // column-major [c, r] matrix with the same ld: its transpose. So row-major
  // C = op(A) op(B) is column-major C^T = op(B)^T op(A)^T, computed by passing B first
  // with its own transpose flag, then A, and swapping m and n. cuBLAS's int sizes bound
  // every extent and leading dimension to INT_MAX, as this interface's ints already do.
  static void gemm(bool transpose_a, bool transpose_b, int m, int n, int k, float alpha,
                   const float* a, int lda, const float* b, int ldb, float beta, float* c,
                   int ldc) {
    if (m <= 0 || n <= 0) return;
    const Context& context = Context::get();
    if (k <= 0) {
      // Nothing to multiply, but C must still become beta C; cuBLAS would also reject the
      // leading dimensions of the empty operands.
      if (beta != 1.0f) launch::scale_matrix(c, m, n, ldc, beta, context.stream());
      return;
    }
    check(cublasSgemm(context.blas(), transpose_b ? CUBLAS_OP_T : CUBLAS_OP_N,
                      transpose_a ? CUBLAS_OP_T : CUBLAS_OP_N, n, m, k, &alpha, b, ldb, a, lda,
                      &beta, c, ldc),
          "cublasSgemm(row-major m=", m, ", n=", n, ", k=", k,
          ", transpose_a=", transpose_a ? "true" : "false",
          ", transpose_b=", transpose_b ? "true" : "false", ", lda=", lda, ", ldb=", ldb,
          ", ldc=", ldc, ")");
  }

  static void fill(float* y, std::int64_t n, float value) {
    launch::fill(y, n, value, Context::get().stream());
  }
  // The _64 entry points take 64-bit counts, so vectors past INT_MAX elements work.
  static void scale(float* y, std::int64_t n, float alpha) {
    check(cublasSscal_64(Context::get().blas(), n, &alpha, y, 1), "cublasSscal(n=", n, ")");
  }
  static void axpy(float* y, const float* x, std::int64_t n, float alpha) {
    check(cublasSaxpy_64(Context::get().blas(), n, &alpha, x, 1, y, 1), "cublasSaxpy(n=", n, ")");
  }
  static double sum(const float* x, std::int64_t n) {
    return launch::sum(x, n, Context::get().stream());
  }
};

}  // namespace clr::cuda_impl
