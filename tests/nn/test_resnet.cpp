// Residual blocks and ResNet encoders: exact gradients through whole blocks, SupContrast's
// state_dict names, shapes for both stems and the width multiplier.
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
// ReLUs make blocks piecewise smooth: the check looks past the few directions that
// straddle a kink.
constexpr clr::testing::GradientCheck kPiecewise{.step = 3e-4, .kinks = true};
}  // namespace

TEST_CASE_TEMPLATE("BasicBlock and Bottleneck: gradients through the whole block", B,
                   CLR_TEST_BACKENDS) {
  CLR_SKIP_WITHOUT_DEVICE(B);
  Rng rng(2);
  for (int stride : {1, 2}) {
    CAPTURE(stride);
    BasicBlock<B> identity_shortcut(4, 4, 1, rng);
    BasicBlock<B> basic(3, 4, stride, rng);
    Bottleneck<B> bottleneck(4, 2, stride, rng);
    Bottleneck<B> fresh(4, 2, stride, rng);  // eval mode on the initial running statistics
    const auto x4 = clr::testing::normal_values(2 * 4 * 5 * 5, 3);
    const auto x3 = clr::testing::normal_values(2 * 3 * 5 * 5, 4);
    for (auto errors :
         {clr::testing::layer_gradient_error(identity_shortcut, x4, {2, 4, 5, 5}, Mode::train,
                                             kPiecewise),
          clr::testing::layer_gradient_error(basic, x3, {2, 3, 5, 5}, Mode::train, kPiecewise),
          clr::testing::layer_gradient_error(bottleneck, x4, {2, 4, 5, 5}, Mode::train, kPiecewise),
          clr::testing::layer_gradient_error(fresh, x4, {2, 4, 5, 5}, Mode::eval, kPiecewise)}) {
      CAPTURE(errors.worst_parameter);
      CHECK(errors.input < 2e-2);
      CHECK(errors.parameters < 2e-2);
    }
  }
}

TEST_CASE_TEMPLATE("ResNet18: SupContrast's state_dict names and shapes", B, CLR_TEST_BACKENDS) {
  CLR_SKIP_WITHOUT_DEVICE(B);
  Rng rng(1);
  ResNet18<B> encoder(rng, {.in_channels = 3, .width = 0.25f});
  CHECK(encoder.feature_dim() == 128);
  const auto state = clr::nn::state(encoder);
  std::vector<std::string> names;
  for (const auto& entry : state) names.push_back(entry.name);
  // 20 convs (17 + 3 shortcuts) and 20 BNs of 5 tensors each, as resnet_big.py's resnet18.
  CHECK(names.size() == 20 + 20 * 5);
  CHECK(names[0] == "conv1.weight");
  CHECK(names[1] == "bn1.weight");
  CHECK(names[5] == "bn1.num_batches_tracked");
  CHECK(names[6] == "layer1.0.conv1.weight");
  const auto has = [&](const std::string& name) {
    return std::find(names.begin(), names.end(), name) != names.end();
  };
  CHECK(has("layer2.0.shortcut.0.weight"));
  CHECK(has("layer2.0.shortcut.1.running_var"));
  CHECK_FALSE(has("layer1.0.shortcut.0.weight"));
  CHECK(has("layer4.1.bn2.bias"));
  CHECK(state[0].value->shape() == clr::Shape{16, 3, 3, 3});

  const auto features = encoder.forward(Tensor<B>({2, 3, 32, 32}), Mode::train);
  CHECK(features.shape() == clr::Shape{2, 128});
  ResNet18<B> gray(rng, {.in_channels = 1, .width = 0.25f});
  CHECK(gray.forward(Tensor<B>({2, 1, 28, 28}), Mode::eval).shape() == clr::Shape{2, 128});
}

