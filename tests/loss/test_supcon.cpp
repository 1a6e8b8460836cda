// Properties of the SupCon family: exact gradients, invariances, tiling, policies, errors.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "support/backends.hpp"
#include "support/gradcheck.hpp"
#include "support/random.hpp"

using clr::Tensor;
using clr::loss::ContrastMode;
using clr::loss::SupCon;

namespace {

// Gradients computed along two float32 paths (another tile size, another order) agree to
// rounding: 1e-4 of the largest component.
void check_same_gradient(const std::vector<float>& got, const std::vector<float>& expected) {
  REQUIRE(got.size() == expected.size());
  float largest = 0, worst = 0;
  for (std::size_t i = 0; i < got.size(); ++i) {
    largest = std::max(largest, std::abs(expected[i]));
    worst = std::max(worst, std::abs(got[i] - expected[i]));
  }
  CHECK(largest > 0);
  CHECK(worst <= 1e-4f * largest);
}

std::vector<int> labels_of(int bsz, int classes) {
  std::vector<int> labels(bsz);
  for (int i = 0; i < bsz; ++i) labels[i] = (i * 7 + 3) % classes;
  return labels;
}

}  // namespace

TEST_CASE_TEMPLATE("SupCon: the gradient matches finite differences", B, CLR_TEST_BACKENDS) {
  CLR_SKIP_WITHOUT_DEVICE(B);
  struct Case {
    const char* supervision;
    int views;
    ContrastMode mode;
    float temperature;
  };
  for (const Case c :
       {Case{"labels", 2, ContrastMode::all, 0.5f}, Case{"none", 3, ContrastMode::one, 0.5f},
        Case{"mask", 2, ContrastMode::all, 0.2f}, Case{"labels", 1, ContrastMode::all, 0.5f},
        Case{"labels", 3, ContrastMode::one, 0.2f}}) {
    CAPTURE(c.supervision);
    CAPTURE(c.views);
    const int bsz = 6, dim = 5;
    SupCon<B> loss(
        {.temperature = c.temperature, .base_temperature = 0.07f, .contrast_mode = c.mode});
    const auto labels = labels_of(bsz, 3);
    std::vector<float> mask_values(bsz * bsz);
    for (int i = 0; i < bsz * bsz; ++i) mask_values[i] = float((i * 5) % 3 == 0);
    const auto mask = Tensor<B>::from(mask_values, {bsz, bsz});
    auto evaluate = [&](const std::vector<float>& x) {
      const auto features = Tensor<B>::from(x, {bsz, c.views, dim});
      const std::string s = c.supervision;
      return double(s == "labels" ? loss.forward(features, labels)
                    : s == "mask" ? loss.forward_mask(features, mask)
                                  : loss.forward(features));
    };
    const auto x = clr::testing::unit_rows(bsz * c.views, dim, 11);
    evaluate(x);
    const auto gradient = loss.backward().to_vector();
    CHECK(clr::testing::gradient_error(evaluate, x, gradient, {.step = 1e-3}) < 1e-2);
  }
}

TEST_CASE_TEMPLATE("SupCon: permuting the batch permutes the gradient", B, CLR_TEST_BACKENDS) {
  CLR_SKIP_WITHOUT_DEVICE(B);
  const int bsz = 9, views = 2, dim = 8, row = views * dim;
  const auto x = clr::testing::unit_rows(bsz * views, dim, 3);
  const auto labels = labels_of(bsz, 4);
  const std::vector<int> order = {4, 0, 8, 2, 7, 1, 3, 6, 5};
  std::vector<float> permuted_x(x.size());
  std::vector<int> permuted_labels(bsz);
  for (int i = 0; i < bsz; ++i) {
    std::copy_n(x.begin() + order[i] * row, row, permuted_x.begin() + i * row);
    permuted_labels[i] = labels[order[i]];
  }
  SupCon<B> loss;
  const float value = loss.forward(Tensor<B>::from(x, {bsz, views, dim}), labels);
  const auto gradient = loss.backward().to_vector();
  const float permuted_value =
      loss.forward(Tensor<B>::from(permuted_x, {bsz, views, dim}), permuted_labels);
  const auto permuted_gradient = loss.backward().to_vector();
  CHECK(permuted_value == doctest::Approx(value).epsilon(1e-6));
  std::vector<float> expected(gradient.size());
  for (int i = 0; i < bsz; ++i)
    std::copy_n(gradient.begin() + order[i] * row, row, expected.begin() + i * row);
  check_same_gradient(permuted_gradient, expected);
}

