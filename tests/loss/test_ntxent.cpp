// NT-Xent (simclr's add_contrastive_loss): gradients through hidden_norm and weights, its
// relation to SupCon, its metrics and its errors.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "support/backends.hpp"
#include "support/gradcheck.hpp"
#include "support/random.hpp"

using clr::Tensor;
using clr::loss::NTXent;

TEST_CASE_TEMPLATE("NTXent: the gradient matches finite differences", B, CLR_TEST_BACKENDS) {
  CLR_SKIP_WITHOUT_DEVICE(B);
  const int bsz = 6, dim = 5;
  const std::vector<float> weights = {1.0f, 0.5f, 0.0f, 2.0f, 1.0f, 0.25f};
  for (bool hidden_norm : {true, false}) {
    for (bool weighted : {false, true}) {
      CAPTURE(hidden_norm);
      CAPTURE(weighted);
      NTXent<B> loss({.temperature = 0.5f, .hidden_norm = hidden_norm});
      const std::vector<float> w = weighted ? weights : std::vector<float>{};
      auto evaluate = [&](const std::vector<float>& x) {
        return double(loss.forward(Tensor<B>::from(x, {bsz, 2, dim}), w).loss);
      };
      auto x = clr::testing::unit_rows(2 * bsz, dim, 21);
      if (hidden_norm)
        for (auto& v : x) v *= 2.5f;
      evaluate(x);
      CHECK(clr::testing::gradient_error(evaluate, x, loss.backward().to_vector()) < 1e-2);
    }
  }
}

TEST_CASE_TEMPLATE("NTXent: twice SimCLR at base_T = T, on unit rows", B, CLR_TEST_BACKENDS) {
  CLR_SKIP_WITHOUT_DEVICE(B);
  // simclr averages loss_a + loss_b over bsz; SupContrast averages over all 2 bsz anchors.
  const int bsz = 12, dim = 8;
  const auto hidden = Tensor<B>::from(clr::testing::unit_rows(2 * bsz, dim, 4), {bsz, 2, dim});
  NTXent<B> ntxent({.temperature = 0.2f, .hidden_norm = false});
  clr::loss::SimCLR<B> simclr({.temperature = 0.2f, .base_temperature = 0.2f});
  CHECK(ntxent.forward(hidden).loss == doctest::Approx(2.0 * simclr.forward(hidden)).epsilon(1e-6));
}

TEST_CASE_TEMPLATE("NTXent: perfect pairs give accuracy 1; weights of zero drop samples", B,
                   CLR_TEST_BACKENDS) {
  CLR_SKIP_WITHOUT_DEVICE(B);
  // Sample i's two views are the same basis vector e_i: each anchor's best match is its
  // positive.
  const int bsz = 4, dim = 4;
  std::vector<float> x(bsz * 2 * dim, 0.0f);
  for (int i = 0; i < bsz; ++i) x[(2 * i) * dim + i] = x[(2 * i + 1) * dim + i] = 3.0f;
  NTXent<B> loss({.temperature = 0.5f});
  const auto result = loss.forward(Tensor<B>::from(x, {bsz, 2, dim}));
  CHECK(result.accuracy == 1.0f);
  // One column at 1/T = 2, three at 0 for logits_ab.
  const double z = std::exp(2.0) + 3.0;
  double entropy = 0;
  for (double p : {std::exp(2.0) / z, 1 / z, 1 / z, 1 / z}) entropy -= p * std::log(p + 1e-8);
  CHECK(result.entropy == doctest::Approx(entropy).epsilon(1e-5));
  // Per-anchor loss: -log(e^2 / (e^2 + 2 (bsz - 1) e^0)) for both views.
  CHECK(result.loss ==
        doctest::Approx(2 * std::log((std::exp(2.0) + 6.0) / std::exp(2.0))).epsilon(1e-5));

  const auto hidden = Tensor<B>::from(clr::testing::unit_rows(2 * bsz, dim, 9), {bsz, 2, dim});
  const float full = loss.forward(hidden, std::vector<float>{1, 1, 1, 1}).loss;
  CHECK(full == doctest::Approx(loss.forward(hidden).loss).epsilon(1e-6));
  CHECK(loss.forward(hidden, std::vector<float>{0, 0, 0, 0}).loss == 0.0f);
  for (float g : loss.backward().to_vector()) CHECK(g == 0.0f);
}

TEST_CASE_TEMPLATE("NTXent: bad arguments raise clr::Error", B, CLR_TEST_BACKENDS) {
  CLR_SKIP_WITHOUT_DEVICE(B);
  NTXent<B> loss;
  const auto three_views = Tensor<B>::from(clr::testing::unit_rows(12, 4, 1), {4, 3, 4});
  CHECK_THROWS_WITH_AS(loss.forward(three_views), doctest::Contains("must be [bsz, 2, dim]"),
                       clr::Error);
  const auto hidden = Tensor<B>::from(clr::testing::unit_rows(8, 4, 1), {4, 2, 4});
  CHECK_THROWS_WITH_AS(loss.forward(hidden, std::vector<float>{1, 1}),
                       doctest::Contains("weights has 2 entries, expected bsz = 4"), clr::Error);
  CHECK_THROWS_AS(NTXent<B>({.temperature = -1.0f}), clr::Error);
}