TEST_CASE_TEMPLATE("ResNet: ImageNet stem, Bottleneck widths, end-to-end gradient", B,
                   CLR_TEST_BACKENDS) {
  CLR_SKIP_WITHOUT_DEVICE(B);
  Rng rng(3);
  ResNet50<B, ImageNetStem> wide(rng, {.in_channels = 3, .width = 0.125f});
  CHECK(wide.feature_dim() == 256);  // 2048 / 8
  CHECK(wide.forward(Tensor<B>({1, 3, 64, 64}), Mode::eval).shape() == clr::Shape{1, 256});
  std::size_t convs = 0;
  for (const auto& entry : clr::nn::state(wide)) convs += entry.value->rank() == 4;
  CHECK(convs == 53);  // 1 + 16 blocks x 3 + 4 shortcuts

  // A whole tiny ResNet-18 (width 1/16: 4...32 channels) on 16x16 inputs.
  ResNet18<B> tiny(rng, {.in_channels = 2, .width = 0.0625f});
  const auto errors =
      clr::testing::layer_gradient_error(tiny, clr::testing::normal_values(3 * 2 * 16 * 16, 5),
                                         {3, 2, 16, 16}, Mode::train, kPiecewise);
  CAPTURE(errors.worst_parameter);
  CHECK(errors.input < 5e-2);  // 20 ReLU layers deep: more kinks, a looser median
  CHECK(errors.parameters < 5e-2);
}

TEST_CASE_TEMPLATE("ResNet: inference mode computes eval mode's output and keeps nothing", B,
                   CLR_TEST_BACKENDS) {
  CLR_SKIP_WITHOUT_DEVICE(B);
  Rng rng(5);
  ResNet18<B, CifarStem> encoder(rng, {.in_channels = 1, .width = 0.125f});
  const auto x = Tensor<B>::from(clr::testing::normal_values(4 * 1 * 12 * 12, 6), {4, 1, 12, 12});
  encoder.forward(x, Mode::train);  // running statistics away from their initial values

  // After an eval forward the layers hold every activation; after an inference forward,
  // none: what the encoder holds between calls falls back to its parameters.
  auto& counter = B::memory();
  const auto held_after = [&](Mode mode) {
    encoder.forward(x, Mode::inference);  // drop whatever the previous call kept
    const std::int64_t before = counter.stats().current_bytes;
    const auto y = encoder.forward(x, mode).to_vector();
    return std::pair{y, counter.stats().current_bytes - before};
  };
  const auto [eval_out, eval_held] = held_after(Mode::eval);
  const auto [inference_out, inference_held] = held_after(Mode::inference);
  CHECK(inference_out == eval_out);
  CHECK(inference_held <= 0);
  CHECK(eval_held > 40 * 4 * 12 * 12 * 4);  // at least the stem's and first stage's inputs

  const auto dy = Tensor<B>::from(std::vector<float>(4 * 64, 1.0f), {4, 64});
  CHECK_THROWS_WITH_AS(encoder.backward(dy), doctest::Contains("train or eval mode"), clr::Error);
}

TEST_CASE_TEMPLATE("ResNet: without the input gradient, the same parameter gradients", B,
                   CLR_TEST_BACKENDS) {
  CLR_SKIP_WITHOUT_DEVICE(B);
  const auto x = Tensor<B>::from(clr::testing::normal_values(3 * 3 * 8 * 8, 7), {3, 3, 8, 8});
  const auto dy = Tensor<B>::from(clr::testing::normal_values(3 * 64, 8), {3, 64});
  // Both encoders start from the same seed, so they hold the same parameters.
  const auto gradients = [&](bool input_gradient) {
    Rng rng(9);
    ResNet18<B, CifarStem> encoder(rng, {.width = 0.125f, .input_gradient = input_gradient});
    encoder.forward(x, Mode::train);
    const Tensor<B> dx = encoder.backward(dy);
    State<B> state;
    encoder.collect_state("", state);
    std::vector<std::vector<float>> grads;
    for (const auto& entry : state)
      if (entry.grad) grads.push_back(entry.grad->to_vector());
    return std::pair{dx, grads};
  };
  const auto [dx, with_input] = gradients(true);
  const auto [no_dx, without_input] = gradients(false);
  CHECK(dx.shape() == x.shape());
  CHECK(no_dx.empty());
  REQUIRE(without_input.size() == with_input.size());
  CHECK(without_input.size() > 20);
  for (std::size_t i = 0; i < with_input.size(); ++i) CHECK(without_input[i] == with_input[i]);
  const float stem_grad = std::abs(without_input[0][0]) + std::abs(without_input[0][1]);
  CHECK(stem_grad > 0.0f);  // the stem's weights still learn
}

