// FloatImage: the working picture of the augmentation chain — float32 in [0, 1], planar
// (CHW, one plane per channel), in a clr::Tensor<cpu> [C, H, W].
//
// Why planar floats: the colour transforms, the blur and Normalize then run as straight
// loops over contiguous planes (vectorised, no per-pixel channel shuffle), nothing rounds
// to 8 bits between steps, and the last step hands the tensor on without a copy.
// Why [0, 1]: it is what torchvision's tensor functions see after ToTensor, so the float
// chain reproduces them to float32 rounding (tests/augment/fixtures).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <utility>

#include "clr/augment/image.hpp"
#include "clr/backend/cpu/cpu.hpp"
#include "clr/core/error.hpp"
#include "clr/core/tensor.hpp"

namespace clr::augment {

class FloatImage {
 public:
  FloatImage() = default;
  // A black image.
  FloatImage(int height, int width, int channels)
      : FloatImage(uninitialized(height, width, channels)) {
    std::fill_n(data(), size(), 0.0f);
  }
  // The 8-bit image scaled to [0, 1] (torchvision's ToTensor), planar.
  explicit FloatImage(const Image& image)
      : FloatImage(uninitialized(image.height(), image.width(), image.channels())) {
    const int c_count = channels_;
    const std::size_t pixels = plane_size();
    const std::uint8_t* src = image.data();
    for (int c = 0; c < c_count; ++c) {
      float* dst = plane(c);
      for (std::size_t i = 0; i < pixels; ++i) dst[i] = src[i * c_count + c] * (1.0f / 255.0f);
    }
  }

  // Memory the caller overwrites whole before reading (the transforms' outputs).
  static FloatImage uninitialized(int height, int width, int channels) {
    require(height > 0 && width > 0, "FloatImage: height and width must be > 0, got ", height, "x",
            width);
    require(channels == 1 || channels == 3, "FloatImage: channels must be 1 or 3, got ", channels);
    FloatImage image;
    image.planes_ = Tensor<cpu>::uninitialized({channels, height, width});
    image.height_ = height;
    image.width_ = width;
    image.channels_ = channels;
    return image;
  }

  // Copies are deep (a Tensor copy would share memory, and transforms write in place).
  FloatImage(const FloatImage& other)
      : planes_(other.planes_.clone()),
        height_(other.height_),
        width_(other.width_),
        channels_(other.channels_) {}
  FloatImage& operator=(const FloatImage& other) {
    if (this != &other) *this = FloatImage(other);
    return *this;
  }
  // Moves leave the source empty (a moved Tensor would keep its data pointer).
  FloatImage(FloatImage&& other) noexcept { swap(other); }
  FloatImage& operator=(FloatImage&& other) noexcept {
    FloatImage(std::move(other)).swap(*this);
    return *this;
  }
  void swap(FloatImage& other) noexcept {
    std::swap(planes_, other.planes_);
    std::swap(height_, other.height_);
    std::swap(width_, other.width_);
    std::swap(channels_, other.channels_);
  }

  int height() const { return height_; }
  int width() const { return width_; }
  int channels() const { return channels_; }
  std::size_t plane_size() const { return static_cast<std::size_t>(height_) * width_; }
  std::size_t size() const { return plane_size() * channels_; }
  bool empty() const { return channels_ == 0; }

  float* data() { return planes_.data(); }
  const float* data() const { return planes_.data(); }
  float* plane(int c) { return data() + c * plane_size(); }
  const float* plane(int c) const { return data() + c * plane_size(); }
  float* row(int c, int y) { return plane(c) + static_cast<std::size_t>(y) * width_; }
  const float* row(int c, int y) const { return plane(c) + static_cast<std::size_t>(y) * width_; }
  float& at(int y, int x, int c) { return row(c, y)[x]; }
  float at(int y, int x, int c) const { return row(c, y)[x]; }

  // The planes as a tensor [C, H, W], sharing this image's memory.
  const Tensor<cpu>& tensor() const { return planes_; }
  // The planes as a tensor [C, H, W]; the image is left empty.
  Tensor<cpu> release() && {
    FloatImage gone(std::move(*this));
    return std::move(gone.planes_);
  }

  // Back to 8 bits, HWC: clamped to [0, 1] and rounded to the nearest level, as
  // torchvision's uint8 tensor functions do (torch.round, half to even).
  Image to_image() const {
    Image image(height_, width_, channels_);
    std::uint8_t* dst = image.data();
    const std::size_t pixels = plane_size();
    for (int c = 0; c < channels_; ++c) {
      const float* src = plane(c);
      for (std::size_t i = 0; i < pixels; ++i)
        dst[i * channels_ + c] =
            static_cast<std::uint8_t>(std::nearbyint(std::clamp(src[i], 0.0f, 1.0f) * 255.0f));
    }
    return image;
  }

 private:
  Tensor<cpu> planes_;  // [C, H, W]
  int height_ = 0;
  int width_ = 0;
  int channels_ = 0;
};

}  // namespace clr::augment
