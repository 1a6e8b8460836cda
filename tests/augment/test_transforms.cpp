// Properties of each transform: shapes, value ranges, identities, draws, input checks.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <set>
#include <vector>

#include "augment/pictures.hpp"
#include "clr/augment/augment.hpp"

using namespace clr::augment;
using clr::Rng;
using clr::testing::next;
using clr::testing::random_image;
using clr::testing::values;

namespace {

Image constant_image(int height, int width, int channels, std::uint8_t value) {
  Image image(height, width, channels);
  std::fill_n(image.data(), image.size(), value);
  return image;
}

double max_abs_diff(const FloatImage& a, const FloatImage& b) {
  REQUIRE(a.size() == b.size());
  double worst = 0;
  for (std::size_t i = 0; i < a.size(); ++i)
    worst = std::max(worst, static_cast<double>(std::abs(a.data()[i] - b.data()[i])));
  return worst;
}

bool in_unit_range(const FloatImage& image) {
  return std::all_of(image.data(), image.data() + image.size(),
                     [](float v) { return v >= 0.0f && v <= 1.0f; });
}

double mean(const FloatImage& image) {
  double sum = 0;
  for (std::size_t i = 0; i < image.size(); ++i) sum += image.data()[i];
  return sum / static_cast<double>(image.size());
}

}  // namespace

TEST_CASE("FloatImage: ToTensor's scaling, planar layout, deep copies, rounding back") {
  const Image image = random_image(5, 7, 3, 1);
  const FloatImage f(image);
  CHECK(f.height() == 5);
  CHECK(f.width() == 7);
  CHECK(f.channels() == 3);
  CHECK(f.at(2, 3, 1) == doctest::Approx(image.at(2, 3, 1) / 255.0).epsilon(1e-7));
  CHECK(f.plane(2)[1 * 7 + 4] == f.at(1, 4, 2));
  CHECK(f.to_image() == image);  // k / 255 rounds back to k
  FloatImage copy = f;
  copy.at(0, 0, 0) = 0.5f;
  CHECK(f.at(0, 0, 0) == doctest::Approx(image.at(0, 0, 0) / 255.0));
  FloatImage moved = std::move(copy);
  CHECK(copy.empty());
  CHECK(moved.at(0, 0, 0) == 0.5f);
  const clr::Tensor<clr::cpu> t = FloatImage(f).release();
  CHECK(t.shape() == clr::Shape{3, 5, 7});
  CHECK_THROWS_AS(FloatImage(4, 4, 2), clr::Error);
}

TEST_CASE("RandomResizedCrop: output shape, values in [0, 1], boxes inside and in range") {
  const Image image = random_image(40, 56, 3, 2);
  const RandomResizedCrop crop(24, {0.2, 1.0});
  Rng rng(3);
  for (int i = 0; i < 200; ++i) {
    const Box box = crop.get_params(40, 56, rng);
    REQUIRE(box.top >= 0);
    REQUIRE(box.left >= 0);
    REQUIRE(box.top + box.height <= 40);
    REQUIRE(box.left + box.width <= 56);
    const double fraction = static_cast<double>(box.height) * box.width / (40.0 * 56.0);
    CHECK(fraction >= 0.2 * 0.85);  // rounding of w and h moves the area a little
    CHECK(fraction <= 1.0);
    const double aspect = static_cast<double>(box.width) / box.height;
    CHECK(aspect >= 0.75 * 0.85);
    CHECK(aspect <= 4.0 / 3.0 * 1.15);
  }
  const FloatImage out = crop(image, rng);
  CHECK(out.height() == 24);
  CHECK(out.width() == 24);
  CHECK(out.channels() == 3);
  CHECK(in_unit_range(out));
  const FloatImage wide = RandomResizedCrop(Size{16, 32})(image, rng);
  CHECK(wide.height() == 16);
  CHECK(wide.width() == 32);
}

TEST_CASE("RandomResizedCrop: scale (1, 1) and ratio (1, 1) on a square picture is a resize") {
  const Image image = random_image(20, 20, 3, 4);
  const RandomResizedCrop crop(32, {1.0, 1.0}, {1.0, 1.0});
  Rng rng(5);
  CHECK(crop.get_params(20, 20, rng) == Box{0, 0, 20, 20});
  CHECK(values(crop(image, rng)) == values(resize(image, {32, 32})));
  // Same size: resampling is a copy.
  CHECK(values(resize(image, {20, 20})) == values(FloatImage(image)));
}

