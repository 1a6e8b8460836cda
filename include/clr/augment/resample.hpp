// Bilinear resampling of a box of a picture: torchvision's
// `F.resized_crop(img, top, left, height, width, size, BILINEAR, antialias=False)` on
// tensors, i.e. `torch.nn.functional.interpolate(crop, size, mode="bilinear",
// align_corners=False)`, the same index and weight formulas (PyTorch's
// compute_source_index_and_lambda, float32) and the same product order.
//
// PIL's BILINEAR (what torchvision runs on PIL images, as SupContrast does) equals this, within
// a level of 255, when the box is enlarged; when it is shrunk PIL widens the filter
// (antialiasing) and averages more pixels. docs/augment.md gives the numbers.
//
// The kernel is separable and row-cached: the taps (two source indices and two weights per
// output column and row) are computed once per call; each source row needed is
// interpolated horizontally once into a planar scratch row, and each output row is a
// vectorised blend of two such rows.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "clr/augment/float_image.hpp"
#include "clr/augment/image.hpp"
#include "clr/augment/transform.hpp"
#include "clr/core/error.hpp"

namespace clr::augment {

namespace detail {

// Per output index: the two source indices and their weights.
struct LinearTaps {
  std::vector<int> i0, i1;
  std::vector<float> w0, w1;

