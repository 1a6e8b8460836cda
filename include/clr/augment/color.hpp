// The colour functions behind ColorJitter and RandomGrayscale, in place on a FloatImage
// in [0, 1]: torchvision's tensor formulas (transforms/functional_tensor.py), so the float
// chain matches them to float32 rounding.
//
//   brightness  x <- clamp(f x)                          blend with black
//   contrast    x <- clamp(f x + (1 - f) mean(gray))     blend with the mean grey level
//   saturation  x <- clamp(f x + (1 - f) gray)           blend with the pixel's grey
//   hue         h <- (h + f) mod 1 in HSV                PIL's RGB <-> HSV formulas
//   gray        0.2989 R + 0.587 G + 0.114 B             ITU-R 601-2 luma, as torchvision
//
// On 1-channel images brightness and contrast apply, saturation, hue and grayscale leave
// the picture alone (torchvision's "match PIL" rule).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>

#include "clr/augment/float_image.hpp"

namespace clr::augment {

// ITU-R 601-2 luma weights, as torchvision's rgb_to_grayscale (and the TF it follows).
inline constexpr float kLumaRed = 0.2989f;
inline constexpr float kLumaGreen = 0.587f;
inline constexpr float kLumaBlue = 0.114f;

namespace detail {

inline float clamp01(float v) {
  return std::min(std::max(v, 0.0f), 1.0f);
}

// floor for |x| < 2^31 through an integer conversion: GCC vectorises it, std::floor it
// does not (without -fno-trapping-math).
inline float floor_small(float x) {
  const float t = static_cast<float>(static_cast<int>(x));
  return t > x ? t - 1.0f : t;
}

// torchvision's _blend of every channel with a constant: clamp(f x + (1 - f) other).
inline void blend_constant(FloatImage& image, float factor, float other) {
  const float offset = static_cast<float>(1.0 - static_cast<double>(factor)) * other;
  float* v = image.data();
  const std::size_t n = image.size();
  for (std::size_t i = 0; i < n; ++i) v[i] = clamp01(factor * v[i] + offset);
}

}  // namespace detail

// The mean grey level of the picture (of its one channel when grayscale): float sums of
// blocks of 1024 pixels, vectorised (omp simd allows the reassociation that a float sum
// needs to vectorise), added up in double; as accurate as torch.mean's cascade.
inline float grayscale_mean(const FloatImage& image) {
  constexpr std::size_t kBlock = 1024;
  const std::size_t n = image.plane_size();
  const bool rgb = image.channels() == 3;
  const float* r = image.plane(0);
  const float* g = rgb ? image.plane(1) : r;
  const float* b = rgb ? image.plane(2) : r;
  // One channel: weights (1, 0, 0) read its plane.
  const float wr = rgb ? kLumaRed : 1.0f, wg = rgb ? kLumaGreen : 0.0f;
  const float wb = rgb ? kLumaBlue : 0.0f;
  double sum = 0;
  for (std::size_t start = 0; start < n; start += kBlock) {
    const std::size_t end = std::min(n, start + kBlock);
    float block = 0;
#pragma omp simd reduction(+ : block)
    for (std::size_t i = start; i < end; ++i) block += wr * r[i] + wg * g[i] + wb * b[i];
    sum += block;
  }
  return static_cast<float>(sum / static_cast<double>(n));
}

inline void adjust_brightness(FloatImage& image, float factor) {
  detail::blend_constant(image, factor, 0.0f);
}

inline void adjust_contrast(FloatImage& image, float factor) {
  detail::blend_constant(image, factor, grayscale_mean(image));
}

inline void adjust_saturation(FloatImage& image, float factor) {
  if (image.channels() != 3) return;
  const float keep = static_cast<float>(1.0 - static_cast<double>(factor));  // (1 - f) gray
  float* r = image.plane(0);
  float* g = image.plane(1);
  float* b = image.plane(2);
  const std::size_t n = image.plane_size();
  for (std::size_t i = 0; i < n; ++i) {
    const float gray = keep * (kLumaRed * r[i] + kLumaGreen * g[i] + kLumaBlue * b[i]);
    r[i] = detail::clamp01(factor * r[i] + gray);
    g[i] = detail::clamp01(factor * g[i] + gray);
    b[i] = detail::clamp01(factor * b[i] + gray);
  }
}

// Every channel set to the pixel's luma; the channel count is kept (torchvision's
// RandomGrayscale asks for as many output channels as the input has).
inline void to_grayscale(FloatImage& image) {
  if (image.channels() != 3) return;
  float* r = image.plane(0);
  float* g = image.plane(1);
  float* b = image.plane(2);
  const std::size_t n = image.plane_size();
  for (std::size_t i = 0; i < n; ++i) {
    const float gray = kLumaRed * r[i] + kLumaGreen * g[i] + kLumaBlue * b[i];
    r[i] = g[i] = b[i] = gray;
  }
}

// torchvision's adjust_hue on floats: _rgb2hsv, h <- (h + factor) mod 1, _hsv2rgb, written
// without branches on the pixel values so that the loop vectorises.
inline void adjust_hue(FloatImage& image, float factor) {
  if (image.channels() != 3) return;
  float* rp = image.plane(0);
  float* gp = image.plane(1);
  float* bp = image.plane(2);
  const std::size_t n = image.plane_size();
  for (std::size_t i = 0; i < n; ++i) {
    const float r = rp[i], g = gp[i], b = bp[i];
    const float maxc = std::max(std::max(r, g), b);
    const float minc = std::min(std::min(r, g), b);
    const bool equal = maxc == minc;  // grey: s = 0 and h = 0, no division by zero
    const float cr = maxc - minc;
    const float s = cr / (equal ? 1.0f : maxc);
    const float divisor = equal ? 1.0f : cr;
    const float rc = (maxc - r) / divisor;
    const float gc = (maxc - g) / divisor;
    const float bc = (maxc - b) / divisor;
    const float h6 = maxc == r ? bc - gc : (maxc == g ? 2.0f + rc - bc : 4.0f + gc - rc);
    float h = h6 / 6.0f + 1.0f;
    h = h >= 1.0f ? h - 1.0f : h;  // torch.fmod(h, 1.0) on [0, 2), exact
    h += factor;
    h -= detail::floor_small(h);  // torch.remainder(h, 1.0)

    const float sector = detail::floor_small(h * 6.0f);
    const float f = h * 6.0f - sector;
    const float k = sector >= 6.0f ? 0.0f : sector;  // i % 6: h * 6 may round up to 6
    const float v = maxc;
    const float p = detail::clamp01(v * (1.0f - s));
    const float q = detail::clamp01(v * (1.0f - s * f));
    const float t = detail::clamp01(v * (1.0f - s * (1.0f - f)));
    // The six sectors of _hsv2rgb's stacks (v,q,p,p,t,v), (t,v,v,q,p,p), (p,p,t,v,v,q), as
    // chains of comparisons that GCC turns into blends.
    rp[i] = k < 1.0f ? v : k < 2.0f ? q : k < 4.0f ? p : k < 5.0f ? t : v;
    gp[i] = k < 1.0f ? t : k < 3.0f ? v : k < 4.0f ? q : p;
    bp[i] = k < 2.0f ? p : k < 3.0f ? t : k < 5.0f ? v : q;
  }
}

}  // namespace clr::augment
