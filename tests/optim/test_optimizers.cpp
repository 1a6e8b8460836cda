// SGD, LARS and AdamW on numbers worked out by hand: the update formulas, Nesterov momentum,
// weight decay and its per-kind exclusion, LARS's trust ratio and its bias / BatchNorm
// exclusion, zero weights and zero gradients; bad arguments; and training a Linear layer.
#include <doctest/doctest.h>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "optim/optim_test_util.hpp"
#include "support/backends.hpp"
#include "support/random.hpp"

using clr::Shape;
using clr::Tensor;
using clr::nn::ParameterKind;
using clr::testing::ParameterSet;
using namespace clr::optim;

namespace {

// Host floats against hand-computed values, to float32 rounding.
void check_values(const std::vector<float>& got, const std::vector<double>& expected) {
  REQUIRE(got.size() == expected.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    CAPTURE(i);
    CHECK(got[i] == doctest::Approx(expected[i]).epsilon(1e-6));
  }
}

template <clr::Backend B>
ParameterSet<B> one(const std::string& name, ParameterKind kind, std::vector<float> value,
                    std::vector<float> grad) {
  ParameterSet<B> set;
  const int n = static_cast<int>(value.size());
  set.add(name, kind, value, Shape{n});
  set.set_grad(0, grad);
  return set;
}

}  // namespace

TEST_CASE_TEMPLATE("SGD: weight decay folded into d, the buffer starts as d", B,
                   CLR_TEST_BACKENDS) {
  CLR_SKIP_WITHOUT_DEVICE(B);
  auto set = one<B>("w", ParameterKind::weight, {1.0f, -2.0f}, {0.5f, 0.25f});
  SGD<B> sgd(set.entries, {.lr = 0.1, .momentum = 0.9, .weight_decay = 0.1});
  // d = g + 0.1 p = [0.6, 0.05]; buf = d; p -= 0.1 d.
  sgd.step();
  check_values(set.value(0), {0.94, -2.005});
  // d = [0.594, 0.0495]; buf = 0.9 [0.6, 0.05] + d = [1.134, 0.0945]; p -= 0.1 buf.
  sgd.step();
  check_values(set.value(0), {0.8266, -2.01445});
}

TEST_CASE_TEMPLATE("SGD: Nesterov steps along d + momentum buf", B, CLR_TEST_BACKENDS) {
  CLR_SKIP_WITHOUT_DEVICE(B);
  auto set = one<B>("w", ParameterKind::weight, {1.0f}, {1.0f});
  SGD<B> sgd(set.entries, {.lr = 0.1, .momentum = 0.9, .weight_decay = 0.0, .nesterov = true});
  sgd.step();  // buf = 1, d = 1 + 0.9 = 1.9
  check_values(set.value(0), {0.81});
  sgd.step();  // buf = 1.9, d = 1 + 1.71 = 2.71
  check_values(set.value(0), {0.539});
}

TEST_CASE_TEMPLATE("SGD and AdamW: weight decay by kind, everything by default", B,
                   CLR_TEST_BACKENDS) {
  CLR_SKIP_WITHOUT_DEVICE(B);
  for (const bool exclude : {false, true}) {
    CAPTURE(exclude);
    ParameterSet<B> set;
    set.add("w", ParameterKind::weight, {1.0f}, Shape{1});
    set.add("b", ParameterKind::bias, {1.0f}, Shape{1});
    set.add("bn", ParameterKind::batch_norm, {1.0f}, Shape{1});
    SGD<B> sgd(set.entries, {.lr = 0.1,
                             .momentum = 0.0,
                             .weight_decay = 0.5,
                             .exclude_bias_and_bn_from_weight_decay = exclude});
    sgd.step();  // zero gradients: only the decay moves p, by lr wd p = 0.05
    check_values(set.value(0), {0.95});
    check_values(set.value(1), {exclude ? 1.0 : 0.95});
    check_values(set.value(2), {exclude ? 1.0 : 0.95});

    AdamW<B> adamw(
        set.entries,
        {.lr = 0.1, .weight_decay = 0.5, .exclude_bias_and_bn_from_weight_decay = exclude});
    adamw.step();  // p *= 1 - lr wd; zero gradients add nothing (0 / eps)
    check_values(set.value(0), {0.95 * 0.95});
    check_values(set.value(1), {exclude ? 1.0 : 0.95 * 0.95});
  }
}