TEST_CASE_TEMPLATE("ResNet: fine_tune_after_block freezes the stem and the first stages", B,
                   CLR_TEST_BACKENDS) {
  CLR_SKIP_WITHOUT_DEVICE(B);
  const ResNetOptions options{.in_channels = 1, .width = 0.125f};
  Rng rng_a(7), rng_b(7);
  ResNet18<B> frozen(rng_a, options), reference(rng_b, options);  // identical weights
  frozen.set_fine_tune_after_block(2);
  CHECK(frozen.fine_tune_after_block() == 2);

  // The state keeps every tensor; only layer3.* and layer4.* stay trainable.
  CHECK(clr::nn::state(frozen).size() == clr::nn::state(reference).size());
  const auto trainable = clr::nn::parameters(frozen);
  REQUIRE(!trainable.empty());
  for (const auto& entry : trainable) {
    CAPTURE(entry.name);
    CHECK((entry.name.rfind("layer3.", 0) == 0 || entry.name.rfind("layer4.", 0) == 0));
  }
  std::size_t reference_upper = 0;
  for (const auto& entry : clr::nn::parameters(reference))
    reference_upper += entry.name.rfind("layer3.", 0) == 0 || entry.name.rfind("layer4.", 0) == 0;
  CHECK(trainable.size() == reference_upper);

  // Freezing stops the gradient without changing it above the boundary: the trainable
  // stages get exactly the gradients of the unfrozen encoder, and nothing below gets any.
  const auto x = Tensor<B>::from(clr::testing::normal_values(3 * 1 * 12 * 12, 8), {3, 1, 12, 12});
  const auto dy = Tensor<B>::from(clr::testing::normal_values(3 * 64, 9), {3, 64});
  clr::nn::zero_grad(reference);
  const auto y_frozen = frozen.forward(x, Mode::train).to_vector();
  const auto y_reference = reference.forward(x, Mode::train).to_vector();
  CHECK(y_frozen == y_reference);
  CHECK(frozen.backward(dy).numel() == 0);
  CHECK(reference.backward(dy).numel() == 3 * 12 * 12);
  const auto reference_state = clr::nn::state(reference);
  const auto frozen_state = clr::nn::state(frozen);
  for (std::size_t i = 0; i < frozen_state.size(); ++i) {
    if (!frozen_state[i].grad) continue;
    CAPTURE(frozen_state[i].name);
    CHECK(frozen_state[i].grad->to_vector() == reference_state[i].grad->to_vector());
  }

  // A frozen stem in train mode still normalises with (and records) batch statistics, as
  // simclr's fine-tuning does below its stop_gradient.
  for (std::size_t i = 0; i < frozen_state.size(); ++i)
    if (frozen_state[i].name == "bn1.running_mean") {
      const auto mean = frozen_state[i].value->to_vector();
      CHECK(mean == reference_state[i].value->to_vector());
      CHECK(std::any_of(mean.begin(), mean.end(), [](float m) { return m != 0.0f; }));
    }

  CHECK_THROWS_WITH_AS(frozen.set_fine_tune_after_block(5), doctest::Contains("[-1, 4]"),
                       clr::Error);
  frozen.set_fine_tune_after_block(-1);
  CHECK(clr::nn::parameters(frozen).size() == clr::nn::parameters(reference).size());
}

TEST_CASE_TEMPLATE("ResNet: fine_tune_after_block 4 keeps the pretrained BatchNorm statistics", B,
                   CLR_TEST_BACKENDS) {
  CLR_SKIP_WITHOUT_DEVICE(B);
  Rng rng(11);
  ResNet18<B> encoder(rng, {.in_channels = 1, .width = 0.125f});
  const auto x = Tensor<B>::from(clr::testing::normal_values(4 * 1 * 12 * 12, 12), {4, 1, 12, 12});
  encoder.forward(x, Mode::train);  // running statistics away from their initial values
  encoder.set_fine_tune_after_block(4);
  CHECK(clr::nn::parameters(encoder).empty());

  const auto running = [&] {
    std::vector<float> values;
    for (const auto& entry : clr::nn::state(encoder))
      if (entry.name.find("running_") != std::string::npos) {
        const auto v = entry.value->to_vector();
        values.insert(values.end(), v.begin(), v.end());
      }
    return values;
  };
  const auto before = running();
  const auto in_train = encoder.forward(x, Mode::train).to_vector();
  CHECK(running() == before);
  CHECK(in_train == encoder.forward(x, Mode::eval).to_vector());
  CHECK(encoder.backward(Tensor<B>({4, 64})).numel() == 0);
}
