// C = A B (or C += Aᵀ B) for the convolutions' products, single-threaded, without packing:
// A [m, k] (the transformed filters, a few KiB to a MiB), B [k, n] (the tile matrix, one row
// per channel, its n ≈ 256 tiles contiguous), C [m, n], all row-major. The tile matrix is
// already in the layout a register-blocked kernel streams (a row of B is consecutive
// vectors), so the kernel reads B and A where they lie; Eigen's GEMM packs both operands on
// every call, which at 16 such calls per group of images and 16…128 channels cost as much
// as its multiplications.
//
// Register block: kRows rows of C × up to 3 vectors of 16 columns, 24 accumulators; k is cut
// into blocks of kDepth so that a column panel of B stays in L1 while the rows of A pass.
// n is rounded up to whole vectors: B's rows and C's rows must have room for
// round_up(n, 16) columns (the columns past n are computed from whatever B holds there).
//
// Written with FloatVector (float_vector.hpp), a vector extension, not intrinsics.
#pragma once

#include <algorithm>

#include "clr/backend/cpu/float_vector.hpp"

namespace clr::cpu_impl {

struct SmallGemm {
  static constexpr int kWidth = kVectorFloats;
  static constexpr int kRows = 8;     // rows of C per register block
  static constexpr int kDepth = 128;  // k per pass over a panel of B

  static int padded_columns(int n) { return (n + kWidth - 1) / kWidth * kWidth; }

  // C = A B, A [m, k] row-major.
  static void multiply(int m, int n, int k, const float* a, long lda, const float* b, long ldb,
                       float* c, long ldc) {
    run<false>(m, n, k, a, lda, b, ldb, c, ldc, false);
  }

  // C += Aᵀ B, A stored [k, m] row-major: the weight gradient of the channels-last Winograd
  // convolution, dU += dMᵀ V, where Eigen's GEMM packed both operands again on every call.
  static void add_transposed_product(int m, int n, int k, const float* a, long lda, const float* b,
                                     long ldb, float* c, long ldc) {
    run<true>(m, n, k, a, lda, b, ldb, c, ldc, true);
  }

 private:
  using Vector = FloatVector;

  // A's element (row i, depth p) lies at a[i·lda + p], or with kTransposedA at a[p·lda + i].
  template <bool kTransposedA>
  static const float* a_at(const float* a, long lda, long i, long p) {
    return kTransposedA ? a + p * lda + i : a + i * lda + p;
  }

  template <bool kTransposedA>
  static void run(int m, int n, int k, const float* a, long lda, const float* b, long ldb, float* c,
                  long ldc, bool add) {
    const int columns = padded_columns(n);
    for (int p = 0; p < k; p += kDepth) {
      const int depth = std::min(kDepth, k - p);
      const bool accumulate = add || p > 0;
      for (int j = 0; j < columns; j += 3 * kWidth) {
        const int vectors = std::min(3, (columns - j) / kWidth);
        for (int i = 0; i < m; i += kRows)
          block<kTransposedA>(std::min(kRows, m - i), vectors, depth,
                              a_at<kTransposedA>(a, lda, i, p), lda,
                              b + static_cast<long>(p) * ldb + j, ldb,
                              c + static_cast<long>(i) * ldc + j, ldc, accumulate);
      }
    }
  }

  // The kernels are instantiated for every (rows, vectors) so that the accumulators are
  // named registers; the switch picks one per block.
  template <bool T>
  static void block(int rows, int vectors, int depth, const float* a, long lda, const float* b,
                    long ldb, float* c, long ldc, bool accumulate) {
    switch (vectors) {
      case 3:
        return by_rows<3, T>(rows, depth, a, lda, b, ldb, c, ldc, accumulate);
      case 2:
        return by_rows<2, T>(rows, depth, a, lda, b, ldb, c, ldc, accumulate);
      default:
        return by_rows<1, T>(rows, depth, a, lda, b, ldb, c, ldc, accumulate);
    }
  }

  template <int V, bool T>
  static void by_rows(int rows, int depth, const float* a, long lda, const float* b, long ldb,
                      float* c, long ldc, bool accumulate) {
    switch (rows) {
      case 8:
        return kernel<8, V, T>(depth, a, lda, b, ldb, c, ldc, accumulate);
      case 7:
        return kernel<7, V, T>(depth, a, lda, b, ldb, c, ldc, accumulate);
      case 6:
        return kernel<6, V, T>(depth, a, lda, b, ldb, c, ldc, accumulate);
      case 5:
        return kernel<5, V, T>(depth, a, lda, b, ldb, c, ldc, accumulate);
      case 4:
        return kernel<4, V, T>(depth, a, lda, b, ldb, c, ldc, accumulate);
      case 3:
        return kernel<3, V, T>(depth, a, lda, b, ldb, c, ldc, accumulate);
      case 2:
        return kernel<2, V, T>(depth, a, lda, b, ldb, c, ldc, accumulate);
      default:
        return kernel<1, V, T>(depth, a, lda, b, ldb, c, ldc, accumulate);
    }
  }

  // C[R, 16·V] (+)= A[R, depth] B[depth, 16·V].
  template <int R, int V, bool kTransposedA>
  static void kernel(int depth, const float* __restrict a, long lda, const float* __restrict b,
                     long ldb, float* __restrict c, long ldc, bool accumulate) {
    Vector sum[R][V];
    for (int r = 0; r < R; ++r)
      for (int v = 0; v < V; ++v) {
        if (accumulate)
          load_floats(sum[r][v], c + r * ldc + v * kWidth);
        else
          sum[r][v] = Vector{};
      }
    for (int p = 0; p < depth; ++p) {
      Vector row[V];
      for (int v = 0; v < V; ++v) load_floats(row[v], b + p * ldb + v * kWidth);
      for (int r = 0; r < R; ++r) {
        const float scalar = *a_at<kTransposedA>(a, lda, r, p);
        for (int v = 0; v < V; ++v) sum[r][v] += scalar * row[v];
      }
    }
    for (int r = 0; r < R; ++r)
      for (int v = 0; v < V; ++v) store_floats(c + r * ldc + v * kWidth, sum[r][v]);
  }
};

}  // namespace clr::cpu_impl