TEST_CASE_TEMPLATE("AdamW: bias-corrected moments make a steady gradient step lr sign(g)", B,
                   CLR_TEST_BACKENDS) {
  CLR_SKIP_WITHOUT_DEVICE(B);
  auto set = one<B>("w", ParameterKind::weight, {1.0f, 1.0f, 0.0f}, {0.5f, -2.0f, 0.0f});
  AdamW<B> adamw(set.entries, {.lr = 0.1, .weight_decay = 0.1});
  // p *= 0.99; m / (1 - 0.9) = g and sqrt(v / (1 - 0.999)) = |g|, so p -= 0.1 g / |g|; the
  // zero gradient gives 0 / (0 + eps) = 0, not NaN.
  adamw.step();
  check_values(set.value(0), {0.89, 1.09, 0.0});
  adamw.step();  // the corrections at t = 2 still give m̂ = g, v̂ = g^2
  check_values(set.value(0), {0.89 * 0.99 - 0.1, 1.09 * 0.99 + 0.1, 0.0});
  CHECK(adamw.steps() == 2);
}

TEST_CASE_TEMPLATE("LARS: trust ratio eeta |p| / |g| scales the weights' learning rate", B,
                   CLR_TEST_BACKENDS) {
  CLR_SKIP_WITHOUT_DEVICE(B);
  auto set = one<B>("w", ParameterKind::weight, {3.0f, 4.0f}, {0.6f, 0.8f});
  LARS<B> lars(set.entries, {.lr = 1.0, .momentum = 0.9, .weight_decay = 0.0});
  CHECK(lars.trust_ratio(0) == doctest::Approx(0.005));  // 0.001 * 5 / 1
  lars.step();                                           // v = 0.005 g
  check_values(set.value(0), {2.997, 3.996});
  CHECK(lars.trust_ratio(0) == doctest::Approx(0.004995));  // |p| = 4.995
  lars.step();                                              // v = 0.9 [0.003, 0.004] + 0.004995 g
  check_values(set.value(0), {2.991303, 3.988404});
}

TEST_CASE_TEMPLATE("LARS: weight decay enters the gradient before its norm", B, CLR_TEST_BACKENDS) {
  CLR_SKIP_WITHOUT_DEVICE(B);
  // g = 0, so g + wd p = 0.1 p: trust ratio eeta / wd = 0.01, v = 0.01 * 0.1 p.
  auto set = one<B>("w", ParameterKind::weight, {3.0f, 4.0f}, {0.0f, 0.0f});
  LARS<B> lars(set.entries, {.lr = 1.0, .weight_decay = 0.1});
  CHECK(lars.trust_ratio(0) == doctest::Approx(0.01));
  lars.step();
  check_values(set.value(0), {2.997, 3.996});
}

TEST_CASE_TEMPLATE("LARS: biases and BatchNorm take plain momentum SGD, no decay", B,
                   CLR_TEST_BACKENDS) {
  CLR_SKIP_WITHOUT_DEVICE(B);
  for (const auto kind : {ParameterKind::bias, ParameterKind::batch_norm}) {
    auto set = one<B>("b", kind, {3.0f, 4.0f}, {0.6f, 0.8f});
    LARS<B> lars(set.entries, {.lr = 1.0, .momentum = 0.9, .weight_decay = 0.1});
    CHECK(lars.trust_ratio(0) == 1.0);
    lars.step();  // v = lr g, no 0.1 p in it
    check_values(set.value(0), {2.4, 3.2});
  }
  // Without the exclusion the bias is adapted and decayed as a weight: eeta |p| / |g + wd p|.
  auto set = one<B>("b", ParameterKind::bias, {3.0f, 4.0f}, {0.0f, 0.0f});
  LARS<B> lars(set.entries, {.lr = 1.0, .weight_decay = 0.1, .exclude_bias_and_bn = false});
  CHECK(lars.trust_ratio(0) == doctest::Approx(0.01));
}

TEST_CASE_TEMPLATE("LARS: zero weights and zero gradients take trust ratio 1, no NaN", B,
                   CLR_TEST_BACKENDS) {
  CLR_SKIP_WITHOUT_DEVICE(B);
  auto zero_weight = one<B>("w", ParameterKind::weight, {0.0f, 0.0f}, {0.6f, 0.8f});
  LARS<B> fresh(zero_weight.entries, {.lr = 0.5, .weight_decay = 0.1});
  CHECK(fresh.trust_ratio(0) == 1.0);
  fresh.step();  // v = 0.5 g
  check_values(zero_weight.value(0), {-0.3, -0.4});

  auto zero_grad = one<B>("w", ParameterKind::weight, {3.0f, 4.0f}, {0.0f, 0.0f});
  LARS<B> still(zero_grad.entries, {.lr = 0.5, .weight_decay = 0.0});
  CHECK(still.trust_ratio(0) == 1.0);
  still.step();
  check_values(zero_grad.value(0), {3.0, 4.0});
}

