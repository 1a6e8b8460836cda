// Linear evaluation: feature extraction in batches and the linear probe on separable data.
#include <doctest/doctest.h>

#include <vector>

#include "clr/nn/resnet.hpp"
#include "clr/train/linear_eval.hpp"
#include "support/backends.hpp"
#include "support/random.hpp"

using clr::Tensor;

TEST_CASE_TEMPLATE("encode_all equals one forward of the whole set, in any batch size", B,
                   CLR_TEST_BACKENDS) {
  CLR_SKIP_WITHOUT_DEVICE(B);
  clr::Rng rng(3);
  clr::nn::ResNet18<B, clr::nn::CifarStem> encoder(rng, {.in_channels = 1, .width = 0.125f});
  const auto images =
      Tensor<clr::cpu>::from(clr::testing::normal_values(7 * 1 * 8 * 8, 4), {7, 1, 8, 8});
  encoder.forward(images.to<B>(), clr::nn::Mode::train);  // running statistics move
  const auto whole = encoder.forward(images.to<B>(), clr::nn::Mode::eval).to_vector();
  for (int batch_size : {1, 3, 7, 100}) {
    CAPTURE(batch_size);
    const auto features = clr::train::encode_all(encoder, images, batch_size);
    CHECK(features.shape() == clr::Shape{7, encoder.feature_dim()});
    const auto values = features.to_vector();
    for (std::size_t i = 0; i < values.size(); ++i)
      CHECK(values[i] == doctest::Approx(whole[i]).epsilon(1e-5));
  }
}

TEST_CASE_TEMPLATE("linear_eval reaches 100% on separable classes and chance on noise", B,
                   CLR_TEST_BACKENDS) {
  CLR_SKIP_WITHOUT_DEVICE(B);
  // Class c is noise + 5 e_c: the classes overlap in about 0.1% of samples.
  const int classes = 6, dim = 10, per_class = 40;
  auto make = [&](std::uint64_t seed, bool informative) {
    const auto noise = clr::testing::normal_values(classes * per_class * dim, seed);
    std::vector<float> x;
    std::vector<int> labels;
    for (int i = 0; i < classes * per_class; ++i) {
      const int label = i % classes;
      for (int d = 0; d < dim; ++d)
        x.push_back(noise[x.size()] + (informative && d == label ? 5.0f : 0.0f));
      labels.push_back(label);
    }
    return std::pair{Tensor<B>::from(x, {classes * per_class, dim}), labels};
  };
  const auto [train_x, train_y] = make(1, true);
  const auto [test_x, test_y] = make(2, true);
  const auto result = clr::train::linear_eval(train_x, train_y, test_x, test_y, classes,
                                              {.epochs = 20, .batch_size = 32});
  CHECK(result.train_top1 >= 0.97);
  CHECK(result.top1 >= 0.95);
  CHECK(result.top5 == doctest::Approx(1.0));
  CHECK(result.final_loss < 0.3);

  const auto [noise_x, noise_y] = make(3, false);
  const auto [noise_test_x, noise_test_y] = make(4, false);
  const auto chance = clr::train::linear_eval(noise_x, noise_y, noise_test_x, noise_test_y, classes,
                                              {.epochs = 20, .batch_size = 32});
  CHECK(chance.top1 < 0.35);  // 1/6 expected; a probe cannot learn noise it has not seen

  CHECK_THROWS_WITH_AS(clr::train::linear_eval(train_x, std::vector<int>{0}, test_x, test_y, 6),
                       doctest::Contains("labels for"), clr::Error);
}
