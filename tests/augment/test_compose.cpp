// Composition, presets and multi-view: the pinned entry point, determinism per seed and
// stream, the documented draw counts, threads, and compile-time checks of compositions.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <thread>
#include <vector>

#include "augment/pictures.hpp"
#include "clr/augment/augment.hpp"

using namespace clr::augment;
using clr::cpu;
using clr::Rng;
using clr::Tensor;
using clr::testing::next;
using clr::testing::random_image;

// A wrong composition is caught at compile time: these are the checks behind the errors.
static_assert(Transform<RandomResizedCrop>);
static_assert(Transform<RandomApply<ColorJitter>>);
static_assert(Transform<SimCLRCifar>);
static_assert(!Transform<int>);
static_assert(!TransformOf<ColorJitter, Tensor<cpu>>);
static_assert(SimCLRCifar::accepts<const Image&>);
static_assert(SimCLRImageNet::accepts<FloatImage>);
static_assert(!Compose<Normalize, ColorJitter>::accepts<const Image&>);  // jitter after a Tensor
static_assert(!Compose<ToTensor, ToTensor>::accepts<const Image&>);
static_assert(Compose<ToTensor, Normalize>::accepts<const Image&>);
static_assert(!SimCLRCifar::accepts<Tensor<cpu>>);

TEST_CASE("the pinned entry point: simclr_cifar(32) gives a normalised [3, 32, 32] tensor") {
  Image img(32, 32, 3);
  const Image source = random_image(32, 32, 3, 1);
  std::copy_n(source.data(), source.size(), img.data());
  auto aug = simclr_cifar(32);
  Rng rng(7);
  Tensor<cpu> view = aug(img, rng);
  REQUIRE(view.shape() == clr::Shape{3, 32, 32});
  for (int c = 0; c < 3; ++c) {
    const float low = (0.0f - kCifar10Mean[c]) / kCifar10Std[c];
    const float high = (1.0f - kCifar10Mean[c]) / kCifar10Std[c];
    for (int i = 0; i < 32 * 32; ++i) {
      const float v = view.data()[c * 1024 + i];
      REQUIRE(std::isfinite(v));
      REQUIRE(v >= low - 1e-5f);
      REQUIRE(v <= high + 1e-5f);
    }
  }
  CHECK(aug.get<0>().scale().min == 0.2);
  CHECK(aug.get<2>().p() == doctest::Approx(0.8));
  CHECK(aug.get<2>().transform().hue() == std::pair{-0.1f, 0.1f});
  CHECK(aug.get<3>().p() == doctest::Approx(0.2));
  CHECK(aug.get<4>().mean() == kCifar10Mean);
}

TEST_CASE("presets: the same seed gives the same views, other seeds and streams others") {
  const Image img = random_image(32, 32, 3, 2);
  const auto aug = simclr_cifar(32);
  Rng a(11), b(11), c(12);
  const auto va = aug(img, a).to_vector();
  CHECK(va == aug(img, b).to_vector());
  CHECK(va != aug(img, c).to_vector());
  const Rng parent(5);
  Rng s0 = parent.split(0), s0_again = parent.split(0), s1 = parent.split(1);
  const auto v0 = aug(img, s0).to_vector();
  CHECK(v0 == aug(img, s0_again).to_vector());
  CHECK(v0 != aug(img, s1).to_vector());
  // Consecutive calls on one generator differ too.
  CHECK(aug(img, a).to_vector() != va);
}

TEST_CASE("presets: grayscale pictures (Fashion-MNIST statistics), checks of the options") {
  const Image img = random_image(28, 28, 1, 3);
  const auto aug = simclr_cifar(28, {.channels = 1});
  Rng rng(4);
  const Tensor<cpu> view = aug(img, rng);
  CHECK(view.shape() == clr::Shape{1, 28, 28});
  CHECK(aug.get<4>().mean() == std::vector<float>{0.2860f});
  CHECK(aug.get<4>().std() == std::vector<float>{0.3530f});
  // An RGB preset fed a grayscale picture says so.
  CHECK_THROWS_AS(simclr_cifar(28)(img, rng), clr::Error);
  const auto custom =
      simclr_cifar(32, {.channels = 3, .mean = {0.5f, 0.5f, 0.5f}, .std = {0.25f, 0.25f, 0.25f}});
  CHECK(custom.get<4>().std()[1] == 0.25f);
  CHECK_THROWS_AS(simclr_cifar(32, {.channels = 3, .mean = {0.5f}, .std = {0.5f}}), clr::Error);
  CHECK_THROWS_AS(simclr_cifar(32, {.channels = 2}), clr::Error);
  CHECK_THROWS_AS(simclr_imagenet(224, {.channels = 1}), clr::Error);
}

TEST_CASE("simclr_imagenet: SimCLR's parameters; 224 views of a 375 x 500 picture") {
  const auto aug = simclr_imagenet(224);
  CHECK(aug.get<0>().scale().min == 0.08);
  CHECK(aug.get<2>().transform().brightness().first == doctest::Approx(0.2f));
  CHECK(aug.get<2>().transform().brightness().second == doctest::Approx(1.8f));
  CHECK(aug.get<2>().transform().hue().second == doctest::Approx(0.2f));
  CHECK(aug.get<4>().p() == 0.5f);
  CHECK(aug.get<4>().transform().kernel_size() == 23);
  CHECK(simclr_blur_kernel(32) == 3);
  CHECK(simclr_blur_kernel(96) == 9);
  CHECK(simclr_imagenet(224, {}, 0.5f).get<2>().transform().saturation() == std::pair{0.6f, 1.4f});
  const Image img = random_image(375, 500, 3, 5);
  Rng rng(6);
  for (int i = 0; i < 3; ++i) CHECK(aug(img, rng).shape() == clr::Shape{3, 224, 224});
}

