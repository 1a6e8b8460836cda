// The basic layers: exact gradients by finite differences, PyTorch-compatible names,
// composition and errors.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "support/backends.hpp"
#include "support/layer_check.hpp"

using clr::Rng;
using clr::Tensor;
using namespace clr::nn;

TEST_CASE_TEMPLATE("Linear: forward is x W^T + b; gradients match finite differences", B,
                   CLR_TEST_BACKENDS) {
  CLR_SKIP_WITHOUT_DEVICE(B);
  Rng rng(3);
  Linear<B> layer(3, 2, rng);
  auto state = clr::nn::state(layer);
  REQUIRE(state.size() == 2);
  CHECK(state[0].name == "weight");
  CHECK(state[1].name == "bias");
  *state[0].value = Tensor<B>::from(std::vector<float>{1, 2, 3, 4, 5, 6}, {2, 3});
  *state[1].value = Tensor<B>::from(std::vector<float>{0.5f, -1}, {2});
  const auto y =
      layer.forward(Tensor<B>::from(std::vector<float>{1, 0, -1, 2, 1, 0}, {2, 3}), Mode::train);
  CHECK(y.to_vector() == std::vector<float>{-1.5f, -3, 4.5f, 12});

  for (bool bias : {true, false}) {
    Linear<B> fresh(5, 4, rng, bias);
    const auto errors = clr::testing::layer_gradient_error(
        fresh, clr::testing::normal_values(3 * 5, 1), {3, 5}, Mode::train);
    CHECK(errors.input < 1e-2);
    CHECK(errors.parameters < 1e-2);
  }
}

TEST_CASE_TEMPLATE("Linear: initialised as PyTorch, U(-1/sqrt(in), 1/sqrt(in))", B,
                   CLR_TEST_BACKENDS) {
  CLR_SKIP_WITHOUT_DEVICE(B);
  Rng rng(1);
  Linear<B> layer(256, 64, rng);
  const auto w = clr::nn::state(layer)[0].value->to_vector();
  const float bound = 1.0f / 16.0f;
  double sum_sq = 0;
  for (float v : w) {
    CHECK(std::abs(v) <= bound);
    sum_sq += double(v) * v;
  }
  CHECK(sum_sq / w.size() == doctest::Approx(bound * bound / 3).epsilon(0.05));
}

TEST_CASE_TEMPLATE("ReLU, Flatten, Identity and L2Normalize: gradients", B, CLR_TEST_BACKENDS) {
  CLR_SKIP_WITHOUT_DEVICE(B);
  // Inputs away from ReLU's kink, where finite differences are exact.
  auto x = clr::testing::normal_values(4 * 6, 2);
  for (auto& v : x) v += v > 0 ? 0.1f : -0.1f;
  ReLU<B> relu;
  CHECK(clr::testing::layer_gradient_error(relu, x, {4, 6}, Mode::train).input < 1e-3);
  const auto y = relu.forward(Tensor<B>::from(std::vector<float>{-1, 0, 2}, {3}), Mode::train);
  CHECK(y.to_vector() == std::vector<float>{0, 0, 2});

  Flatten<B> flatten;
  CHECK(flatten.forward(Tensor<B>::from(x, {2, 3, 2, 2}), Mode::eval).shape() == clr::Shape{2, 12});
  CHECK(clr::testing::layer_gradient_error(flatten, x, {2, 3, 2, 2}, Mode::train).input < 1e-3);
  Identity<B> identity;
  CHECK(clr::testing::layer_gradient_error(identity, x, {4, 6}, Mode::train).input < 1e-3);

  L2Normalize<B> normalize;
  CHECK(
      clr::testing::layer_gradient_error(normalize, x, {4, 6}, Mode::train, {.step = 1e-2}).input <
      2e-3);
}

TEST_CASE_TEMPLATE("ReLU on a long tensor: every element, forward and backward", B,
                   CLR_TEST_BACKENDS) {
  CLR_SKIP_WITHOUT_DEVICE(B);
  const int n = 3 * (1 << 15) + 7;  // past the CPU's parallel threshold, an odd remainder
  const auto x = clr::testing::normal_values(n, 7), dy = clr::testing::normal_values(n, 8);
  ReLU<B> relu;
  const auto y = relu.forward(Tensor<B>::from(x, {n}), Mode::train).to_vector();
  const auto dx = relu.backward(Tensor<B>::from(dy, {n})).to_vector();
  int wrong = 0;
  for (int i = 0; i < n; ++i)
    wrong += y[i] != (x[i] > 0 ? x[i] : 0.0f) || dx[i] != (x[i] > 0 ? dy[i] : 0.0f);
  CHECK(wrong == 0);
}

