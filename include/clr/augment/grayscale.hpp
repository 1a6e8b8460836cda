// RandomGrayscale(p = 0.1): with probability p, every channel becomes the pixel's luma
// (0.2989 R + 0.587 G + 0.114 B, as torchvision's rgb_to_grayscale); the channel count is
// kept. A 1-channel picture is left as it is.
// Draws: one uniform, always.
#pragma once

#include "clr/augment/color.hpp"
#include "clr/augment/float_image.hpp"
#include "clr/augment/image.hpp"
#include "clr/augment/transform.hpp"
#include "clr/core/error.hpp"
#include "clr/core/rng.hpp"

namespace clr::augment {

class RandomGrayscale {
 public:
  explicit RandomGrayscale(float p = 0.1f) : p_(p) {
    require(p >= 0.0f && p <= 1.0f, "RandomGrayscale: p must be in [0, 1], got ", p);
  }

  FloatImage operator()(FloatImage image, Rng& rng) const {
    if (rng.bernoulli(p_)) to_grayscale(image);
    return image;
  }
  FloatImage operator()(const Image& image, Rng& rng) const {
    return (*this)(FloatImage(image), rng);
  }

  float p() const { return p_; }

 private:
  float p_;
};

}  // namespace clr::augment