  void compute(int in_size, int out_size) {
    i0.resize(out_size);
    i1.resize(out_size);
    w0.resize(out_size);
    w1.resize(out_size);
    if (in_size == out_size) {  // PyTorch copies: lambda (1, 0), no arithmetic drift
      for (int o = 0; o < out_size; ++o) {
        i0[o] = i1[o] = o;
        w0[o] = 1.0f;
        w1[o] = 0.0f;
      }
      return;
    }
    // area_pixel_compute_scale / _source_index with align_corners = false, in float as
    // PyTorch computes them for float tensors.
    const float scale = static_cast<float>(in_size) / static_cast<float>(out_size);
    for (int o = 0; o < out_size; ++o) {
      float src = scale * (static_cast<float>(o) + 0.5f) - 0.5f;
      if (src < 0.0f) src = 0.0f;
      int index = static_cast<int>(src);
      if (index > in_size - 1) index = in_size - 1;
      i0[o] = index;
      i1[o] = index + (index < in_size - 1 ? 1 : 0);
      float lambda = src - static_cast<float>(index);
      lambda = lambda < 0.0f ? 0.0f : (lambda > 1.0f ? 1.0f : lambda);
      w1[o] = lambda;
      w0[o] = 1.0f - lambda;
    }
  }
};

struct ResampleScratch {
  LinearTaps x, y;
  std::vector<float> rows;  // two planar rows [2][C][out_width]
};

// One per thread, so transforms stay const and shareable and the hot path allocates
// nothing once warm.
inline ResampleScratch& resample_scratch() {
  thread_local ResampleScratch scratch;
  return scratch;
}

// Source row `y` (box columns from `left`) interpolated horizontally into `dst`
// [C][out_width], unscaled (0..255 for 8-bit sources).
inline void horizontal_row(const Image& src, int y, int left, const LinearTaps& taps, float* dst) {
  const int out_width = static_cast<int>(taps.i0.size());
  const int channels = src.channels();
  const std::uint8_t* row =
      src.data() + (static_cast<std::size_t>(y) * src.width() + left) * channels;
  const int* i0 = taps.i0.data();
  const int* i1 = taps.i1.data();
  const float* w0 = taps.w0.data();
  const float* w1 = taps.w1.data();
  if (channels == 3) {
    float* d0 = dst;
    float* d1 = dst + out_width;
    float* d2 = dst + 2 * out_width;
    for (int x = 0; x < out_width; ++x) {
      const std::uint8_t* a = row + 3 * i0[x];
      const std::uint8_t* b = row + 3 * i1[x];
      d0[x] = w0[x] * a[0] + w1[x] * b[0];
      d1[x] = w0[x] * a[1] + w1[x] * b[1];
      d2[x] = w0[x] * a[2] + w1[x] * b[2];
    }
  } else {
    for (int x = 0; x < out_width; ++x) dst[x] = w0[x] * row[i0[x]] + w1[x] * row[i1[x]];
  }
}

inline void horizontal_row(const FloatImage& src, int y, int left, const LinearTaps& taps,
                           float* dst) {
  const int out_width = static_cast<int>(taps.i0.size());
  const int* i0 = taps.i0.data();
  const int* i1 = taps.i1.data();
  const float* w0 = taps.w0.data();
  const float* w1 = taps.w1.data();
  for (int c = 0; c < src.channels(); ++c) {
    const float* row = src.row(c, y) + left;
    float* d = dst + static_cast<std::size_t>(c) * out_width;
    for (int x = 0; x < out_width; ++x) d[x] = w0[x] * row[i0[x]] + w1[x] * row[i1[x]];
  }
}

// The box [top, top + height) x [left, left + width) of `src` resampled to `size`, times
// `value_scale` (1/255 takes 8 bits to [0, 1]).
template <class Source>
FloatImage resample_box(const Source& src, int top, int left, int height, int width, Size size,
                        float value_scale) {
  ResampleScratch& s = resample_scratch();
  s.x.compute(width, size.width);
  s.y.compute(height, size.height);
  const int channels = src.channels();
  const std::size_t row_floats = static_cast<std::size_t>(channels) * size.width;
  s.rows.resize(2 * row_floats);
  float* r0 = s.rows.data();
  float* r1 = r0 + row_floats;
  int have0 = -1, have1 = -1;  // source rows now in r0, r1
  FloatImage out = FloatImage::uninitialized(size.height, size.width, channels);
  for (int oy = 0; oy < size.height; ++oy) {
    const int y0 = s.y.i0[oy], y1 = s.y.i1[oy];
    // Enlarging, consecutive output rows share source rows: each is interpolated once.
    if (have0 != y0) {
      if (have1 == y0) {
        std::swap(r0, r1);
        std::swap(have0, have1);
      } else {
        horizontal_row(src, top + y0, left, s.x, r0);
        have0 = y0;
      }
    }
    if (y1 != y0 && have1 != y1) {
      horizontal_row(src, top + y1, left, s.x, r1);
      have1 = y1;
    }
    const float* below = y1 != y0 ? r1 : r0;
    const float a = s.y.w0[oy] * value_scale;
    const float b = s.y.w1[oy] * value_scale;
    for (int c = 0; c < channels; ++c) {
      const float* p = r0 + static_cast<std::size_t>(c) * size.width;
      const float* q = below + static_cast<std::size_t>(c) * size.width;
      float* dst = out.row(c, oy);
      for (int x = 0; x < size.width; ++x) dst[x] = a * p[x] + b * q[x];
    }
  }
  return out;
}

template <class Source>
void check_box(const Source& src, int top, int left, int height, int width, Size size,
               const char* who) {
  require(height > 0 && width > 0 && top >= 0 && left >= 0 && top + height <= src.height() &&
              left + width <= src.width(),
          who, ": box (top ", top, ", left ", left, ", height ", height, ", width ", width,
          ") is not inside the ", src.height(), "x", src.width(), " image");
  require(size.height > 0 && size.width > 0, who, ": output size must be > 0, got ", size.height,
          "x", size.width);
}

}  // namespace detail

// torchvision's F.resized_crop(img, top, left, height, width, size, BILINEAR,
// antialias=False) on the image as ToTensor would give it: values in [0, 1].
inline FloatImage resized_crop(const Image& image, int top, int left, int height, int width,
                               Size size) {
  detail::check_box(image, top, left, height, width, size, "resized_crop");
  return detail::resample_box(image, top, left, height, width, size, 1.0f / 255.0f);
}
inline FloatImage resized_crop(const FloatImage& image, int top, int left, int height, int width,
                               Size size) {
  detail::check_box(image, top, left, height, width, size, "resized_crop");
  return detail::resample_box(image, top, left, height, width, size, 1.0f);
}

// The whole picture resampled to `size` (F.resize with a (height, width) size).
template <class Picture>
requires std::same_as<Picture, Image> || std::same_as<Picture, FloatImage> FloatImage
resize(const Picture& image, Size size) {
  return resized_crop(image, 0, 0, image.height(), image.width(), size);
}

}  // namespace clr::augment
