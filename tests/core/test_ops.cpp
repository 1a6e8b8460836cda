#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "support/backends.hpp"
#include "support/gradcheck.hpp"
#include "support/random.hpp"

using clr::ConstMatrixRef;
using clr::MatrixRef;
using clr::Tensor;

namespace {

// Reference product of logical matrices read through possibly transposed, strided views.
std::vector<double> naive_product(const std::vector<float>& a, ConstMatrixRef av,
                                  const std::vector<float>& b, ConstMatrixRef bv) {
  auto at = [](const std::vector<float>& m, ConstMatrixRef v, int r, int c) {
    return v.transposed ? m[c * v.ld + r] : m[r * v.ld + c];
  };
  std::vector<double> out(av.rows * bv.cols, 0.0);
  for (int i = 0; i < av.rows; ++i)
    for (int j = 0; j < bv.cols; ++j)
      for (int k = 0; k < av.cols; ++k)
        out[i * bv.cols + j] += double(at(a, av, i, k)) * at(b, bv, k, j);
  return out;
}

}  // namespace

TEST_CASE_TEMPLATE("ops::gemm: every transpose, strided operands, alpha and beta", B,
                   CLR_TEST_BACKENDS) {
  CLR_SKIP_WITHOUT_DEVICE(B);
  const int m = 5, n = 7, k = 3, pad = 2;
  for (bool ta : {false, true}) {
    for (bool tb : {false, true}) {
      CAPTURE(ta);
      CAPTURE(tb);
      const int a_rows = ta ? k : m, a_cols = ta ? m : k;
      const int b_rows = tb ? n : k, b_cols = tb ? k : n;
      const auto a = clr::testing::normal_values(a_rows * (a_cols + pad), 1);
      const auto b = clr::testing::normal_values(b_rows * (b_cols + pad), 2);
      const auto c0 = clr::testing::normal_values(m * (n + pad), 3);
      auto ta_ = Tensor<B>::from(a, {a_rows, a_cols + pad});
      auto tb_ = Tensor<B>::from(b, {b_rows, b_cols + pad});
      auto tc = Tensor<B>::from(c0, {m, n + pad});
      ConstMatrixRef av{ta_.data(), a_rows, a_cols, a_cols + pad, false};
      ConstMatrixRef bv{tb_.data(), b_rows, b_cols, b_cols + pad, false};
      if (ta) av = av.t();
      if (tb) bv = bv.t();
      clr::ops::gemm<B>(av, bv, MatrixRef{tc.data(), m, n, n + pad}, 0.5f, 2.0f);
      const auto expected = naive_product(a, av, b, bv);
      const auto got = tc.to_vector();
      for (int i = 0; i < m; ++i) {
        for (int j = 0; j < n; ++j)
          CHECK(got[i * (n + pad) + j] ==
                doctest::Approx(0.5 * expected[i * n + j] + 2.0 * c0[i * (n + pad) + j])
                    .epsilon(1e-5));
        for (int j = n; j < n + pad; ++j) CHECK(got[i * (n + pad) + j] == c0[i * (n + pad) + j]);
      }
    }
  }
  Tensor<B> a({2, 3}), b({2, 3}), c({2, 2});
  CHECK_THROWS_WITH_AS(clr::ops::gemm<B>(a.matrix(), b.matrix(), c.matrix()),
                       doctest::Contains("[2, 3] x [2, 3] -> [2, 2]"), clr::Error);
}

TEST_CASE_TEMPLATE("ops: fill, scale, axpy and sum", B, CLR_TEST_BACKENDS) {
  CLR_SKIP_WITHOUT_DEVICE(B);
  Tensor<B> y({1000});
  clr::ops::fill(y, 1.5f);
  auto x = Tensor<B>::from(clr::testing::normal_values(1000, 4), {1000});
  clr::ops::axpy(y, x, 2.0f);
  clr::ops::scale(y, 0.5f);
  double expected = 0.0;
  for (float v : x.to_vector()) expected += 0.5 * (1.5 + 2.0 * v);
  CHECK(clr::ops::sum(y) == doctest::Approx(expected).epsilon(1e-5));
  CHECK_THROWS_AS(clr::ops::axpy(y, Tensor<B>({999}), 1.0f), clr::Error);
}

