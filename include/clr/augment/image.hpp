// Image: the 8-bit picture that datasets yield and augmentations take — uint8, HWC
// (interleaved channels, as PIL and stb store them), 1 (grayscale) or 3 (RGB) channels.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "clr/core/error.hpp"

namespace clr::augment {

class Image {
 public:
  Image() = default;
  // A black image.
  Image(int height, int width, int channels)
      : height_(height), width_(width), channels_(channels) {
    require(height > 0 && width > 0, "Image: height and width must be > 0, got ", height, "x",
            width);
    require(channels == 1 || channels == 3, "Image: channels must be 1 or 3, got ", channels);
    pixels_.assign(static_cast<std::size_t>(height) * width * channels, 0);
  }

  // Copies `pixels` (HWC, height·width·channels bytes) into a new image.
  static Image from(std::span<const std::uint8_t> pixels, int height, int width, int channels) {
    Image image(height, width, channels);
    require(pixels.size() == image.pixels_.size(), "Image::from: ", pixels.size(),
            " bytes given for ", height, "x", width, "x", channels, ", which needs ",
            image.pixels_.size());
    image.pixels_.assign(pixels.begin(), pixels.end());
    return image;
  }

  int height() const { return height_; }
  int width() const { return width_; }
  int channels() const { return channels_; }
  std::size_t size() const { return pixels_.size(); }
  bool empty() const { return pixels_.empty(); }

  std::uint8_t* data() { return pixels_.data(); }
  const std::uint8_t* data() const { return pixels_.data(); }

  std::uint8_t& at(int y, int x, int c) { return pixels_[index(y, x, c)]; }
  std::uint8_t at(int y, int x, int c) const { return pixels_[index(y, x, c)]; }

  friend bool operator==(const Image&, const Image&) = default;

 private:
  std::size_t index(int y, int x, int c) const {
    return (static_cast<std::size_t>(y) * width_ + x) * channels_ + c;
  }

  int height_ = 0;
  int width_ = 0;
  int channels_ = 0;
  std::vector<std::uint8_t> pixels_;
};

}  // namespace clr::augment
