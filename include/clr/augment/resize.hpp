// Resize and CenterCrop: the deterministic front of the evaluation pipelines
// (torchvision's Resize(256) + CenterCrop(224) for ImageNet). No draws.
#pragma once

#include <cmath>

#include "clr/augment/float_image.hpp"
#include "clr/augment/image.hpp"
#include "clr/augment/resample.hpp"
#include "clr/augment/transform.hpp"
#include "clr/core/error.hpp"
#include "clr/core/rng.hpp"

namespace clr::augment {

// Resize(size): an int resizes the shorter side to `size` and the longer one to
// int(size * long / short), as torchvision; a Size resizes to exactly that. Bilinear,
// antialias=False (resample.hpp).
class Resize {
 public:
  explicit Resize(int size) : shorter_(size) {
    require(size > 0, "Resize: size must be > 0, got ", size);
  }
  explicit Resize(Size size) : exact_(size) {
    require(size.height > 0 && size.width > 0, "Resize: size must be > 0, got ", size.height, "x",
            size.width);
  }

  // The output size for an image of height x width (torchvision's
  // _compute_resized_output_size).
  Size output_size(int height, int width) const {
    if (shorter_ == 0) return exact_;
    const bool portrait = width <= height;
    const int short_side = portrait ? width : height;
    const int long_side = portrait ? height : width;
    const int new_long = static_cast<int>(static_cast<double>(shorter_) * long_side / short_side);
    return portrait ? Size{new_long, shorter_} : Size{shorter_, new_long};
  }

  FloatImage operator()(const Image& image, Rng&) const {
    return resize(image, output_size(image.height(), image.width()));
  }
  FloatImage operator()(const FloatImage& image, Rng&) const {
    return resize(image, output_size(image.height(), image.width()));
  }

 private:
  int shorter_ = 0;  // 0: exact_ holds the size
  Size exact_{0, 0};
};

// CenterCrop(size): the central box of `size` (top = round((height - size) / 2), as
// torchvision). The image must be at least that large (torchvision would pad with black).
class CenterCrop {
 public:
  explicit CenterCrop(int size) : CenterCrop(Size{size, size}) {}
  explicit CenterCrop(Size size) : size_(size) {
    require(size.height > 0 && size.width > 0, "CenterCrop: size must be > 0, got ", size.height,
            "x", size.width);
  }

  FloatImage operator()(const Image& image, Rng&) const { return apply(image); }
  FloatImage operator()(const FloatImage& image, Rng&) const { return apply(image); }

 private:
  template <class Picture>
  FloatImage apply(const Picture& image) const {
    require(image.height() >= size_.height && image.width() >= size_.width, "CenterCrop: the ",
            image.height(), "x", image.width(), " image is smaller than the crop ", size_.height,
            "x", size_.width);
    const int top = static_cast<int>(std::nearbyint((image.height() - size_.height) / 2.0));
    const int left = static_cast<int>(std::nearbyint((image.width() - size_.width) / 2.0));
    return resized_crop(image, top, left, size_.height, size_.width, size_);  // a copy
  }

  Size size_;
};

}  // namespace clr::augment
