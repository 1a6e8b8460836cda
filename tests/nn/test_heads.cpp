// Projection heads and the models: SupContrast's names, unit outputs, SimCLR v2's BN head.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "support/backends.hpp"
#include "support/layer_check.hpp"

using clr::Rng;
using clr::Tensor;
using namespace clr::nn;

namespace {
template <class L>
std::vector<std::string> names_of(L& layer) {
  std::vector<std::string> names;
  for (const auto& entry : clr::nn::state(layer)) names.push_back(entry.name);
  return names;
}
}  // namespace

TEST_CASE_TEMPLATE("Heads: SupContrast's linear and mlp heads, SimCLR v2's BN head", B,
                   CLR_TEST_BACKENDS) {
  CLR_SKIP_WITHOUT_DEVICE(B);
  Rng rng(1);
  LinearHead<B> linear(16, 8, rng);
  CHECK(names_of(linear) == std::vector<std::string>{"weight", "bias"});
  MLPHead<B> mlp(16, 8, rng);
  CHECK(names_of(mlp) == std::vector<std::string>{"0.weight", "0.bias", "2.weight", "2.bias"});

  BNMLPHead<B> bn_head(16, 12, 8, 3, rng);
  const auto names = names_of(bn_head);
  CHECK(names.front() == "0.linear.weight");  // no bias: the BN that follows centres
  CHECK(std::find(names.begin(), names.end(), "0.bn.bias") != names.end());
  CHECK(std::find(names.begin(), names.end(), "2.bn.weight") != names.end());
  CHECK(std::find(names.begin(), names.end(), "2.bn.bias") == names.end());  // center = false
  CHECK(
      bn_head.forward(Tensor<B>::from(clr::testing::normal_values(6 * 16, 2), {6, 16}), Mode::train)
          .shape() == clr::Shape{6, 8});
  const auto errors =
      clr::testing::layer_gradient_error(bn_head, clr::testing::normal_values(6 * 16, 3), {6, 16},
                                         Mode::train, {.step = 3e-4, .kinks = true});
  CHECK(errors.input < 2e-2);
  CHECK(errors.parameters < 2e-2);
  CHECK_THROWS_AS(BNMLPHead<B>(16, 12, 8, 0, rng), clr::Error);
}

TEST_CASE_TEMPLATE("SupConModel: encoder + head + L2Normalize, keys encoder.* and head.*", B,
                   CLR_TEST_BACKENDS) {
  CLR_SKIP_WITHOUT_DEVICE(B);
  Rng rng(2);
  ResNet18<B> encoder(rng, {.in_channels = 1, .width = 0.125f});
  const int dim = encoder.feature_dim();
  SupConModel model(std::move(encoder), MLPHead<B>(dim, 16, rng));
  const auto names = names_of(model);
  CHECK(names.front() == "encoder.conv1.weight");
  CHECK(names[names.size() - 4] == "head.0.weight");
  CHECK(names.back() == "head.2.bias");

  const auto x = Tensor<B>::from(clr::testing::normal_values(4 * 28 * 28, 5), {4, 1, 28, 28});
  const auto z = model.forward(x, Mode::train).to_vector();
  REQUIRE(z.size() == 4 * 16);
  for (int r = 0; r < 4; ++r) {
    double sq = 0;
    for (int j = 0; j < 16; ++j) sq += double(z[r * 16 + j]) * z[r * 16 + j];
    CHECK(sq == doctest::Approx(1.0).epsilon(1e-5));
  }
  CHECK(model.encode(x, Mode::eval).shape() == clr::Shape{4, dim});
  const auto dx = model.backward(Tensor<B>::from(clr::testing::normal_values(4 * 16, 6), {4, 16}));
  CHECK(dx.shape() == x.shape());

  LinearClassifier<B> classifier(dim, 10, rng);
  CHECK(names_of(classifier) == std::vector<std::string>{"fc.weight", "fc.bias"});
}