TEST_CASE("RandomResizedCrop: no fitting try falls back to the central crop clamped to ratio") {
  // Areas above the picture's never fit: torchvision's fallback.
  const RandomResizedCrop crop(8, {2.0, 3.0});
  Rng rng(6);
  CHECK(crop.get_params(10, 40, rng) == Box{0, 13, 10, 13});  // w = round(10 * 4/3)
  CHECK(crop.get_params(40, 10, rng) == Box{13, 0, 13, 10});  // h = round(10 / (3/4))
  CHECK(crop.get_params(30, 36, rng) == Box{0, 0, 30, 36});   // ratio 1.2: whole picture
}

TEST_CASE("resampling checks its box and sizes") {
  const Image image = random_image(10, 10, 1, 7);
  CHECK_THROWS_AS(resized_crop(image, 5, 0, 6, 4, {4, 4}), clr::Error);
  CHECK_THROWS_AS(resized_crop(image, 0, 0, 4, 4, {0, 4}), clr::Error);
  CHECK_THROWS_AS(RandomResizedCrop(32, {0.5, 0.2}), clr::Error);
  CHECK_THROWS_AS(RandomResizedCrop(32, {0.2, 1.0}, {0.0, 1.0}), clr::Error);
  CHECK_THROWS_AS(RandomResizedCrop(0), clr::Error);
  Rng rng(8);
  CHECK_THROWS_AS(RandomResizedCrop(8)(Image(), rng), clr::Error);
}

TEST_CASE("Resize and CenterCrop: torchvision's sizes and offsets") {
  const Image image = random_image(30, 40, 3, 8);
  Rng rng(0);
  const FloatImage resized = Resize(20)(image, rng);  // shorter side 30 -> 20
  CHECK(resized.height() == 20);
  CHECK(resized.width() == 26);  // int(20 * 40 / 30)
  const FloatImage centre = CenterCrop(Size{10, 15})(image, rng);
  CHECK(centre.at(0, 0, 1) == FloatImage(image).at(10, 12, 1));  // round(12.5) = 12
  CHECK_THROWS_AS(CenterCrop(31)(image, rng), clr::Error);
}

TEST_CASE("RandomHorizontalFlip: mirrors, twice is the identity, one draw whatever p") {
  const Image image = random_image(6, 9, 3, 9);
  const FloatImage f(image);
  Rng rng(10);
  const FloatImage flipped = RandomHorizontalFlip(1.0f)(f, rng);
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < 6; ++y)
      for (int x = 0; x < 9; ++x) REQUIRE(flipped.at(y, x, c) == f.at(y, 8 - x, c));
  CHECK(values(RandomHorizontalFlip(1.0f)(flipped, rng)) == values(f));
  CHECK(values(RandomHorizontalFlip(0.0f)(f, rng)) == values(f));
  // On 8 bits, pixels move whole.
  const Image flipped8 = RandomHorizontalFlip(1.0f)(image, rng);
  CHECK(flipped8.at(2, 0, 1) == image.at(2, 8, 1));
  CHECK(RandomHorizontalFlip(1.0f)(flipped8, rng) == image);
  CHECK(FloatImage(flipped8).to_image() == flipped.to_image());

  Rng a(11), b(11);
  (void)RandomHorizontalFlip(0.0f)(f, a);
  (void)RandomHorizontalFlip(1.0f)(f, b);
  CHECK(next(a) == next(b));
  // p = 0.5 flips about half the time.
  Rng r(12);
  int flips = 0;
  for (int i = 0; i < 2000; ++i) flips += values(RandomHorizontalFlip()(f, r)) != values(f);
  CHECK(flips > 900);
  CHECK(flips < 1100);
  CHECK_THROWS_AS(RandomHorizontalFlip(1.5f), clr::Error);
}

TEST_CASE("ColorJitter: zero strength is the identity; unit factors are too") {
  const FloatImage f(random_image(7, 8, 3, 13));
  Rng rng(14);
  CHECK(values(ColorJitter()(f, rng)) == values(f));
  CHECK(values(ColorJitter(0, 0, 0, 0)(f, rng)) == values(f));
  FloatImage g = f;
  adjust_brightness(g, 1.0f);
  adjust_contrast(g, 1.0f);
  adjust_saturation(g, 1.0f);
  CHECK(values(g) == values(f));
  adjust_hue(g, 0.0f);  // an HSV round trip: equal up to rounding
  CHECK(max_abs_diff(g, f) <= 1e-6);
  adjust_hue(g, 0.3f);
  adjust_hue(g, -0.3f);
  CHECK(max_abs_diff(g, f) <= 1e-5);
}

