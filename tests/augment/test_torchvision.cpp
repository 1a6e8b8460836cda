// The transforms against torchvision with fixed parameters, written by
// fixtures/make_fixtures.py (torchvision 0.14 functional transforms).
//
// Tolerances, and why:
//  - float chain vs torchvision on float tensors (ToTensor'd pictures): 1e-5 absolute on
//    values in [0, 1] (2e-6 (1 + |x|) after Normalize). The formulas are the same; only
//    float32 rounding differs (the order of the blur's sums: separable here, a 2-D kernel
//    there; fused multiply-adds; 1/std instead of a division).
//  - vs torchvision on uint8 tensors (crops): at most 1 level of 255. torchvision computes
//    in float and torch.round()s once; a value within float rounding of k + 0.5 may round
//    either way.
//  - vs PIL pictures, what SupContrast feeds torchvision: 8-bit arithmetic that rounds
//    after every step. Enlarging crops, brightness, contrast, saturation, grayscale, blur
//    (torchvision blurs a PIL picture as a uint8 tensor, rounding once): 1 level. Hue, and
//    chains holding it: 16 levels at most and 2 on average, because PIL converts to 8-bit
//    HSV — the hue moves in steps of 1/256 of the circle, up to 6 levels of the RGB value,
//    and S and V are rounded too (measured: 14 at most, 1.6 on average). Shrinking crops
//    differ more, as PIL antialiases (averages the whole footprint): reported, not
//    asserted.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "augment/pictures.hpp"
#include "clr/augment/augment.hpp"
#include "support/json.hpp"

using clr::augment::FloatImage;
using clr::augment::Image;
using clr::testing::Json;
using clr::testing::values;

namespace {

Json load(const std::string& kind) {
  return Json::parse_file(std::string(CLR_AUGMENT_FIXTURE_DIR) + "/" + kind + ".json");
}

Image input(const Json& c) {
  const auto bytes = c["image"].numbers<std::uint8_t>();
  return Image::from(bytes, static_cast<int>(c["height"].number()),
                     static_cast<int>(c["width"].number()),
                     static_cast<int>(c["channels"].number()));
}

// CHW levels of the float picture rounded to 8 bits.
std::vector<double> levels(const FloatImage& image) {
  const Image rounded = image.to_image();
  std::vector<double> out;
  for (int c = 0; c < rounded.channels(); ++c)
    for (int y = 0; y < rounded.height(); ++y)
      for (int x = 0; x < rounded.width(); ++x) out.push_back(rounded.at(y, x, c));
  return out;
}

template <class A, class B>
double max_abs_diff(const std::vector<A>& got, const std::vector<B>& expected) {
  REQUIRE(got.size() == expected.size());
  double worst = 0;
  for (std::size_t i = 0; i < got.size(); ++i)
    worst =
        std::max(worst, std::abs(static_cast<double>(got[i]) - static_cast<double>(expected[i])));
  return worst;
}

void apply_ops(FloatImage& image, const Json& ops) {
  for (const Json& op : ops.array()) {
    const std::string name = op.array()[0].string();
    const auto factor = static_cast<float>(op.array()[1].number());
    if (name == "brightness") {
      clr::augment::adjust_brightness(image, factor);
    } else if (name == "contrast") {
      clr::augment::adjust_contrast(image, factor);
    } else if (name == "saturation") {
      clr::augment::adjust_saturation(image, factor);
    } else if (name == "hue") {
      clr::augment::adjust_hue(image, factor);
    } else {
      REQUIRE(name == "grayscale");
      clr::augment::to_grayscale(image);
    }
  }
}

// PIL's distance allowed for a colour case (see the header comment): max and mean levels.
struct PilTolerance {
  double max, mean;
};
PilTolerance pil_tolerance(const Json& c) {
  const std::string name = c["name"].string();
  const bool has_hue = name.rfind("hue", 0) == 0 || name.rfind("jitter", 0) == 0;
  if (has_hue && c["channels"].number() == 3) return {16, 2};
  return {1, 1};
}

double mean_abs_diff(const std::vector<double>& got, const std::vector<double>& expected) {
  REQUIRE(got.size() == expected.size());
  double sum = 0;
  for (std::size_t i = 0; i < got.size(); ++i) sum += std::abs(got[i] - expected[i]);
  return sum / static_cast<double>(got.size());
}

}  // namespace

