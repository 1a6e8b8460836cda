// Non-owning views of a row-major matrix inside backend memory: the shapes that GEMM and
// the row kernels take. A view may skip rows (ld > cols), which is how the loss reads
// "view 0 of every sample" out of [bsz, n_views, dim] without a copy.
#pragma once

namespace clr {

struct ConstMatrixRef {
  const float* data = nullptr;
  int rows = 0;  // logical rows, after any transpose
  int cols = 0;
  int ld = 0;  // distance between stored rows, in floats
  bool transposed = false;

  ConstMatrixRef t() const { return {data, cols, rows, ld, !transposed}; }
};

struct MatrixRef {
  float* data = nullptr;
  int rows = 0;
  int cols = 0;
  int ld = 0;

  operator ConstMatrixRef() const { return {data, rows, cols, ld, false}; }
  ConstMatrixRef t() const { return ConstMatrixRef(*this).t(); }
  MatrixRef middle_rows(int first, int count) const {
    return {data + static_cast<long>(first) * ld, count, cols, ld};
  }
};

inline ConstMatrixRef middle_rows(ConstMatrixRef m, int first, int count) {
  return {m.data + static_cast<long>(first) * m.ld, count, m.cols, m.ld, false};
}

}  // namespace clr
