// GaussianBlur(kernel_size, sigma = (0.1, 2.0)): torchvision's — a Gaussian of standard
// deviation drawn uniformly in `sigma` each call, kernel_size taps, reflect padding
// (torch.nn.functional.pad mode="reflect": the edge pixel is not repeated).
//
// torchvision convolves with the 2-D outer product of the 1-D kernel; the Gaussian is
// separable, so this runs a horizontal then a vertical 1-D pass (2k instead of k^2
// multiply-adds per value), each a vectorised axpy over a row. Pictures narrower than the
// kernel's half width, which torchvision rejects, are reflected as many times as needed.
// Draws: one uniform (sigma), always.
#pragma once

#include <algorithm>
#include <cmath>
#include <vector>

#include "clr/augment/float_image.hpp"
#include "clr/augment/image.hpp"
#include "clr/augment/transform.hpp"
#include "clr/core/error.hpp"
#include "clr/core/rng.hpp"

namespace clr::augment {

namespace detail {

// Index i reflected into [0, n) without repeating the edge: -1 -> 1, n -> n - 2.
inline int reflect_index(int i, int n) {
  if (n == 1) return 0;
  const int period = 2 * (n - 1);
  i %= period;
  if (i < 0) i += period;
  return i < n ? i : period - i;
}

struct BlurScratch {
  std::vector<float> kernel, padded, plane;
  std::vector<const float*> rows;
};

inline BlurScratch& blur_scratch() {
  thread_local BlurScratch scratch;
  return scratch;
}

// out[x] = sum_k w[k] src[k][x] for x < width. Tiles of 2 x 16 outputs accumulate in
// registers over all taps (one store per output rather than one per tap; two independent
// multiply-add chains hide the latency of each).
inline void weighted_rows(const float* const* src, const float* w, int taps, int width,
                          float* out) {
  constexpr int kLanes = 16;
  int x = 0;
  for (; x + 2 * kLanes <= width; x += 2 * kLanes) {
    float acc0[kLanes] = {}, acc1[kLanes] = {};
    for (int k = 0; k < taps; ++k) {
      const float wk = w[k];
      const float* s = src[k] + x;
      // Vectorised across the tile, not across the taps (gathers), which GCC would pick.
#pragma omp simd
      for (int j = 0; j < kLanes; ++j) acc0[j] += wk * s[j];
#pragma omp simd
      for (int j = 0; j < kLanes; ++j) acc1[j] += wk * s[kLanes + j];
    }
    for (int j = 0; j < kLanes; ++j) {
      out[x + j] = acc0[j];
      out[x + kLanes + j] = acc1[j];
    }
  }
  for (; x < width; ++x) {
    float acc = 0;
    for (int k = 0; k < taps; ++k) acc += w[k] * src[k][x];
    out[x] = acc;
  }
}

}  // namespace detail

// torchvision's _get_gaussian_kernel1d, in float32 as it computes it, into `kernel`.
inline void gaussian_kernel(int kernel_size, float sigma, std::vector<float>& kernel) {
  kernel.resize(kernel_size);
  const float half = static_cast<float>(kernel_size - 1) * 0.5f;
  float sum = 0;
  for (int i = 0; i < kernel_size; ++i) {
    const float t = (static_cast<float>(i) - half) / sigma;
    kernel[i] = std::exp(-0.5f * (t * t));
    sum += kernel[i];
  }
  for (float& w : kernel) w /= sum;
}
inline std::vector<float> gaussian_kernel(int kernel_size, float sigma) {
  std::vector<float> kernel;
  gaussian_kernel(kernel_size, sigma, kernel);
  return kernel;
}

// torchvision's F.gaussian_blur(img, [k, k], [sigma, sigma]) on a float picture, in place.
inline void gaussian_blur(FloatImage& image, int kernel_size, float sigma) {
  require(kernel_size > 0 && kernel_size % 2 == 1,
          "gaussian_blur: kernel_size must be odd and > 0, got ", kernel_size);
  require(sigma > 0, "gaussian_blur: sigma must be > 0, got ", sigma);
  const int radius = kernel_size / 2;
  if (radius == 0) return;  // a 1-tap kernel is [1]
  detail::BlurScratch& s = detail::blur_scratch();
  gaussian_kernel(kernel_size, sigma, s.kernel);
  const int height = image.height(), width = image.width();
  s.padded.resize(static_cast<std::size_t>(width) + 2 * radius);
  s.plane.resize(image.plane_size());
  s.rows.resize(kernel_size);
  const float* w = s.kernel.data();
  float* padded = s.padded.data();
  for (int c = 0; c < image.channels(); ++c) {
    // Horizontal pass: each row reflect-padded; tap k reads the padded row from k.
    for (int k = 0; k < kernel_size; ++k) s.rows[k] = padded + k;
    for (int y = 0; y < height; ++y) {
      const float* row = image.row(c, y);
      std::copy_n(row, width, padded + radius);
      for (int m = 1; m <= radius; ++m) {
        padded[radius - m] = row[detail::reflect_index(-m, width)];
        padded[radius + width - 1 + m] = row[detail::reflect_index(width - 1 + m, width)];
      }
      detail::weighted_rows(s.rows.data(), w, kernel_size, width,
                            s.plane.data() + static_cast<std::size_t>(y) * width);
    }
    // Vertical pass back into the image: tap k reads row reflect(y + k - radius).
    for (int y = 0; y < height; ++y) {
      for (int k = 0; k < kernel_size; ++k)
        s.rows[k] = s.plane.data() +
                    static_cast<std::size_t>(detail::reflect_index(y + k - radius, height)) * width;
      detail::weighted_rows(s.rows.data(), w, kernel_size, width, image.row(c, y));
    }
  }
}

class GaussianBlur {
 public:
  explicit GaussianBlur(int kernel_size, Range sigma = {0.1, 2.0})
      : kernel_size_(kernel_size), sigma_(sigma) {
    require(kernel_size > 0 && kernel_size % 2 == 1,
            "GaussianBlur: kernel_size must be odd and > 0, got ", kernel_size);
    require(sigma.min > 0 && sigma.min <= sigma.max,
            "GaussianBlur: sigma must be (min, max) with 0 < min <= max, got (", sigma.min, ", ",
            sigma.max, ")");
  }

  // torchvision's GaussianBlur.get_params: sigma uniform in [min, max].
  float get_params(Rng& rng) const {
    return rng.uniform(static_cast<float>(sigma_.min), static_cast<float>(sigma_.max));
  }

  FloatImage operator()(FloatImage image, Rng& rng) const {
    gaussian_blur(image, kernel_size_, get_params(rng));
    return image;
  }
  FloatImage operator()(const Image& image, Rng& rng) const {
    return (*this)(FloatImage(image), rng);
  }

  int kernel_size() const { return kernel_size_; }
  Range sigma() const { return sigma_; }

 private:
  int kernel_size_;
  Range sigma_;
};

}  // namespace clr::augment
