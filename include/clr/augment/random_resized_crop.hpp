// RandomResizedCrop(size, scale = (0.08, 1), ratio = (3/4, 4/3)): torchvision's — a box of
// random area (a `scale` fraction of the image) and aspect ratio (log-uniform in `ratio`),
// resampled bilinearly to `size` (resample.hpp: the tensor path, antialias=False).
//
// Draws (get_params, as torchvision's): up to 10 tries of {area fraction uniform in
// scale, log aspect uniform in log(ratio)}; the first box that fits then draws its top
// (uniform_int) and its left (uniform_int). When no try fits, the central crop of the
// whole image clamped to `ratio`, with no further draws.
#pragma once

#include <algorithm>
#include <cmath>

#include "clr/augment/float_image.hpp"
#include "clr/augment/image.hpp"
#include "clr/augment/resample.hpp"
#include "clr/augment/transform.hpp"
#include "clr/core/error.hpp"
#include "clr/core/rng.hpp"

namespace clr::augment {

// A crop box in pixels.
struct Box {
  int top;
  int left;
  int height;
  int width;
  friend bool operator==(const Box&, const Box&) = default;
};

class RandomResizedCrop {
 public:
  explicit RandomResizedCrop(int size, Range scale = {0.08, 1.0},
                             Range ratio = {3.0 / 4.0, 4.0 / 3.0})
      : RandomResizedCrop(Size{size, size}, scale, ratio) {}
  RandomResizedCrop(Size size, Range scale = {0.08, 1.0}, Range ratio = {3.0 / 4.0, 4.0 / 3.0})
      : size_(size), scale_(scale), ratio_(ratio) {
    require(size.height > 0 && size.width > 0, "RandomResizedCrop: size must be > 0, got ",
            size.height, "x", size.width);
    require(scale.min >= 0 && scale.min <= scale.max,
            "RandomResizedCrop: scale must be (min, max) with 0 <= min <= max, got (", scale.min,
            ", ", scale.max, ")");
    require(ratio.min > 0 && ratio.min <= ratio.max,
            "RandomResizedCrop: ratio must be (min, max) with 0 < min <= max, got (", ratio.min,
            ", ", ratio.max, ")");
  }

  // torchvision's RandomResizedCrop.get_params for an image of height x width.
  Box get_params(int height, int width, Rng& rng) const {
    require(height > 0 && width > 0, "RandomResizedCrop: the picture is empty (", height, "x",
            width, ")");
    const double area = static_cast<double>(height) * width;
    const double log_min = std::log(ratio_.min), log_max = std::log(ratio_.max);
    for (int attempt = 0; attempt < 10; ++attempt) {
      const double target_area = area * (scale_.min + (scale_.max - scale_.min) * rng.uniform());
      const double aspect = std::exp(log_min + (log_max - log_min) * rng.uniform());
      // Python's round(): to nearest, ties to even, as nearbyint in the default mode.
      const int w = static_cast<int>(std::nearbyint(std::sqrt(target_area * aspect)));
      const int h = static_cast<int>(std::nearbyint(std::sqrt(target_area / aspect)));
      if (0 < w && w <= width && 0 < h && h <= height) {
        const int top =
            static_cast<int>(rng.uniform_int(static_cast<std::uint32_t>(height - h + 1)));
        const int left =
            static_cast<int>(rng.uniform_int(static_cast<std::uint32_t>(width - w + 1)));
        return {top, left, h, w};
      }
    }
    // Central crop, its aspect ratio clamped into `ratio`.
    const double in_ratio = static_cast<double>(width) / height;
    int w = width, h = height;
    if (in_ratio < ratio_.min) {
      h = static_cast<int>(std::nearbyint(w / ratio_.min));
    } else if (in_ratio > ratio_.max) {
      w = static_cast<int>(std::nearbyint(h * ratio_.max));
    }
    h = std::clamp(h, 1, height);
    w = std::clamp(w, 1, width);
    return {(height - h) / 2, (width - w) / 2, h, w};
  }

  FloatImage operator()(const Image& image, Rng& rng) const { return apply(image, rng); }
  FloatImage operator()(const FloatImage& image, Rng& rng) const { return apply(image, rng); }

  Size size() const { return size_; }
  Range scale() const { return scale_; }
  Range ratio() const { return ratio_; }

 private:
  template <class Picture>
  FloatImage apply(const Picture& image, Rng& rng) const {
    const Box box = get_params(image.height(), image.width(), rng);
    return resized_crop(image, box.top, box.left, box.height, box.width, size_);
  }

  Size size_;
  Range scale_;
  Range ratio_;
};

}  // namespace clr::augment