TEST_CASE_TEMPLATE("SupCon: identical features give (T/base_T) ln(N - 1) and no gradient", B,
                   CLR_TEST_BACKENDS) {
  CLR_SKIP_WITHOUT_DEVICE(B);
  // Every logit equal: each of the N - 1 non-self columns has probability 1 / (N - 1),
  // whatever the labels. This is the value a collapsed encoder is pinned at.
  const int bsz = 8, views = 2, dim = 4;
  std::vector<float> x(bsz * views * dim, 0.0f);
  for (int r = 0; r < bsz * views; ++r) x[r * dim + 1] = 1.0f;
  const auto features = Tensor<B>::from(x, {bsz, views, dim});
  SupCon<B> loss({.temperature = 0.1f, .base_temperature = 0.07f});
  const double expected = 0.1 / 0.07 * std::log(bsz * views - 1.0);
  CHECK(loss.forward(features) == doctest::Approx(expected).epsilon(1e-6));
  CHECK(loss.forward(features, std::vector<int>(bsz, 3)) ==
        doctest::Approx(expected).epsilon(1e-6));
  // One class everywhere: with distinct features every other row is a positive.
  const auto spread =
      Tensor<B>::from(clr::testing::unit_rows(bsz * views, dim, 2), {bsz, views, dim});
  const float one_class = loss.forward(spread, std::vector<int>(bsz, 0));
  std::vector<float> all_ones(bsz * bsz, 1.0f);
  CHECK(loss.forward_mask(spread, Tensor<B>::from(all_ones, {bsz, bsz})) ==
        doctest::Approx(one_class).epsilon(1e-6));
}

TEST_CASE_TEMPLATE("SupCon: labels, the equivalent mask and SimCLR's identity mask agree", B,
                   CLR_TEST_BACKENDS) {
  CLR_SKIP_WITHOUT_DEVICE(B);
  const int bsz = 10, views = 3, dim = 6;
  const auto features =
      Tensor<B>::from(clr::testing::unit_rows(bsz * views, dim, 5), {bsz, views, dim});
  const auto labels = labels_of(bsz, 3);
  std::vector<float> same(bsz * bsz), identity(bsz * bsz, 0.0f);
  for (int i = 0; i < bsz; ++i) {
    identity[i * bsz + i] = 1.0f;
    for (int j = 0; j < bsz; ++j) same[i * bsz + j] = float(labels[i] == labels[j]);
  }
  for (ContrastMode mode : {ContrastMode::all, ContrastMode::one}) {
    SupCon<B> loss({.contrast_mode = mode});
    const float by_labels = loss.forward(features, labels);
    const auto labels_gradient = loss.backward().to_vector();
    CHECK(loss.forward_mask(features, Tensor<B>::from(same, {bsz, bsz})) ==
          doctest::Approx(by_labels).epsilon(1e-6));
    check_same_gradient(loss.backward().to_vector(), labels_gradient);
    const float simclr = loss.forward(features);
    CHECK(loss.forward_mask(features, Tensor<B>::from(identity, {bsz, bsz})) ==
          doctest::Approx(simclr).epsilon(1e-6));
  }
}

TEST_CASE_TEMPLATE("SupCon: the tiled result equals the untiled one for any tile size", B,
                   CLR_TEST_BACKENDS) {
  CLR_SKIP_WITHOUT_DEVICE(B);
  const int bsz = 37, views = 2, dim = 16;
  const auto features =
      Tensor<B>::from(clr::testing::unit_rows(bsz * views, dim, 8), {bsz, views, dim});
  const auto labels = labels_of(bsz, 5);
  for (ContrastMode mode : {ContrastMode::all, ContrastMode::one}) {
    SupCon<B> whole({.contrast_mode = mode, .tile_rows = bsz * views});
    const float expected = whole.forward(features, labels);
    const auto expected_gradient = whole.backward().to_vector();
    for (int tile : {1, 3, 16, 50}) {
      CAPTURE(tile);
      SupCon<B> tiled({.contrast_mode = mode, .tile_rows = tile});
      CHECK(tiled.forward(features, labels) == doctest::Approx(expected).epsilon(1e-6));
      check_same_gradient(tiled.backward().to_vector(), expected_gradient);
    }
  }
}

TEST_CASE_TEMPLATE("SupCon: anchors without positives count as 0, or are skipped", B,
                   CLR_TEST_BACKENDS) {
  CLR_SKIP_WITHOUT_DEVICE(B);
  // One view: anchors 0 and 1 share label 5; every other anchor is alone in its class.
  const int bsz = 5, dim = 4;
  const auto features = Tensor<B>::from(clr::testing::unit_rows(bsz, dim, 9), {bsz, 1, dim});
  const std::vector<int> labels = {5, 5, 1, 2, 3};
  SupCon<B> kept;
  SupCon<B> skipped({.skip_anchors_without_positives = true});
  const float with_zeros = kept.forward(features, labels);
  const float without = skipped.forward(features, labels);
  CHECK(kept.anchors_without_positives() == 3);
  CHECK(skipped.anchors_without_positives() == 3);
  CHECK(std::isfinite(with_zeros));
  CHECK(with_zeros == doctest::Approx(without * 2.0f / 5.0f).epsilon(1e-6));
  const auto gradient = kept.backward().to_vector();
  for (float g : gradient) CHECK(std::isfinite(g));
}