TEST_CASE_TEMPLATE("Sequential: SupContrast's MLP head, keys 0.* and 2.*, exact gradients", B,
                   CLR_TEST_BACKENDS) {
  CLR_SKIP_WITHOUT_DEVICE(B);
  Rng rng(5);
  using Head = Sequential<Linear<B>, ReLU<B>, Linear<B>, L2Normalize<B>>;
  static_assert(Layer<Head>);
  Head head(Linear<B>(8, 8, rng), ReLU<B>(), Linear<B>(8, 4, rng), L2Normalize<B>());
  std::vector<std::string> names;
  for (const auto& entry : clr::nn::state(head)) names.push_back(entry.name);
  CHECK(names == std::vector<std::string>{"0.weight", "0.bias", "2.weight", "2.bias"});
  CHECK(clr::nn::parameters(head).size() == 4);

  const auto errors = clr::testing::layer_gradient_error(
      head, clr::testing::normal_values(6 * 8, 9), {6, 8}, Mode::train);
  CHECK(errors.input < 2e-2);
  CHECK(errors.parameters < 2e-2);

  // Gradients accumulate across backward calls until zero_grad.
  const auto x = Tensor<B>::from(clr::testing::normal_values(6 * 8, 9), {6, 8});
  zero_grad(head);
  const auto dy = Tensor<B>::from(clr::testing::normal_values(6 * 4, 4), {6, 4});
  head.forward(x, Mode::train);
  head.backward(dy);
  const auto once = clr::nn::parameters(head)[0].grad->to_vector();
  head.forward(x, Mode::train);
  head.backward(dy);
  const auto twice = clr::nn::parameters(head)[0].grad->to_vector();
  for (std::size_t i = 0; i < once.size(); ++i) CHECK(twice[i] == doctest::Approx(2 * once[i]));
  zero_grad(head);
  for (float g : clr::nn::parameters(head)[0].grad->to_vector()) CHECK(g == 0.0f);
}

TEST_CASE_TEMPLATE("Layers: bad shapes raise clr::Error naming the layer", B, CLR_TEST_BACKENDS) {
  CLR_SKIP_WITHOUT_DEVICE(B);
  Rng rng(1);
  Linear<B> linear(4, 3, rng);
  CHECK_THROWS_WITH_AS(linear.forward(Tensor<B>({2, 5}), Mode::train),
                       doctest::Contains("Linear: input has shape [2, 5], expected [batch, 4]"),
                       clr::Error);
  CHECK_THROWS_WITH_AS(linear.backward(Tensor<B>({2, 3})),
                       doctest::Contains("call forward in train or eval mode before each backward"),
                       clr::Error);
  linear.forward(Tensor<B>({2, 4}), Mode::train);
  CHECK_THROWS_WITH_AS(linear.backward(Tensor<B>({2, 4})),
                       doctest::Contains("dy has shape [2, 4], expected [2, 3]"), clr::Error);
  L2Normalize<B> normalize;
  CHECK_THROWS_AS(normalize.forward(Tensor<B>({2, 3, 4}), Mode::train), clr::Error);
}

// backward frees what forward kept (PyTorch frees a graph after backward): once the caller
// has dropped x and y, the memory in use falls back to what it was before forward (with dy),
// and a second backward names its missing forward.
template <class B, class Layer>
void check_backward_frees(Layer& layer, clr::Shape shape, const char* name) {
  CAPTURE(name);
  const auto before = B::memory().stats().current_bytes;
  Tensor<B> x = Tensor<B>::from(clr::testing::normal_values(shape.numel(), 1), shape);
  Tensor<B> y = layer.forward(x, Mode::train);
  const auto dy = Tensor<B>::from(clr::testing::normal_values(y.numel(), 3), y.shape());
  x = Tensor<B>();
  y = Tensor<B>();
  const auto with_dy = before + dy.numel() * static_cast<std::int64_t>(sizeof(float));
  CHECK(B::memory().stats().current_bytes > with_dy);  // what forward kept
  CHECK(layer.backward(dy).shape() == shape);
  CHECK(B::memory().stats().current_bytes == with_dy);
  CHECK_THROWS_WITH_AS(layer.backward(dy),
                       doctest::Contains("call forward in train or eval mode before each backward"),
                       clr::Error);
}

TEST_CASE_TEMPLATE("Layers: backward frees the activations forward kept", B, CLR_TEST_BACKENDS) {
  CLR_SKIP_WITHOUT_DEVICE(B);
  Rng rng(2);
  const clr::Shape images{2, 3, 5, 5}, rows{4, 6};
  Conv2d<B> conv(3, 4, 3, rng, {.stride = 1, .padding = 1, .bias = true});
  check_backward_frees<B>(conv, images, "Conv2d");
  BatchNorm2d<B> bn2d(3);
  check_backward_frees<B>(bn2d, images, "BatchNorm2d");
  BatchNorm1d<B> bn1d(6);
  check_backward_frees<B>(bn1d, rows, "BatchNorm1d");
  ReLU<B> relu;
  check_backward_frees<B>(relu, images, "ReLU");
  Linear<B> linear(6, 5, rng);
  check_backward_frees<B>(linear, rows, "Linear");
  L2Normalize<B> normalize;
  check_backward_frees<B>(normalize, rows, "L2Normalize");
}