TEST_CASE("ColorJitter: factors in torchvision's ranges, every order, values stay in [0, 1]") {
  const ColorJitter jitter(0.4f, 1.5f, 0.4f, 0.1f);
  CHECK(jitter.brightness() == std::pair{0.6f, 1.4f});
  CHECK(jitter.contrast() == std::pair{0.0f, 2.5f});  // max(0, 1 - 1.5)
  CHECK(jitter.hue() == std::pair{-0.1f, 0.1f});
  Rng rng(15);
  std::set<std::array<int, 4>> orders;
  for (int i = 0; i < 2000; ++i) {
    const ColorJitter::Params p = jitter.get_params(rng);
    orders.insert(p.order);
    REQUIRE(p.brightness.has_value());
    CHECK(*p.brightness >= 0.6f);
    CHECK(*p.brightness <= 1.4f);
    CHECK(*p.contrast >= 0.0f);
    CHECK(*p.contrast <= 2.5f);
    CHECK(std::abs(*p.hue) <= 0.1f);
  }
  CHECK(orders.size() == 24);
  // Disabled adjustments draw nothing: the order's three draws plus one factor.
  const ColorJitter only_hue(0, 0, 0, 0.2f);
  Rng a(16), b(16);
  const ColorJitter::Params p = only_hue.get_params(a);
  CHECK_FALSE(p.brightness.has_value());
  CHECK_FALSE(p.saturation.has_value());
  for (int i = 0; i < 4; ++i) b.next_u32();
  CHECK(next(a) == next(b));

  const FloatImage f(random_image(9, 9, 3, 17));
  const ColorJitter strong(0.9f, 0.9f, 0.9f, 0.5f);
  for (int i = 0; i < 50; ++i) CHECK(in_unit_range(strong(f, rng)));
  CHECK_THROWS_AS(ColorJitter(-0.1f), clr::Error);
  CHECK_THROWS_AS(ColorJitter(0, 0, 0, 0.6f), clr::Error);
}

TEST_CASE("colour on one channel: brightness and contrast apply, the rest is identity") {
  const FloatImage f(random_image(8, 8, 1, 18));
  FloatImage g = f;
  adjust_saturation(g, 0.3f);
  adjust_hue(g, 0.25f);
  to_grayscale(g);
  CHECK(values(g) == values(f));
  adjust_brightness(g, 0.5f);
  CHECK(g.at(3, 4, 0) == doctest::Approx(0.5f * f.at(3, 4, 0)));
  FloatImage h = f;
  adjust_contrast(h, 0.0f);  // every pixel becomes the mean
  CHECK(h.at(0, 0, 0) == doctest::Approx(mean(f)).epsilon(1e-6));
  CHECK(h.at(7, 7, 0) == h.at(0, 0, 0));
  Rng rng(19);
  CHECK(values(ColorJitter(0, 0, 0.9f, 0.5f)(f, rng)) == values(f));
  CHECK(values(RandomGrayscale(1.0f)(f, rng)) == values(f));
}

TEST_CASE("RandomGrayscale: channels equal the luma, count kept; saturation 0 agrees") {
  const FloatImage f(random_image(6, 5, 3, 20));
  Rng rng(21);
  const FloatImage g = RandomGrayscale(1.0f)(f, rng);
  REQUIRE(g.channels() == 3);
  for (int y = 0; y < 6; ++y)
    for (int x = 0; x < 5; ++x) {
      CHECK(g.at(y, x, 0) == g.at(y, x, 1));
      CHECK(g.at(y, x, 1) == g.at(y, x, 2));
      const float luma = 0.2989f * f.at(y, x, 0) + 0.587f * f.at(y, x, 1) + 0.114f * f.at(y, x, 2);
      CHECK(g.at(y, x, 0) == doctest::Approx(luma).epsilon(1e-6));
    }
  CHECK(values(RandomGrayscale(0.0f)(f, rng)) == values(f));
  FloatImage s = f;
  adjust_saturation(s, 0.0f);
  CHECK(max_abs_diff(s, g) <= 1e-6);
}

