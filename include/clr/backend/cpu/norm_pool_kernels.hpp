// The CPU backend's kernels for BatchNorm and pooling over NCHW tensors [batch, channels,
// spatial]: per-channel moments and dot products (block sums in float, their total in
// double: plane_sums.hpp), a per-channel affine map, max pooling with its argmax, and plane
// means for global average pooling.
#pragma once

#include <Eigen/Core>
#include <algorithm>
#include <cstdint>
#include <limits>

#include "clr/backend/cpu/plane_sums.hpp"

namespace clr::cpu_impl {

struct NormPoolKernels {
  // mean[c] and the biased variance var[c] over batch and spatial positions, in one pass
  // about the channel's first value (plane_sums.hpp).
  static void channel_moments(const float* x, int batch, int channels, int spatial, float* mean,
                              float* var) {
#pragma omp parallel for schedule(static)
    for (int c = 0; c < channels; ++c) {
      const float shift = x[static_cast<long>(c) * spatial];
      double sum = 0.0, squares = 0.0;
      for (int b = 0; b < batch; ++b)
        plane_sums::add_shifted_moments(plane_data(x, b, c, channels, spatial), spatial, shift,
                                        sum, squares);
      const double count = double(batch) * spatial, offset = sum / count;
      mean[c] = static_cast<float>(shift + offset);
      var[c] = static_cast<float>(std::max(0.0, squares / count - offset * offset));
    }
  }

  // out[c] = sum over batch and spatial of x * z.
  static void channel_dot(const float* x, const float* z, int batch, int channels, int spatial,
                          float* out) {
#pragma omp parallel for schedule(static)
    for (int c = 0; c < channels; ++c) {
      double sum = 0.0;
      for (int b = 0; b < batch; ++b)
        sum += plane_sums::dot(plane_data(x, b, c, channels, spatial),
                               plane_data(z, b, c, channels, spatial), spatial);
      out[c] = static_cast<float>(sum);
    }
  }

  // y = a[c] x + b[c] z + c[c], per channel; z may be null (then b is not read). y may be x.
  static void channel_affine(const float* x, const float* z, int batch, int channels, int spatial,
                             const float* a, const float* b, const float* c, float* y) {
#pragma omp parallel for schedule(static)
    for (long p = 0; p < long(batch) * channels; ++p) {
      const int channel = static_cast<int>(p % channels);
      const Eigen::Map<const Eigen::ArrayXf> in(x + p * spatial, spatial);
      Eigen::Map<Eigen::ArrayXf> out(y + p * spatial, spatial);
      if (z) {
        out = a[channel] * in +
              b[channel] * Eigen::Map<const Eigen::ArrayXf>(z + p * spatial, spatial) + c[channel];
      } else {
        out = a[channel] * in + c[channel];
      }
    }
  }

  // Max over each kernel window of each plane (padding never wins); argmax holds the
  // winning input index within the plane, for the backward pass.
  static void max_pool(const float* x, int planes, int height, int width, int kernel, int stride,
                       int padding, float* y, int* argmax) {
    const int out_h = (height + 2 * padding - kernel) / stride + 1;
    const int out_w = (width + 2 * padding - kernel) / stride + 1;
#pragma omp parallel for schedule(static)
    for (int p = 0; p < planes; ++p) {
      const float* in = x + static_cast<long>(p) * height * width;
      for (int oh = 0; oh < out_h; ++oh)
        for (int ow = 0; ow < out_w; ++ow) {
          float best = -std::numeric_limits<float>::infinity();
          int where = -1;
          for (int ki = 0; ki < kernel; ++ki) {
            const int ih = oh * stride - padding + ki;
            if (ih < 0 || ih >= height) continue;
            for (int kj = 0; kj < kernel; ++kj) {
              const int iw = ow * stride - padding + kj;
              if (iw < 0 || iw >= width) continue;
              const float v = in[ih * width + iw];
              if (v > best || where < 0) {
                best = v;
                where = ih * width + iw;
              }
            }
          }
          const long o = (static_cast<long>(p) * out_h + oh) * out_w + ow;
          y[o] = best;
          argmax[o] = where;
        }
    }
  }

  // dx[argmax] += dy, plane by plane (dx zeroed by the caller).
  static void max_pool_backward(const float* dy, const int* argmax, int planes, int in_size,
                                int out_size, float* dx) {
#pragma omp parallel for schedule(static)
    for (int p = 0; p < planes; ++p)
      for (int o = 0; o < out_size; ++o) {
        const long i = static_cast<long>(p) * out_size + o;
        dx[static_cast<long>(p) * in_size + argmax[i]] += dy[i];
      }
  }

  // y[p] = mean of plane p (global average pooling); backward: dx = dy[p] / spatial.
  static void plane_means(const float* x, int planes, int spatial, float* y) {
#pragma omp parallel for schedule(static)
    for (int p = 0; p < planes; ++p)
      y[p] = static_cast<float>(
          Eigen::Map<const Eigen::ArrayXf>(x + static_cast<long>(p) * spatial, spatial)
              .cast<double>()
              .sum() /
          spatial);
  }
  static void plane_means_backward(const float* dy, int planes, int spatial, float* dx) {
#pragma omp parallel for schedule(static)
    for (int p = 0; p < planes; ++p)
      Eigen::Map<Eigen::ArrayXf>(dx + static_cast<long>(p) * spatial, spatial)
          .setConstant(dy[p] / spatial);
  }

 private:
  // Plane (b, c) of an NCHW tensor.
  static const float* plane_data(const float* x, int b, int c, int channels, int spatial) {
    return x + (static_cast<long>(b) * channels + c) * spatial;
  }
};

}  // namespace clr::cpu_impl
