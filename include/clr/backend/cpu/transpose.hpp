// A 16 × 16 block of floats transposed in registers: the copies between the channels-first
// layout of the activations [channel][position] and the channels-last layout of
// winograd_channels_last.hpp [position][channel]. Element by element, that copy is a store
// (or a load) at a stride of a whole row per float, which took half of that convolution's
// input transform (perf annotate); here it is 16 vector loads, 64 two-source shuffles and 16
// vector stores. Written with vector extensions (__builtin_shufflevector: GCC ≥ 12, Clang),
// so the same code compiles at any instruction-set width, as SmallGemm's.
#pragma once

namespace clr::cpu_impl {

struct Transpose16 {
  static constexpr int kSize = 16;

  // out[j][i] = in[i][j] for i, j < 16: row i read from rows[i], row j written to out[j]
  // (any addresses, unaligned).
  static void block(const float* const (&rows)[kSize], float* const (&out)[kSize]) {
    Vector v[kSize];
    for (int i = 0; i < kSize; ++i) __builtin_memcpy(&v[i], rows[i], sizeof(Vector));
    // Four rounds swap the off-diagonal sub-blocks of side s = 1, 2, 4, 8 between rows i and
    // i + s: after all four, element (i, j) has moved to (j, i).
    swap_round<1>(v);
    swap_round<2>(v);
    swap_round<4>(v);
    swap_round<8>(v);
    for (int j = 0; j < kSize; ++j) __builtin_memcpy(out[j], &v[j], sizeof(Vector));
  }

  // dst_row(j)[i] = src_row(i)[j] for i < rows, j < columns: row i of the source starts at
  // src_row(i), row j of the result at dst_row(j). In 16 × 16 blocks, the edges one by one.
  template <class Source, class Destination>
  static void matrix(int rows, int columns, Source src_row, Destination dst_row) {
    const int full_rows = rows / kSize * kSize, full_columns = columns / kSize * kSize;
    for (int i0 = 0; i0 < full_rows; i0 += kSize) {
      const float* from[kSize];
      for (int i = 0; i < kSize; ++i) from[i] = src_row(i0 + i);
      for (int j0 = 0; j0 < full_columns; j0 += kSize) {
        const float* in[kSize];
        float* out[kSize];
        for (int i = 0; i < kSize; ++i) in[i] = from[i] + j0;
        for (int j = 0; j < kSize; ++j) out[j] = dst_row(j0 + j) + i0;
        block(in, out);
      }
      for (int j = full_columns; j < columns; ++j) {
        float* out = dst_row(j) + i0;
        for (int i = 0; i < kSize; ++i) out[i] = from[i][j];
      }
    }
    for (int i = full_rows; i < rows; ++i) {
      const float* from = src_row(i);
      for (int j = 0; j < columns; ++j) dst_row(j)[i] = from[j];
    }
  }

 private:
  using Vector = float __attribute__((vector_size(kSize * sizeof(float))));

  // Rows a (bit s of its index clear) and b = a + s: a keeps its elements whose column has bit
  // s clear and takes b's from s columns before; b keeps those with bit s set and takes a's
  // from s columns after.
  template <int s>
  static void swap_round(Vector (&v)[kSize]) {
    for (int i = 0; i < kSize; ++i) {
      if (i & s) continue;
      const Vector a = v[i], b = v[i + s];
      if constexpr (s == 1) {
        v[i] = __builtin_shufflevector(a, b, 0, 16, 2, 18, 4, 20, 6, 22, 8, 24, 10, 26, 12, 28, 14,
                                       30);
        v[i + s] = __builtin_shufflevector(a, b, 1, 17, 3, 19, 5, 21, 7, 23, 9, 25, 11, 27, 13, 29,
                                           15, 31);
      } else if constexpr (s == 2) {
        v[i] =
            __builtin_shufflevector(a, b, 0, 1, 16, 17, 4, 5, 20, 21, 8, 9, 24, 25, 12, 13, 28, 29);
        v[i + s] = __builtin_shufflevector(a, b, 2, 3, 18, 19, 6, 7, 22, 23, 10, 11, 26, 27, 14, 15,
                                           30, 31);
      } else if constexpr (s == 4) {
        v[i] =
            __builtin_shufflevector(a, b, 0, 1, 2, 3, 16, 17, 18, 19, 8, 9, 10, 11, 24, 25, 26, 27);
        v[i + s] = __builtin_shufflevector(a, b, 4, 5, 6, 7, 20, 21, 22, 23, 12, 13, 14, 15, 28, 29,
                                           30, 31);
      } else {
        v[i] =
            __builtin_shufflevector(a, b, 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23);
        v[i + s] = __builtin_shufflevector(a, b, 8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28,
                                           29, 30, 31);
      }
    }
  }
};

}  // namespace clr::cpu_impl