// Past the size at which the CPU shares elementwise passes out over its threads: every
// element is computed once, whatever the length's remainder after the threads' blocks.
TEST_CASE_TEMPLATE("ops: scale and axpy on long arrays, every element", B, CLR_TEST_BACKENDS) {
  CLR_SKIP_WITHOUT_DEVICE(B);
  for (int n : {(1 << 15) + 13, 3 * (1 << 15) + 5}) {
    CAPTURE(n);
    const auto x0 = clr::testing::normal_values(n, 5), y0 = clr::testing::normal_values(n, 6);
    auto y = Tensor<B>::from(y0, {n});
    clr::ops::axpy(y, Tensor<B>::from(x0, {n}), -3.0f);
    clr::ops::scale(y, 0.25f);
    const auto got = y.to_vector();
    int wrong = 0;
    for (int i = 0; i < n; ++i) wrong += got[i] != (y0[i] + -3.0f * x0[i]) * 0.25f;
    CHECK(wrong == 0);
  }
}

TEST_CASE_TEMPLATE("ops::softmax_rows: rows sum to one and keep their order", B,
                   CLR_TEST_BACKENDS) {
  CLR_SKIP_WITHOUT_DEVICE(B);
  const std::vector<float> values = {1, 2, 3, 1000, 1001, 999};  // large: needs the max shift
  auto x = Tensor<B>::from(values, {2, 3});
  clr::ops::softmax_rows(x);
  const auto p = x.to_vector();
  const double z = std::exp(-2.0) + std::exp(-1.0) + 1.0;
  CHECK(p[0] == doctest::Approx(std::exp(-2.0) / z));
  CHECK(p[2] == doctest::Approx(1.0 / z));
  CHECK(p[3] == doctest::Approx(std::exp(-1.0) / z));
  CHECK(p[4] == doctest::Approx(1.0 / z));
}

TEST_CASE_TEMPLATE("softmax_stats_rows: argmax and entropy over strided columns", B,
                   CLR_TEST_BACKENDS) {
  CLR_SKIP_WITHOUT_DEVICE(B);
  // Two rows of 6; the statistics read columns 1, 3, 5.
  const std::vector<float> values = {9, 0, 9, 2, 9, 1, 9, 3, 9, 3, 9, 3};
  auto x = Tensor<B>::from(values, {2, 6});
  clr::Buffer<B, int> argmax(2);
  clr::Buffer<B, float> entropy(2);
  B::softmax_stats_rows(x.data() + 1, 2, 3, 6, 2, argmax.data(), entropy.data());
  const auto best = argmax.to_vector();
  const auto h = entropy.to_vector();
  CHECK(best[0] == 1);
  const double z = 1 + std::exp(2.0) + std::exp(1.0);
  double expected = 0;
  for (double s : {0.0, 2.0, 1.0}) expected -= std::exp(s) / z * std::log(std::exp(s) / z + 1e-8);
  CHECK(h[0] == doctest::Approx(expected).epsilon(1e-5));
  CHECK(h[1] == doctest::Approx(std::log(3.0)).epsilon(1e-5));
}

TEST_CASE_TEMPLATE("ops::l2_normalize_rows: unit rows and an exact gradient", B,
                   CLR_TEST_BACKENDS) {
  CLR_SKIP_WITHOUT_DEVICE(B);
  const int rows = 4, dim = 6;
  const auto values = clr::testing::normal_values(rows * dim, 5);
  Tensor<B> norms;
  const auto x = Tensor<B>::from(values, {rows, dim});
  const auto y = clr::ops::l2_normalize_rows(x, norms);
  const auto yv = y.to_vector();
  for (int r = 0; r < rows; ++r) {
    double sq = 0;
    for (int j = 0; j < dim; ++j) sq += double(yv[r * dim + j]) * yv[r * dim + j];
    CHECK(sq == doctest::Approx(1.0).epsilon(1e-6));
  }
  // f(x) = <w, normalize(x)> for a fixed w: its gradient is the backward of w.
  const auto w = clr::testing::normal_values(rows * dim, 6);
  const auto dx = clr::ops::l2_normalize_rows_backward(y, Tensor<B>::from(w, {rows, dim}), norms);
  auto f = [&](const std::vector<float>& input) {
    Tensor<B> n;
    const auto out =
        clr::ops::l2_normalize_rows(Tensor<B>::from(input, {rows, dim}), n).to_vector();
    double value = 0;
    for (int i = 0; i < rows * dim; ++i) value += double(w[i]) * out[i];
    return value;
  };
  CHECK(clr::testing::gradient_error(f, values, dx.to_vector(), {.step = 1e-2}) < 2e-3);
}