TEST_CASE("resized_crop matches torchvision's F.resized_crop (bilinear, antialias=False)") {
  const Json fixture = load("crop");
  REQUIRE(fixture["cases"].array().size() >= 7);
  for (const Json& c : fixture["cases"].array()) {
    CAPTURE(c["name"].string());
    const Image image = input(c);
    const auto box = c["box"].numbers<int>();
    const auto size = c["size"].numbers<int>();
    const clr::augment::Size out{size[0], size[1]};
    const FloatImage got = clr::augment::resized_crop(image, box[0], box[1], box[2], box[3], out);
    CHECK(got.height() == size[0]);
    CHECK(got.width() == size[1]);
    CHECK(max_abs_diff(values(got), c["expected"].numbers<double>()) <= 1e-5);
    // From a float picture: the same kernel without the 1/255 folded into the weights.
    const FloatImage from_float =
        clr::augment::resized_crop(FloatImage(image), box[0], box[1], box[2], box[3], out);
    CHECK(max_abs_diff(values(from_float), c["expected"].numbers<double>()) <= 1e-5);
    CHECK(max_abs_diff(levels(got), c["expected_uint8"].numbers<double>()) <= 1);

    const double pil = max_abs_diff(levels(got), c["expected_pil"].numbers<double>());
    if (size[0] >= box[2] && size[1] >= box[3]) {
      CHECK(pil <= 1);
    } else {
      MESSAGE(c["name"].string(), ": PIL (antialiased) differs by up to ", pil, " levels");
    }
  }
}

TEST_CASE("colour adjustments match torchvision's adjust_* and rgb_to_grayscale") {
  const Json fixture = load("color");
  REQUIRE(fixture["cases"].array().size() >= 20);
  for (const Json& c : fixture["cases"].array()) {
    CAPTURE(c["name"].string());
    FloatImage image(input(c));
    apply_ops(image, c["ops"]);
    CHECK(max_abs_diff(values(image), c["expected"].numbers<double>()) <= 1e-5);
    const auto pil = c["expected_pil"].numbers<double>();
    CHECK(max_abs_diff(levels(image), pil) <= pil_tolerance(c).max);
    CHECK(mean_abs_diff(levels(image), pil) <= pil_tolerance(c).mean);
  }
}

TEST_CASE("ColorJitter::apply runs the drawn order with the drawn factors") {
  const Json fixture = load("color");
  int chains = 0;
  for (const Json& c : fixture["cases"].array()) {
    if (c["name"].string().rfind("jitter", 0) != 0) continue;
    CAPTURE(c["name"].string());
    clr::augment::ColorJitter::Params params;
    int slot = 0;
    for (const Json& op : c["ops"].array()) {
      const std::string name = op.array()[0].string();
      const auto factor = static_cast<float>(op.array()[1].number());
      using J = clr::augment::ColorJitter;
      if (name == "brightness") params.order[slot] = J::kBrightness, params.brightness = factor;
      if (name == "contrast") params.order[slot] = J::kContrast, params.contrast = factor;
      if (name == "saturation") params.order[slot] = J::kSaturation, params.saturation = factor;
      if (name == "hue") params.order[slot] = J::kHue, params.hue = factor;
      ++slot;
    }
    FloatImage image(input(c));
    clr::augment::ColorJitter::apply(image, params);
    CHECK(max_abs_diff(values(image), c["expected"].numbers<double>()) <= 1e-5);
    ++chains;
  }
  CHECK(chains == 4);
}

TEST_CASE("gaussian_blur matches torchvision's F.gaussian_blur (reflect padding)") {
  const Json fixture = load("blur");
  REQUIRE(fixture["cases"].array().size() >= 5);
  for (const Json& c : fixture["cases"].array()) {
    CAPTURE(c["name"].string());
    FloatImage image(input(c));
    clr::augment::gaussian_blur(image, static_cast<int>(c["kernel_size"].number()),
                                static_cast<float>(c["sigma"].number()));
    CHECK(max_abs_diff(values(image), c["expected"].numbers<double>()) <= 1e-5);
    CHECK(max_abs_diff(levels(image), c["expected_pil"].numbers<double>()) <= 1);
  }
}

TEST_CASE("Normalize matches torchvision's ToTensor + Normalize") {
  const Json fixture = load("normalize");
  for (const Json& c : fixture["cases"].array()) {
    CAPTURE(c["name"].string());
    const Image image = input(c);
    const clr::augment::Normalize normalize(c["mean"].numbers<float>(), c["std"].numbers<float>());
    clr::Rng rng(0);
    const auto expected = c["expected"].numbers<double>();
    // Fused from 8 bits, in place on a float picture, and on ToTensor's tensor.
    const auto outputs = {normalize(image, rng).to_vector(),
                          normalize(FloatImage(image), rng).to_vector(),
                          normalize(clr::augment::ToTensor()(image, rng), rng).to_vector()};
    for (const auto& got : outputs) {
      REQUIRE(got.size() == expected.size());
      double worst = 0;
      for (std::size_t i = 0; i < got.size(); ++i)
        worst = std::max(worst, std::abs(got[i] - expected[i]) / (1 + std::abs(expected[i])));
      CHECK(worst <= 2e-6);
    }
  }
}
