// ColorJitter(brightness, contrast, saturation, hue): torchvision's — the four
// adjustments (color.hpp) in a random order, with factors drawn uniformly in
// [max(0, 1 - b), 1 + b] (likewise contrast, saturation) and hue in [-h, h]; an adjustment
// whose strength is 0 is skipped and draws nothing.
//
// Draws (get_params, torchvision's order): the order first, a Fisher-Yates shuffle of
// (brightness, contrast, saturation, hue) by uniform_int(4), uniform_int(3),
// uniform_int(2); then one uniform per enabled factor, in the order brightness, contrast,
// saturation, hue. A 1-channel picture draws the same numbers (saturation and hue then do
// nothing), so a grayscale dataset sees the same stream as a colour one.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <utility>

#include "clr/augment/color.hpp"
#include "clr/augment/float_image.hpp"
#include "clr/augment/image.hpp"
#include "clr/augment/transform.hpp"
#include "clr/core/error.hpp"
#include "clr/core/rng.hpp"

namespace clr::augment {

class ColorJitter {
 public:
  enum Adjustment { kBrightness = 0, kContrast = 1, kSaturation = 2, kHue = 3 };

  // One call's draws: the order of the adjustments and their factors (empty: skipped).
  struct Params {
    std::array<int, 4> order{kBrightness, kContrast, kSaturation, kHue};
    std::optional<float> brightness, contrast, saturation, hue;
  };

  explicit ColorJitter(float brightness = 0, float contrast = 0, float saturation = 0,
                       float hue = 0)
      : brightness_(factor_range(brightness, "brightness")),
        contrast_(factor_range(contrast, "contrast")),
        saturation_(factor_range(saturation, "saturation")),
        hue_(-hue, hue) {
    require(hue >= 0 && hue <= 0.5f, "ColorJitter: hue must be in [0, 0.5], got ", hue);
  }

  // torchvision's ColorJitter.get_params.
  Params get_params(Rng& rng) const {
    Params params;
    for (int i = 3; i > 0; --i)
      std::swap(params.order[i], params.order[rng.uniform_int(static_cast<std::uint32_t>(i + 1))]);
    auto draw = [&rng](std::pair<float, float> range, float center) -> std::optional<float> {
      if (range.first == center && range.second == center) return std::nullopt;
      return rng.uniform(range.first, range.second);
    };
    params.brightness = draw(brightness_, 1.0f);
    params.contrast = draw(contrast_, 1.0f);
    params.saturation = draw(saturation_, 1.0f);
    params.hue = draw(hue_, 0.0f);
    return params;
  }

  // The adjustments of `params`, in its order (what the tests drive with fixed factors).
  static void apply(FloatImage& image, const Params& params) {
    for (int adjustment : params.order) {
      switch (adjustment) {
        case kBrightness:
          if (params.brightness) adjust_brightness(image, *params.brightness);
          break;
        case kContrast:
          if (params.contrast) adjust_contrast(image, *params.contrast);
          break;
        case kSaturation:
          if (params.saturation) adjust_saturation(image, *params.saturation);
          break;
        default:
          // A zero hue shift is the identity up to rounding: skip the HSV round trip.
          if (params.hue && *params.hue != 0.0f) adjust_hue(image, *params.hue);
          break;
      }
    }
  }

  FloatImage operator()(FloatImage image, Rng& rng) const {
    apply(image, get_params(rng));
    return image;
  }
  FloatImage operator()(const Image& image, Rng& rng) const {
    return (*this)(FloatImage(image), rng);
  }

  std::pair<float, float> brightness() const { return brightness_; }
  std::pair<float, float> contrast() const { return contrast_; }
  std::pair<float, float> saturation() const { return saturation_; }
  std::pair<float, float> hue() const { return hue_; }

 private:
  static std::pair<float, float> factor_range(float strength, const char* name) {
    require(strength >= 0, "ColorJitter: ", name, " must be >= 0, got ", strength);
    return {std::max(0.0f, 1.0f - strength), 1.0f + strength};
  }

  std::pair<float, float> brightness_, contrast_, saturation_, hue_;
};

}  // namespace clr::augment