TEST_CASE("GaussianBlur: constant pictures stay constant, the mean is kept, sigma drawn") {
  Rng rng(22);
  const FloatImage flat(constant_image(12, 15, 3, 77));
  const GaussianBlur blur(7, {0.1, 2.0});
  for (int i = 0; i < 10; ++i) {
    const FloatImage out = blur(flat, rng);
    CHECK(max_abs_diff(out, flat) <= 1e-6);    // float rounding of sum(w) x
    CHECK(out.to_image() == flat.to_image());  // exact in 8 bits
  }
  const FloatImage f(random_image(32, 32, 3, 23));
  FloatImage g = f;
  gaussian_blur(g, 9, 2.0f);
  CHECK(mean(g) == doctest::Approx(mean(f)).epsilon(0.01));  // reflect padding: nearly
  CHECK(in_unit_range(g));
  double before = 0, after = 0;  // smoothing lowers the neighbour differences
  for (int x = 1; x < 32; ++x) {
    before += std::abs(f.at(16, x, 0) - f.at(16, x - 1, 0));
    after += std::abs(g.at(16, x, 0) - g.at(16, x - 1, 0));
  }
  CHECK(after < 0.5 * before);
  FloatImage tiny_sigma = f;
  gaussian_blur(tiny_sigma, 3, 0.1f);  // neighbours weigh exp(-50): the identity
  CHECK(max_abs_diff(tiny_sigma, f) <= 1e-7);

  for (int i = 0; i < 100; ++i) {
    const float sigma = blur.get_params(rng);
    CHECK(sigma >= 0.1f);
    CHECK(sigma <= 2.0f);
  }
  const auto kernel = gaussian_kernel(5, 1.0f);
  CHECK(kernel[0] == doctest::Approx(0.05448868));  // torchvision's values
  CHECK(kernel[2] == doctest::Approx(0.40261996));
  CHECK_THROWS_AS(GaussianBlur(4), clr::Error);
  CHECK_THROWS_AS(GaussianBlur(3, {0.0, 1.0}), clr::Error);
}

TEST_CASE("GaussianBlur: reflect padding, also past a picture narrower than the kernel") {
  CHECK(detail::reflect_index(-1, 5) == 1);
  CHECK(detail::reflect_index(-4, 5) == 4);
  CHECK(detail::reflect_index(5, 5) == 3);
  CHECK(detail::reflect_index(-5, 5) == 3);  // reflected twice
  CHECK(detail::reflect_index(13, 5) == 3);
  CHECK(detail::reflect_index(-3, 1) == 0);
  FloatImage narrow(random_image(3, 2, 1, 24));
  gaussian_blur(narrow, 23, 2.0f);
  CHECK(in_unit_range(narrow));
}

TEST_CASE("ToTensor and Normalize: layout, values, channel checks") {
  const Image image = random_image(4, 5, 3, 25);
  Rng rng(26);
  const clr::Tensor<clr::cpu> t = ToTensor()(image, rng);
  CHECK(t.shape() == clr::Shape{3, 4, 5});
  CHECK(t.data()[2 * 20 + 1 * 5 + 3] == doctest::Approx(image.at(1, 3, 2) / 255.0));
  const Normalize normalize({0.5f, 0.25f, 0.125f}, {0.5f, 2.0f, 4.0f});
  const auto n = normalize(t, rng);
  CHECK(n.data()[20 + 7] == doctest::Approx((t.data()[20 + 7] - 0.25f) / 2.0f));
  CHECK(t.data()[0] == doctest::Approx(image.at(0, 0, 0) / 255.0));  // input left alone
  const auto one_for_all = Normalize({0.5f}, {0.5f})(image, rng);
  CHECK(one_for_all.data()[40] == doctest::Approx(t.data()[40] * 2 - 1));
  CHECK_THROWS_AS(normalize(random_image(4, 5, 1, 27), rng), clr::Error);
  CHECK_THROWS_AS(Normalize({0.5f, 0.5f}, {0.5f}), clr::Error);
  CHECK_THROWS_AS(Normalize({0.5f}, {0.0f}), clr::Error);
}

TEST_CASE("RandomApply: p = 0 never, p = 1 always, one draw first") {
  const Image image = random_image(5, 5, 3, 28);
  Rng rng(29);
  const RandomApply never(RandomHorizontalFlip(1.0f), 0.0f);
  const RandomApply always(1.0f, RandomHorizontalFlip(1.0f));  // either argument order
  CHECK(never(image, rng) == image);
  CHECK(always(image, rng) == RandomHorizontalFlip(1.0f)(image, rng));
  // Skipped, an 8-bit picture still becomes what the transform returns.
  const RandomApply<ColorJitter> skip(ColorJitter(0.5f), 0.0f);
  const FloatImage as_float = skip(image, rng);
  CHECK(values(as_float) == values(FloatImage(image)));
  // The applied transform draws after RandomApply's one uniform.
  Rng a(30), b(30);
  (void)never(image, a);
  b.next_u32();
  CHECK(next(a) == next(b));
  int applied = 0;
  const RandomApply<RandomGrayscale> often(RandomGrayscale(1.0f), 0.8f);
  const FloatImage colour(image);
  for (int i = 0; i < 1000; ++i) applied += values(often(colour, rng)) != values(colour);
  CHECK(applied > 760);
  CHECK(applied < 840);
  CHECK_THROWS_AS(RandomApply(ColorJitter(), 1.5f), clr::Error);
}
