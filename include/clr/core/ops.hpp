// clr::ops: the checked, backend-generic entry points to the primitives. Layers and
// losses call these; each checks shapes and throws clr::Error naming what is wrong, then
// hands raw pointers to the backend B.
#pragma once

#include <cstdint>

#include "clr/core/backend.hpp"
#include "clr/core/error.hpp"
#include "clr/core/matrix_ref.hpp"
#include "clr/core/tensor.hpp"

namespace clr::ops {

// c = alpha a b + beta c, where a and b may be transposed views (`m.t()`).
template <Backend B>
void gemm(ConstMatrixRef a, ConstMatrixRef b, MatrixRef c, float alpha = 1.0f, float beta = 0.0f) {
  require(a.cols == b.rows && c.rows == a.rows && c.cols == b.cols,
          "ops::gemm: shapes do not chain: [", a.rows, ", ", a.cols, "] x [", b.rows, ", ", b.cols,
          "] -> [", c.rows, ", ", c.cols, "]");
  B::gemm(a.transposed, b.transposed, c.rows, c.cols, a.cols, alpha, a.data, a.ld, b.data, b.ld,
          beta, c.data, c.ld);
}

template <Backend B>
void fill(Tensor<B>& y, float value) {
  if (!y.empty()) B::fill(y.data(), y.numel(), value);
}

template <Backend B>
void scale(Tensor<B>& y, float alpha) {
  if (!y.empty()) B::scale(y.data(), y.numel(), alpha);
}

// y += alpha x
template <Backend B>
void axpy(Tensor<B>& y, const Tensor<B>& x, float alpha) {
  require(x.shape() == y.shape(), "ops::axpy: x has shape ", x.shape(), ", y has shape ",
          y.shape());
  if (!y.empty()) B::axpy(y.data(), x.data(), y.numel(), alpha);
}

template <Backend B>
double sum(const Tensor<B>& x) {
  return x.empty() ? 0.0 : B::sum(x.data(), x.numel());
}

// Softmax of each row of x viewed as [shape[0], rest], in place.
template <Backend B>
void softmax_rows(Tensor<B>& x) {
  MatrixRef m = x.matrix();
  if (!x.empty()) B::softmax_rows(m.data, m.rows, m.cols, m.ld, nullptr);
}

// Rows of x viewed as [shape[0], rest] scaled to unit L2 norm (norm clamped at 1e-6);
// returns y and writes the norms that the backward pass needs.
template <Backend B>
Tensor<B> l2_normalize_rows(const Tensor<B>& x, Tensor<B>& norms) {
  const ConstMatrixRef m = x.matrix();
  Tensor<B> y = Tensor<B>::uninitialized(x.shape());
  norms = Tensor<B>::uninitialized({m.rows});
  if (!x.empty()) B::l2_normalize_rows(x.data(), y.data(), norms.data(), m.rows, m.cols);
  return y;
}

template <Backend B>
Tensor<B> l2_normalize_rows_backward(const Tensor<B>& y, const Tensor<B>& dy,
                                     const Tensor<B>& norms) {
  require(y.shape() == dy.shape(), "ops::l2_normalize_rows_backward: dy has shape ", dy.shape(),
          ", expected ", y.shape());
  const ConstMatrixRef m = y.matrix();
  require(norms.numel() == m.rows, "ops::l2_normalize_rows_backward: ", norms.numel(),
          " norms for ", m.rows, " rows");
  Tensor<B> dx = Tensor<B>::uninitialized(y.shape());
  if (!y.empty())
    B::l2_normalize_rows_backward(y.data(), dy.data(), norms.data(), dx.data(), m.rows, m.cols);
  return dx;
}

}  // namespace clr::ops