TEST_CASE_TEMPLATE("LARS: Nesterov adds momentum v + scaled_lr g", B, CLR_TEST_BACKENDS) {
  CLR_SKIP_WITHOUT_DEVICE(B);
  auto set = one<B>("b", ParameterKind::bias, {1.0f}, {1.0f});
  LARS<B> lars(set.entries, {.lr = 0.1, .momentum = 0.9, .nesterov = true});
  lars.step();  // v = 0.1; update = 0.9 * 0.1 + 0.1
  check_values(set.value(0), {0.81});
  lars.step();  // v = 0.19; update = 0.171 + 0.1
  check_values(set.value(0), {0.539});
}

TEST_CASE_TEMPLATE("optimizers: bad arguments raise clr::Error naming them", B, CLR_TEST_BACKENDS) {
  CLR_SKIP_WITHOUT_DEVICE(B);
  auto set = one<B>("w", ParameterKind::weight, {1.0f}, {1.0f});
  CHECK_THROWS_WITH_AS(SGD<B>(set.entries, {.momentum = 0.0, .nesterov = true}),
                       doctest::Contains("nesterov needs momentum > 0"), clr::Error);
  CHECK_THROWS_WITH_AS(SGD<B>(set.entries, {.lr = -0.1}), doctest::Contains("lr = -0.1"),
                       clr::Error);
  CHECK_THROWS_WITH_AS(AdamW<B>(set.entries, {.beta2 = 1.0}), doctest::Contains("beta2 = 1"),
                       clr::Error);
  CHECK_THROWS_WITH_AS(LARS<B>(set.entries, {.eeta = NAN}), doctest::Contains("eeta"), clr::Error);
  CHECK_THROWS_WITH_AS(SGD<B>(clr::nn::State<B>{}), doctest::Contains("empty"), clr::Error);

  clr::nn::State<B> with_buffer = set.entries;
  Tensor<B> running_mean({1});
  with_buffer.push_back({"bn.running_mean", &running_mean, nullptr, ParameterKind::buffer});
  CHECK_THROWS_WITH_AS(SGD<B>{with_buffer}, doctest::Contains("bn.running_mean has no gradient"),
                       clr::Error);
  clr::nn::State<B> twice = set.entries;
  twice.push_back(set.entries[0]);
  CHECK_THROWS_WITH_AS(AdamW<B>{twice}, doctest::Contains("appears twice"), clr::Error);

  SGD<B> sgd(set.entries);
  CHECK_THROWS_WITH_AS(sgd.set_lr(INFINITY), doctest::Contains("lr = inf"), clr::Error);
  *set.entries[0].grad = Tensor<B>({2});
  CHECK_THROWS_WITH_AS(sgd.step(), doctest::Contains("w has shape [1] but its gradient [2]"),
                       clr::Error);
}

TEST_CASE_TEMPLATE("optimizers train a Linear layer from nn::parameters", B, CLR_TEST_BACKENDS) {
  CLR_SKIP_WITHOUT_DEVICE(B);
  constexpr int kBatch = 16, kIn = 5, kOut = 3;
  const auto x = Tensor<B>::from(clr::testing::normal_values(kBatch * kIn, 1), {kBatch, kIn});
  const auto target = clr::testing::normal_values(kBatch * kOut, 2);
  // Mean squared error and its gradient, on the host.
  auto loss_and_backward = [&](clr::nn::Linear<B>& layer) {
    const auto y = layer.forward(x, clr::nn::Mode::train).to_vector();
    std::vector<float> dy(y.size());
    double loss = 0.0;
    for (std::size_t i = 0; i < y.size(); ++i) {
      loss += (y[i] - target[i]) * (y[i] - target[i]) / y.size();
      dy[i] = 2.0f * (y[i] - target[i]) / static_cast<float>(y.size());
    }
    layer.backward(Tensor<B>::from(dy, {kBatch, kOut}));
    return loss;
  };
  for (const std::string name : {"SGD", "LARS", "AdamW"}) {
    CAPTURE(name);
    clr::Rng rng(3);
    clr::nn::Linear<B> layer(kIn, kOut, rng);
    std::unique_ptr<Optimizer<B>> optimizer;
    if (name == "SGD") optimizer = std::make_unique<SGD<B>>(clr::nn::parameters(layer));
    if (name == "LARS")
      optimizer = std::make_unique<LARS<B>>(clr::nn::parameters(layer),
                                            LARSOptions{.lr = 1.0, .eeta = 0.05});
    if (name == "AdamW")
      optimizer = std::make_unique<AdamW<B>>(clr::nn::parameters(layer), AdamWOptions{.lr = 0.05});
    optimizer->zero_grad();
    const double initial = loss_and_backward(layer);
    double loss = initial;
    for (int step = 0; step < 40; ++step) {
      optimizer->step();
      optimizer->zero_grad();
      loss = loss_and_backward(layer);
    }
    CHECK(loss < 0.7 * initial);
  }
}
