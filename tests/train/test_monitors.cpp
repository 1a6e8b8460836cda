// The monitors a training run prints: kNN accuracy, contrastive accuracy, feature spread.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "clr/train/knn.hpp"
#include "clr/train/representation_stats.hpp"
#include "support/backends.hpp"
#include "support/random.hpp"

using clr::Tensor;

TEST_CASE_TEMPLATE("knn_accuracy: weighted votes of the nearest bank rows", B, CLR_TEST_BACKENDS) {
  CLR_SKIP_WITHOUT_DEVICE(B);
  // Bank on the unit circle: class 0 near angle 0, class 1 near angle pi/2.
  const auto bank =
      Tensor<B>::from(std::vector<float>{1, 0, 0.9f, 0.1f, 0, 1, 0.1f, 0.9f, 0.2f, 1}, {5, 2});
  const std::vector<int> bank_labels = {0, 0, 1, 1, 1};
  const auto queries = Tensor<B>::from(std::vector<float>{2, 0.1f, 0.1f, 3, 1, 1.05f}, {3, 2});
  using clr::train::knn_accuracy;
  // k = 1: nearest neighbour decides; the third query (angle just above 45°) is nearer class 1.
  CHECK(knn_accuracy(bank, bank_labels, queries, std::vector<int>{0, 1, 1}, 2, {.k = 1}) ==
        doctest::Approx(1.0));
  CHECK(knn_accuracy(bank, bank_labels, queries, std::vector<int>{0, 1, 0}, 2, {.k = 1}) ==
        doctest::Approx(2.0 / 3));
  // k = 5, every row votes: class 1 has three votes but the weights exp(s/T) with a small T
  // let the two very close class-0 rows win for the first query.
  CHECK(knn_accuracy(bank, bank_labels, queries, std::vector<int>{0, 1, 1}, 2,
                     {.k = 5, .temperature = 0.05f}) == doctest::Approx(1.0));
  // A large T makes the votes nearly equal: the majority (class 1) wins everywhere.
  CHECK(knn_accuracy(bank, bank_labels, queries, std::vector<int>{1, 1, 1}, 2,
                     {.k = 5, .temperature = 100.0f}) == doctest::Approx(1.0));
  CHECK_THROWS_AS(knn_accuracy(bank, std::vector<int>{0, 1}, queries, std::vector<int>{0, 1, 1}, 2),
                  clr::Error);
}

TEST_CASE_TEMPLATE("knn_accuracy: separable clusters, chunked queries", B, CLR_TEST_BACKENDS) {
  CLR_SKIP_WITHOUT_DEVICE(B);
  const int classes = 4, per_class = 30, dim = 8;
  std::vector<float> values;
  std::vector<int> labels;
  const auto noise = clr::testing::normal_values(classes * per_class * dim, 3);
  for (int c = 0; c < classes; ++c)
    for (int i = 0; i < per_class; ++i) {
      for (int d = 0; d < dim; ++d)
        values.push_back((d == c ? 4.0f : 0.0f) + 0.3f * noise[values.size()]);
      labels.push_back(c);
    }
  const auto features = Tensor<B>::from(values, {classes * per_class, dim});
  CHECK(clr::train::knn_accuracy(features, labels, features, labels, classes,
                                 {.k = 10, .query_chunk = 7}) == doctest::Approx(1.0));
  std::vector<int> shuffled = labels;
  for (int& l : shuffled) l = (l + 1) % classes;
  CHECK(clr::train::knn_accuracy(features, labels, features, shuffled, classes, {.k = 10}) ==
        doctest::Approx(0.0));
}

TEST_CASE_TEMPLATE("contrastive_accuracy and feature_spread", B, CLR_TEST_BACKENDS) {
  CLR_SKIP_WITHOUT_DEVICE(B);
  // Three images, two views: images 0 and 1 have their views together, image 2's views
  // point apart and each is nearer image 0 / 1.
  const float r = std::sqrt(0.5f);
  const auto features = Tensor<B>::from(
      std::vector<float>{1, 0, 0.99f, 0.141f, 0, 1, 0.141f, 0.99f, r, -r, -r, r}, {3, 2, 2});
  using clr::train::contrastive_accuracy;
  CHECK(contrastive_accuracy(features) == doctest::Approx(4.0 / 6));
  // With labels {0, 1, 0}: row 4 (image 2, view 0) is nearest image 0's rows, a positive.
  CHECK(contrastive_accuracy(features, std::vector<int>{0, 1, 0}) == doctest::Approx(5.0 / 6));

  const auto same = Tensor<B>::from(std::vector<float>(6 * 4, 0.5f), {3, 2, 4});
  CHECK(clr::train::feature_spread(same) == doctest::Approx(0.0));
  // Random unit vectors in 64 dimensions: each coordinate has std about 1/8.
  const int n = 2000, dim = 64;
  auto values = clr::testing::normal_values(n * dim, 9);
  Tensor<B> norms;
  const auto unit = clr::ops::l2_normalize_rows(Tensor<B>::from(values, {n, dim}), norms);
  CHECK(clr::train::feature_spread(unit) == doctest::Approx(0.125).epsilon(0.03));
}
