// A tiny labelled image set for the training-loop tests: 8x8 grayscale pictures where
// class c (of 4) has a bright 3x3 square in quadrant c, over noise — separable, so a
// few epochs of any sound loop learn it.
#pragma once

#include <clr/clr.hpp>
#include <cstdint>
#include <string>

namespace clr::testing {

struct Squares {
  std::int64_t count = 48;
  std::uint64_t noise_seed = 100;  // image i's noise comes from Rng(noise_seed + i)

  std::int64_t size() const { return count; }
  int num_classes() const { return 4; }
  std::string name() const { return "squares"; }
  data::Sample get(std::int64_t index) const {
    const int label = static_cast<int>(index % 4);
    augment::Image image(8, 8, 1);
    Rng rng(static_cast<std::uint64_t>(index) + noise_seed);
    for (int y = 0; y < 8; ++y)
      for (int x = 0; x < 8; ++x)
        image.at(y, x, 0) = static_cast<std::uint8_t>(rng.uniform_int(60));
    const int top = label / 2 * 4, left = label % 2 * 4;
    for (int y = top; y < top + 3; ++y)
      for (int x = left; x < left + 3; ++x) image.at(y, x, 0) = 230;
    return {image, label};
  }
};

}  // namespace clr::testing
