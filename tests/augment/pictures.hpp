// Pictures and probes the augmentation tests share.
#pragma once

#include <cstdint>
#include <vector>

#include "clr/augment/augment.hpp"

namespace clr::testing {

// Uniformly random 8-bit levels, the same for a seed.
inline augment::Image random_image(int height, int width, int channels, std::uint64_t seed) {
  augment::Image image(height, width, channels);
  Rng rng(seed);
  for (std::size_t i = 0; i < image.size(); ++i)
    image.data()[i] = static_cast<std::uint8_t>(rng.uniform_int(256));
  return image;
}

// CHW values of a float picture.
inline std::vector<float> values(const augment::FloatImage& image) {
  return {image.data(), image.data() + image.size()};
}

// The generator's next word, drawn from a copy: two generators that drew the same count
// agree on it.
inline std::uint32_t next(Rng rng) {
  return rng.next_u32();
}

}  // namespace clr::testing
