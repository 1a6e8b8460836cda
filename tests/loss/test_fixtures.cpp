// The losses against reference values written by fixtures/make_fixtures.py (PyTorch,
// float64, SupContrast's SupConLoss and simclr's add_contrastive_loss).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "support/backends.hpp"
#include "support/json.hpp"

using clr::Tensor;
using clr::testing::Json;

namespace {

std::vector<Json> fixtures(const std::string& kind) {
  return clr::testing::fixtures_of_kind(CLR_FIXTURE_DIR, kind);
}

// |got - expected| <= 1e-5 (1 + |expected|): 1e-5 absolute near zero, relative above one.
void check_close(const std::vector<float>& got, const std::vector<double>& expected) {
  REQUIRE(got.size() == expected.size());
  double worst = 0;
  for (std::size_t i = 0; i < got.size(); ++i)
    worst = std::max(worst, std::abs(got[i] - expected[i]) / (1.0 + std::abs(expected[i])));
  CHECK(worst <= 1e-5);
}

}  // namespace

TEST_CASE_TEMPLATE("SupCon matches SupContrast's SupConLoss on the fixtures", B,
                   CLR_TEST_BACKENDS) {
  CLR_SKIP_WITHOUT_DEVICE(B);
  const auto cases = fixtures("supcon");
  REQUIRE(cases.size() >= 12);
  for (const Json& c : cases) {
    CAPTURE(c["name"].string());
    const int bsz = static_cast<int>(c["bsz"].number());
    const int views = static_cast<int>(c["n_views"].number());
    const int dim = static_cast<int>(c["dim"].number());
    clr::loss::SupCon<B> loss(
        {.temperature = static_cast<float>(c["temperature"].number()),
         .base_temperature = static_cast<float>(c["base_temperature"].number()),
         .contrast_mode = c["contrast_mode"].string() == "one" ? clr::loss::ContrastMode::one
                                                               : clr::loss::ContrastMode::all});
    const auto features = Tensor<B>::from(c["features"].numbers<float>(), {bsz, views, dim});
    const std::string supervision = c["supervision"].string();
    float value = 0;
    if (supervision == "labels") {
      value = loss.forward(features, c["labels"].numbers<int>());
    } else if (supervision == "mask") {
      value = loss.forward_mask(features, Tensor<B>::from(c["mask"].numbers<float>(), {bsz, bsz}));
    } else {
      value = loss.forward(features);
    }
    check_close({value}, {c["loss"].number()});
    check_close(loss.backward().to_vector(), c["grad"].numbers<double>());
  }
}

TEST_CASE_TEMPLATE("NTXent matches simclr's add_contrastive_loss on the fixtures", B,
                   CLR_TEST_BACKENDS) {
  CLR_SKIP_WITHOUT_DEVICE(B);
  const auto cases = fixtures("ntxent");
  REQUIRE(cases.size() >= 3);
  for (const Json& c : cases) {
    CAPTURE(c["name"].string());
    const int bsz = static_cast<int>(c["bsz"].number());
    const int dim = static_cast<int>(c["dim"].number());
    clr::loss::NTXent<B> loss({.temperature = static_cast<float>(c["temperature"].number()),
                               .hidden_norm = c["hidden_norm"].boolean()});
    const auto hidden = Tensor<B>::from(c["features"].numbers<float>(), {bsz, 2, dim});
    const std::vector<float> weights =
        c.has("weights") ? c["weights"].numbers<float>() : std::vector<float>{};
    const auto result = loss.forward(hidden, weights);
    check_close({result.loss, result.accuracy, result.entropy},
                {c["loss"].number(), c["accuracy"].number(), c["entropy"].number()});
    check_close(loss.backward().to_vector(), c["grad"].numbers<double>());
  }
}