TEST_CASE("eval presets: deterministic, resize + centre crop + normalise") {
  const Image img = random_image(300, 400, 3, 7);
  const auto eval = eval_imagenet(224);
  Rng a(1), b(2);
  const Tensor<cpu> va = eval(img, a);
  CHECK(va.shape() == clr::Shape{3, 224, 224});
  CHECK(va.to_vector() == eval(img, b).to_vector());
  CHECK(next(a) == next(Rng(1)));  // no draws
  // By hand: shorter side to 256 (256 x 341), centre 224 box from (16, 58).
  Rng unused(0);
  const FloatImage resized = resize(img, {256, 341});
  const FloatImage centre = resized_crop(resized, 16, 58, 224, 224, {224, 224});
  CHECK(va.to_vector() == Normalize(kImageNetMean, kImageNetStd)(centre, unused).to_vector());

  const Image small = random_image(32, 32, 3, 8);
  CHECK(eval_cifar()(small, unused).to_vector() ==
        Normalize(kCifar10Mean, kCifar10Std)(small, unused).to_vector());
}

TEST_CASE("Compose: steps in order, nested compositions, documented draw counts") {
  const Image img = random_image(6, 8, 3, 9);
  Rng rng(10);
  const Compose<RandomHorizontalFlip, ToTensor> flip_then_tensor{RandomHorizontalFlip(1.0f),
                                                                 ToTensor()};
  const Tensor<cpu> t = flip_then_tensor(img, rng);
  CHECK(t.data()[0] == doctest::Approx(img.at(0, 7, 0) / 255.0));
  const Compose<Compose<RandomHorizontalFlip, ToTensor>, Normalize> nested(
      flip_then_tensor, Normalize({0.5f}, {0.5f}));
  CHECK(nested(img, rng).data()[0] == doctest::Approx(img.at(0, 7, 0) / 127.5 - 1));

  // Draw counts (docs/augment.md): flip 1, grayscale 1, RandomApply 1 (+ the transform's
  // when applied), ColorJitter 3 + one per enabled factor, blur 1, crop 2 per try + 2.
  auto draws_of = [&](const auto& transform, const auto& picture) {
    Rng counted(99), reference(99);
    (void)transform(picture, counted);
    int n = 0;
    while (next(reference) != next(counted) && n < 64) {
      reference.next_u32();
      ++n;
    }
    return n;
  };
  const FloatImage f(img);
  CHECK(draws_of(RandomHorizontalFlip(), f) == 1);
  CHECK(draws_of(RandomGrayscale(), f) == 1);
  CHECK(draws_of(GaussianBlur(3), f) == 1);
  CHECK(draws_of(ColorJitter(0.4f, 0.4f, 0.4f, 0.1f), f) == 7);
  CHECK(draws_of(ColorJitter(0.4f, 0, 0, 0), f) == 4);
  CHECK(draws_of(RandomApply(ColorJitter(0.4f), 0.0f), f) == 1);
  CHECK(draws_of(RandomApply(ColorJitter(0.4f), 1.0f), f) == 5);
  CHECK(draws_of(RandomResizedCrop(4, {0.5, 0.5}, {1.0, 1.0}), img) == 4);  // fits first try
  CHECK(draws_of(RandomResizedCrop(4, {2.0, 3.0}), img) == 20);             // 10 tries, fallback
  CHECK(draws_of(Normalize({0.5f}, {0.5f}), f) == 0);
}

TEST_CASE("MultiView: n independent views, fixed or run-time count, stacked") {
  const Image img = random_image(32, 32, 3, 11);
  const auto aug = simclr_cifar(32);
  const auto two = multi_view<2>(aug);
  Rng a(12), b(12);
  const std::array<Tensor<cpu>, 2> views = two(img, a);
  CHECK(views[0].to_vector() != views[1].to_vector());
  // View 0's draws, then view 1's, from the one generator.
  CHECK(views[0].to_vector() == aug(img, b).to_vector());
  CHECK(views[1].to_vector() == aug(img, b).to_vector());
  CHECK(next(a) == next(b));

  const auto four = multi_view(aug, 4);
  CHECK(four.n_views() == 4);
  Rng c(13), d(13);
  const std::vector<Tensor<cpu>> list = four(img, c);
  const Tensor<cpu> stacked = four.stacked(img, d);
  REQUIRE(list.size() == 4);
  CHECK(stacked.shape() == clr::Shape{4, 3, 32, 32});
  for (int v = 0; v < 4; ++v) {
    const auto one = list[v].to_vector();
    CHECK(std::equal(one.begin(), one.end(), stacked.data() + v * 3 * 32 * 32));
  }
  CHECK_THROWS_AS(multi_view(aug, 0), clr::Error);
}

TEST_CASE("threads: per-sample streams give the same views however the work is spread") {
  std::vector<Image> images;
  for (int i = 0; i < 16; ++i) images.push_back(random_image(40, 48, 3, 100 + i));
  const auto aug = simclr_imagenet(32);
  const Rng root(21);
  std::vector<std::vector<float>> serial(images.size()), parallel(images.size());
  for (std::size_t i = 0; i < images.size(); ++i) {
    Rng rng = root.split(i);
    serial[i] = aug(images[i], rng).to_vector();
  }
  std::vector<std::thread> workers;
  for (int w = 0; w < 3; ++w)
    workers.emplace_back([&, w] {
      for (std::size_t i = w; i < images.size(); i += 3) {
        Rng rng = root.split(i);
        parallel[i] = aug(images[i], rng).to_vector();
      }
    });
  for (auto& worker : workers) worker.join();
  CHECK(serial == parallel);
}
