// ToTensor and Normalize(mean, std): the end of every pipeline, a Tensor<cpu> [C, H, W].
//
// ToTensor gives values in [0, 1] (8 bits / 255, planar). Normalize gives (x - mean) / std
// per channel, as torchvision; given a picture rather than a tensor it is ToTensor and
// Normalize fused into one pass, in place on a FloatImage (x * (1/std) - mean/std, one
// multiply-add: within a float32 rounding or two of torchvision's division). No draws.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "clr/augment/float_image.hpp"
#include "clr/augment/image.hpp"
#include "clr/augment/transform.hpp"
#include "clr/backend/cpu/cpu.hpp"
#include "clr/core/error.hpp"
#include "clr/core/rng.hpp"
#include "clr/core/tensor.hpp"

namespace clr::augment {

class ToTensor {
 public:
  Tensor<cpu> operator()(const Image& image, Rng&) const { return FloatImage(image).release(); }
  Tensor<cpu> operator()(FloatImage image, Rng&) const { return std::move(image).release(); }
};

class Normalize {
 public:
  Normalize(std::vector<float> mean, std::vector<float> std)
      : mean_(std::move(mean)), std_(std::move(std)) {
    require(!mean_.empty() && mean_.size() == std_.size(),
            "Normalize: mean and std need the same number (>= 1) of values, got ", mean_.size(),
            " and ", std_.size());
    for (float s : std_) require(s != 0.0f, "Normalize: std must not be 0");
  }

  // In place on the float picture, which becomes the tensor.
  Tensor<cpu> operator()(FloatImage image, Rng&) const {
    check_channels(image.channels());
    for (int c = 0; c < image.channels(); ++c) {
      const auto [scale, shift] = affine(c, 1.0f);
      float* v = image.plane(c);
      const std::size_t n = image.plane_size();
      for (std::size_t i = 0; i < n; ++i) v[i] = v[i] * scale + shift;
    }
    return std::move(image).release();
  }

  // ToTensor + Normalize straight from 8 bits.
  Tensor<cpu> operator()(const Image& image, Rng&) const {
    const int channels = image.channels();
    check_channels(channels);
    auto out = Tensor<cpu>::uninitialized({channels, image.height(), image.width()});
    const std::size_t n = static_cast<std::size_t>(image.height()) * image.width();
    const std::uint8_t* src = image.data();
    for (int c = 0; c < channels; ++c) {
      const auto [scale, shift] = affine(c, 1.0f / 255.0f);
      float* dst = out.data() + c * n;
      for (std::size_t i = 0; i < n; ++i) dst[i] = src[i * channels + c] * scale + shift;
    }
    return out;
  }

  // A tensor [C, H, W] (ToTensor's output): a new tensor, the input is left alone.
  Tensor<cpu> operator()(const Tensor<cpu>& tensor, Rng&) const {
    require(tensor.rank() == 3, "Normalize: expected a tensor [C, H, W], got ", tensor.shape());
    check_channels(tensor.dim(0));
    auto out = Tensor<cpu>::uninitialized(tensor.shape());
    const std::size_t n = static_cast<std::size_t>(tensor.dim(1)) * tensor.dim(2);
    for (int c = 0; c < tensor.dim(0); ++c) {
      const auto [scale, shift] = affine(c, 1.0f);
      const float* src = tensor.data() + c * n;
      float* dst = out.data() + c * n;
      for (std::size_t i = 0; i < n; ++i) dst[i] = src[i] * scale + shift;
    }
    return out;
  }

  const std::vector<float>& mean() const { return mean_; }
  const std::vector<float>& std() const { return std_; }

 private:
  // One value per channel, or one for all (torchvision broadcasts a length-1 mean).
  void check_channels(int channels) const {
    require(mean_.size() == 1 || static_cast<int>(mean_.size()) == channels,
            "Normalize: ", mean_.size(), " mean/std values for a ", channels,
            "-channel picture (give one per channel, or one for all)");
  }
  // (x * input_scale - mean) / std as x * scale + shift.
  std::pair<float, float> affine(int c, float input_scale) const {
    const std::size_t i = mean_.size() == 1 ? 0 : static_cast<std::size_t>(c);
    const double inv_std = 1.0 / static_cast<double>(std_[i]);
    return {static_cast<float>(input_scale * inv_std), static_cast<float>(-mean_[i] * inv_std)};
  }

  std::vector<float> mean_;
  std::vector<float> std_;
};

}  // namespace clr::augment