TEST_CASE_TEMPLATE("SupCon: no NaN or Inf at T = 0.01, even for opposite features", B,
                   CLR_TEST_BACKENDS) {
  CLR_SKIP_WITHOUT_DEVICE(B);
  // Anchor rows and their negatives point in opposite directions: logits differ by 2 / T =
  // 200, so exp underflows unless the self-excluded row maximum is subtracted.
  const int bsz = 4, views = 2, dim = 2;
  std::vector<float> x;
  for (int i = 0; i < bsz * views; ++i) {
    const float sign = (i / views) % 2 ? -1.0f : 1.0f;
    x.insert(x.end(), {sign, 0.0f});
  }
  SupCon<B> loss({.temperature = 0.01f, .base_temperature = 0.07f});
  const auto features = Tensor<B>::from(x, {bsz, views, dim});
  const std::vector<int> labels = {0, 1, 2, 3};
  CHECK(std::isfinite(loss.forward(features, labels)));
  for (float g : loss.backward().to_vector()) CHECK(std::isfinite(g));
  const auto random = Tensor<B>::from(clr::testing::unit_rows(64 * 2, 32, 4), {64, 2, 32});
  CHECK(std::isfinite(loss.forward(random)));
  for (float g : loss.backward().to_vector()) CHECK(std::isfinite(g));
}

TEST_CASE_TEMPLATE("SupCon: compile-time policies", B, CLR_TEST_BACKENDS) {
  CLR_SKIP_WITHOUT_DEVICE(B);
  using namespace clr::loss;
  using Fixed = SupCon<B, Supervised, ContrastOne, Views<2>>;
  static_assert(
      !requires(Fixed l, const Tensor<B>& f) { l.forward(f); }, "a Supervised loss takes labels");
  static_assert(requires(SimCLR<B> l, const Tensor<B>& f) { l.forward(f); });
  static_assert(
      !requires(SimCLR<B> l, const Tensor<B>& f, std::vector<int> y) { l.forward(f, y); });

  const int bsz = 6, dim = 4;
  const auto labels = labels_of(bsz, 2);
  const auto two = Tensor<B>::from(clr::testing::unit_rows(bsz * 2, dim, 1), {bsz, 2, dim});
  Fixed fixed({.contrast_mode = ContrastMode::one});
  SupCon<B> runtime({.contrast_mode = ContrastMode::one});
  CHECK(fixed.forward(two, labels) == doctest::Approx(runtime.forward(two, labels)).epsilon(1e-7));
  const auto three = Tensor<B>::from(clr::testing::unit_rows(bsz * 3, dim, 1), {bsz, 3, dim});
  CHECK_THROWS_WITH_AS(fixed.forward(three, labels), doctest::Contains("built for Views<2>"),
                       clr::Error);
  CHECK_THROWS_WITH_AS(Fixed({.contrast_mode = ContrastMode::all}),
                       doctest::Contains("contradicts"), clr::Error);
}

TEST_CASE_TEMPLATE("SupCon: bad arguments raise clr::Error naming them", B, CLR_TEST_BACKENDS) {
  CLR_SKIP_WITHOUT_DEVICE(B);
  using clr::Error;
  SupCon<B> loss;
  const auto features = Tensor<B>::from(clr::testing::unit_rows(8, 4, 1), {4, 2, 4});
  CHECK_THROWS_WITH_AS(
      loss.forward(features.reshape({8, 4})),
      doctest::Contains("features must be [bsz, n_views, dim] (rank 3), got shape [8, 4]"), Error);
  CHECK_THROWS_WITH_AS(loss.forward(features, std::vector<int>{1, 2, 3}),
                       doctest::Contains("labels has 3 entries, expected bsz = 4"), Error);
  CHECK_THROWS_WITH_AS(loss.forward_mask(features, Tensor<B>({4, 3})),
                       doctest::Contains("mask has shape [4, 3], expected [bsz, bsz] = [4, 4]"),
                       Error);
  CHECK_THROWS_WITH_AS(SupCon<B>({.temperature = 0.0f}), doctest::Contains("temperature"), Error);
  CHECK_THROWS_WITH_AS(SupCon<B>({.temperature = 0.1f, .base_temperature = -1.0f}),
                       doctest::Contains("base_temperature"), Error);
  CHECK_THROWS_WITH_AS(SupCon<B>().backward(), doctest::Contains("call forward first"), Error);
  std::vector<float> bad = clr::testing::unit_rows(8, 4, 1);
  bad[3] = std::nanf("");
  CHECK_THROWS_WITH_AS(loss.forward(Tensor<B>::from(bad, {4, 2, 4})),
                       doctest::Contains("not finite"), Error);
}
