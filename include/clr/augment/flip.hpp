// RandomHorizontalFlip(p = 0.5): mirrors the picture left-right with probability p.
// Draws: one uniform, always (p = 0 or 1 included), so later draws do not depend on p.
#pragma once

#include <algorithm>
#include <cstdint>

#include "clr/augment/float_image.hpp"
#include "clr/augment/image.hpp"
#include "clr/augment/transform.hpp"
#include "clr/core/error.hpp"
#include "clr/core/rng.hpp"

namespace clr::augment {

// torchvision's F.hflip, in place.
inline void hflip(FloatImage& image) {
  for (int c = 0; c < image.channels(); ++c)
    for (int y = 0; y < image.height(); ++y) {
      float* row = image.row(c, y);
      std::reverse(row, row + image.width());
    }
}

// F.hflip on an 8-bit image: pixels (not bytes) reversed in each row.
inline Image hflip(const Image& image) {
  Image out(image.height(), image.width(), image.channels());
  const int w = image.width(), c = image.channels();
  for (int y = 0; y < image.height(); ++y) {
    const std::uint8_t* src = image.data() + static_cast<std::size_t>(y) * w * c;
    std::uint8_t* dst = out.data() + static_cast<std::size_t>(y) * w * c;
    for (int x = 0; x < w; ++x) std::copy_n(src + (w - 1 - x) * c, c, dst + x * c);
  }
  return out;
}

class RandomHorizontalFlip {
 public:
  explicit RandomHorizontalFlip(float p = 0.5f) : p_(p) {
    require(p >= 0.0f && p <= 1.0f, "RandomHorizontalFlip: p must be in [0, 1], got ", p);
  }

  FloatImage operator()(FloatImage image, Rng& rng) const {
    if (rng.bernoulli(p_)) hflip(image);
    return image;
  }
  Image operator()(const Image& image, Rng& rng) const {
    return rng.bernoulli(p_) ? hflip(image) : image;
  }

  float p() const { return p_; }

 private:
  float p_;
};

}  // namespace clr::augment
