// The CPU backend's dense linear algebra and elementwise primitives, on Eigen 3.4 (its
// GEMM is parallel over OpenMP threads when compiled with -fopenmp).
#pragma once

#include <Eigen/Core>
#include <cstdint>

#include "clr/backend/cpu/elementwise.hpp"

namespace clr::cpu_impl {

struct Blas {
  using RowMajor = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  using Stride = Eigen::OuterStride<>;
  using ConstView = Eigen::Map<const RowMajor, Eigen::Unaligned, Stride>;
  using View = Eigen::Map<RowMajor, Eigen::Unaligned, Stride>;

  // C[m,n] = alpha op(A) op(B) + beta C; a stored matrix is [rows, cols] with stride ld.
  static void gemm(bool transpose_a, bool transpose_b, int m, int n, int k, float alpha,
                   const float* a, int lda, const float* b, int ldb, float beta, float* c,
                   int ldc) {
    View out(c, m, n, Stride(ldc));
    const ConstView stored_a(a, transpose_a ? k : m, transpose_a ? m : k, Stride(lda));
    const ConstView stored_b(b, transpose_b ? n : k, transpose_b ? k : n, Stride(ldb));
    if (beta == 0.0f) {
      out.setZero();
    } else if (beta != 1.0f) {
      out *= beta;
    }
    if (k == 0) return;
    // Four spellings so that Eigen sees each transpose as a flag, not a copy.
    if (!transpose_a && !transpose_b) {
      out.noalias() += alpha * stored_a * stored_b;
    } else if (!transpose_a) {
      out.noalias() += alpha * stored_a * stored_b.transpose();
    } else if (!transpose_b) {
      out.noalias() += alpha * stored_a.transpose() * stored_b;
    } else {
      out.noalias() += alpha * stored_a.transpose() * stored_b.transpose();
    }
  }

  static void fill(float* y, std::int64_t n, float value) {
    Eigen::Map<Eigen::ArrayXf>(y, n).setConstant(value);
  }
  static void scale(float* y, std::int64_t n, float alpha) {
    for_each_block(n, [=](std::int64_t begin, std::int64_t end) {
      Eigen::Map<Eigen::ArrayXf>(y + begin, end - begin) *= alpha;
    });
  }
  static void axpy(float* y, const float* x, std::int64_t n, float alpha) {
    for_each_block(n, [=](std::int64_t begin, std::int64_t end) {
      Eigen::Map<Eigen::ArrayXf>(y + begin, end - begin) +=
          alpha * Eigen::Map<const Eigen::ArrayXf>(x + begin, end - begin);
    });
  }
  static double sum(const float* x, std::int64_t n) {
    return Eigen::Map<const Eigen::ArrayXf>(x, n).cast<double>().sum();
  }
};

}  // namespace clr::cpu_impl
