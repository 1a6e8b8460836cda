// CrossEntropy against values computed by hand and finite differences; top-k accuracy.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "clr/loss/cross_entropy.hpp"
#include "support/backends.hpp"
#include "support/gradcheck.hpp"
#include "support/random.hpp"

using clr::Tensor;
using clr::loss::CrossEntropy;

TEST_CASE_TEMPLATE("CrossEntropy: value and gradient by hand", B, CLR_TEST_BACKENDS) {
  CLR_SKIP_WITHOUT_DEVICE(B);
  // Row 0: logits (1, 2, 3), label 2; row 1: (0, 0, 0), label 0.
  const auto logits = Tensor<B>::from(std::vector<float>{1, 2, 3, 0, 0, 0}, {2, 3});
  CrossEntropy<B> ce;
  const std::vector<int> labels = {2, 0};
  const double lse0 = std::log(std::exp(1.0) + std::exp(2.0) + std::exp(3.0));
  const double expected = ((lse0 - 3.0) + std::log(3.0)) / 2.0;
  CHECK(ce.forward(logits, labels) == doctest::Approx(expected).epsilon(1e-6));
  const auto grad = ce.backward().to_vector();
  const std::vector<double> want = {std::exp(1.0 - lse0) / 2,
                                    std::exp(2.0 - lse0) / 2,
                                    (std::exp(3.0 - lse0) - 1.0) / 2,
                                    (1.0 / 3 - 1.0) / 2,
                                    1.0 / 6,
                                    1.0 / 6};
  for (int i = 0; i < 6; ++i) CHECK(grad[i] == doctest::Approx(want[i]).epsilon(1e-6));
}

TEST_CASE_TEMPLATE("CrossEntropy: gradient matches finite differences, large logits stay finite", B,
                   CLR_TEST_BACKENDS) {
  CLR_SKIP_WITHOUT_DEVICE(B);
  const int n = 5, classes = 7;
  const std::vector<int> labels = {0, 6, 3, 3, 1};
  auto values = clr::testing::normal_values(n * classes, 11);
  CrossEntropy<B> ce;
  ce.forward(Tensor<B>::from(values, {n, classes}), labels);
  const auto analytic = ce.backward().to_vector();
  const auto error = clr::testing::gradient_error(
      [&](const std::vector<float>& z) {
        CrossEntropy<B> probe;
        return static_cast<double>(probe.forward(Tensor<B>::from(z, {n, classes}), labels));
      },
      values, analytic);
  CHECK(error < 1e-2);

  for (float& v : values) v *= 1e4f;  // exp would overflow without the row max
  CHECK(std::isfinite(ce.forward(Tensor<B>::from(values, {n, classes}), labels)));
}

TEST_CASE_TEMPLATE("CrossEntropy: errors name the argument", B, CLR_TEST_BACKENDS) {
  CLR_SKIP_WITHOUT_DEVICE(B);
  CrossEntropy<B> ce;
  const Tensor<B> logits({2, 3});
  CHECK_THROWS_WITH_AS(ce.backward(), doctest::Contains("call forward first"), clr::Error);
  CHECK_THROWS_WITH_AS(ce.forward(logits, std::vector<int>{0}),
                       doctest::Contains("1 labels for 2 rows"), clr::Error);
  CHECK_THROWS_WITH_AS(ce.forward(logits, std::vector<int>{0, 3}),
                       doctest::Contains("label 3 of row 1 is outside [0, 3)"), clr::Error);
}

TEST_CASE_TEMPLATE("top_k_correct counts labels among the k largest logits", B, CLR_TEST_BACKENDS) {
  CLR_SKIP_WITHOUT_DEVICE(B);
  const auto logits =
      Tensor<B>::from(std::vector<float>{0.1f, 0.5f, 0.2f, 0.9f,   // order 3, 1, 2, 0
                                         1.0f, 1.0f, 1.0f, 1.0f},  // ties: lower class first
                      {2, 4});
  using clr::loss::top_k_correct;
  CHECK(top_k_correct(logits, std::vector<int>{3, 0}, 1) == 2);
  CHECK(top_k_correct(logits, std::vector<int>{1, 1}, 1) == 0);
  CHECK(top_k_correct(logits, std::vector<int>{1, 1}, 2) == 2);
  CHECK(top_k_correct(logits, std::vector<int>{0, 3}, 3) == 0);
  CHECK(top_k_correct(logits, std::vector<int>{0, 3}, 4) == 2);
}
