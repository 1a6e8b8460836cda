// The papers' pipelines as named Compose types.
//
//   simclr_cifar(size)     SupContrast's main_supcon.py CIFAR train_transform:
//                          RandomResizedCrop(size, scale=(0.2, 1)), RandomHorizontalFlip(),
//                          RandomApply(ColorJitter(0.4, 0.4, 0.4, 0.1), p=0.8),
//                          RandomGrayscale(p=0.2), ToTensor + Normalize (CIFAR-10 statistics)
//   simclr_imagenet(size)  google-research/simclr's ImageNet pre-training augmentation:
//                          RandomResizedCrop(size) (scale (0.08, 1), ratio (3/4, 4/3)), flip,
//                          RandomApply(ColorJitter(0.8 s, 0.8 s, 0.8 s, 0.2 s), p=0.8),
//                          RandomGrayscale(p=0.2), RandomApply(GaussianBlur(size/10 made odd,
//                          sigma (0.1, 2)), p=0.5), ToTensor + Normalize (ImageNet statistics)
//   eval_cifar()           ToTensor + Normalize (SupContrast's val_transform)
//   eval_imagenet(size)    Resize(size / 0.875) + CenterCrop(size) + ToTensor + Normalize
//
// Each ends in a Tensor<cpu> [C, H, W]. Grayscale datasets: `{.channels = 1}` picks
// Fashion-MNIST's statistics for the CIFAR presets; `.mean` / `.std` override them.
#pragma once

#include <utility>
#include <vector>

#include "clr/augment/color_jitter.hpp"
#include "clr/augment/compose.hpp"
#include "clr/augment/flip.hpp"
#include "clr/augment/gaussian_blur.hpp"
#include "clr/augment/grayscale.hpp"
#include "clr/augment/normalize.hpp"
#include "clr/augment/random_apply.hpp"
#include "clr/augment/random_resized_crop.hpp"
#include "clr/augment/resize.hpp"
#include "clr/core/error.hpp"

namespace clr::augment {

// Per-channel statistics of the datasets the presets know.
inline const std::vector<float> kCifar10Mean = {0.4914f, 0.4822f, 0.4465f};
inline const std::vector<float> kCifar10Std = {0.2023f, 0.1994f, 0.2010f};  // SupContrast's
inline const std::vector<float> kFashionMnistMean = {0.2860f};
inline const std::vector<float> kFashionMnistStd = {0.3530f};
inline const std::vector<float> kImageNetMean = {0.485f, 0.456f, 0.406f};
inline const std::vector<float> kImageNetStd = {0.229f, 0.224f, 0.225f};

struct PresetOptions {
  int channels = 3;              // of the input pictures: 3 (RGB) or 1 (grayscale)
  std::vector<float> mean = {};  // empty: the preset's default for `channels`
  std::vector<float> std = {};
};

struct SimCLRCifar : Compose<RandomResizedCrop, RandomHorizontalFlip, RandomApply<ColorJitter>,
                             RandomGrayscale, Normalize> {
  using Compose::Compose;
};

struct SimCLRImageNet : Compose<RandomResizedCrop, RandomHorizontalFlip, RandomApply<ColorJitter>,
                                RandomGrayscale, RandomApply<GaussianBlur>, Normalize> {
  using Compose::Compose;
};

struct EvalCifar : Compose<Normalize> {
  using Compose::Compose;
};

struct EvalImageNet : Compose<Resize, CenterCrop, Normalize> {
  using Compose::Compose;
};

namespace detail {

// The options' mean/std, or the given defaults for 3 and 1 channels.
inline Normalize preset_normalize(const PresetOptions& options, const char* preset,
                                  const std::vector<float>& rgb_mean,
                                  const std::vector<float>& rgb_std,
                                  const std::vector<float>& gray_mean,
                                  const std::vector<float>& gray_std) {
  require(options.channels == 1 || options.channels == 3, preset, ": channels must be 1 or 3, got ",
          options.channels);
  if (!options.mean.empty() || !options.std.empty()) {
    require(static_cast<int>(options.mean.size()) == options.channels &&
                options.std.size() == options.mean.size(),
            preset, ": mean and std need ", options.channels, " values each, got ",
            options.mean.size(), " and ", options.std.size());
    return Normalize(options.mean, options.std);
  }
  if (options.channels == 3) return Normalize(rgb_mean, rgb_std);
  require(!gray_mean.empty(), preset,
          ": no default statistics for 1-channel pictures; give .mean and .std");
  return Normalize(gray_mean, gray_std);
}

}  // namespace detail

inline SimCLRCifar simclr_cifar(int size = 32, const PresetOptions& options = {}) {
  return SimCLRCifar(RandomResizedCrop(size, {0.2, 1.0}), RandomHorizontalFlip(0.5f),
                     RandomApply(ColorJitter(0.4f, 0.4f, 0.4f, 0.1f), 0.8f), RandomGrayscale(0.2f),
                     detail::preset_normalize(options, "simclr_cifar", kCifar10Mean, kCifar10Std,
                                              kFashionMnistMean, kFashionMnistStd));
}

// google-research/simclr's blur kernel: height // 10, made odd as its gaussian_blur does
// (radius = k / 2, k = 2 radius + 1): 23 taps at 224.
inline int simclr_blur_kernel(int size) {
  return 2 * ((size / 10) / 2) + 1;
}

// `color_strength` is SimCLR's s (1.0 for ImageNet, 0.5 in its CIFAR-10 recipe).
inline SimCLRImageNet simclr_imagenet(int size = 224, const PresetOptions& options = {},
                                      float color_strength = 1.0f) {
  const float s = color_strength;
  return SimCLRImageNet(
      RandomResizedCrop(size), RandomHorizontalFlip(0.5f),
      RandomApply(ColorJitter(0.8f * s, 0.8f * s, 0.8f * s, 0.2f * s), 0.8f), RandomGrayscale(0.2f),
      RandomApply(GaussianBlur(simclr_blur_kernel(size), {0.1, 2.0}), 0.5f),
      detail::preset_normalize(options, "simclr_imagenet", kImageNetMean, kImageNetStd, {}, {}));
}

inline EvalCifar eval_cifar(const PresetOptions& options = {}) {
  return EvalCifar(detail::preset_normalize(options, "eval_cifar", kCifar10Mean, kCifar10Std,
                                            kFashionMnistMean, kFashionMnistStd));
}

// The usual ImageNet evaluation: shorter side to size / 0.875 (256 for 224), centre crop.
inline EvalImageNet eval_imagenet(int size = 224, const PresetOptions& options = {}) {
  return EvalImageNet(
      Resize(static_cast<int>(size / 0.875 + 0.5)), CenterCrop(size),
      detail::preset_normalize(options, "eval_imagenet", kImageNetMean, kImageNetStd, {}, {}));
}

}  // namespace clr::augment
