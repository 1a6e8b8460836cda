// The CPU backend's kernels for BatchNorm and pooling over NCHW tensors [batch, channels,
// spatial]: per-channel moments and dot products (block sums in float, their total in
// double: plane_sums.hpp), a per-channel affine map, max pooling with its argmax, and plane
// means for global average pooling.
#pragma once

#include <omp.h>

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "clr/backend/cpu/image_groups.hpp"
#include "clr/backend/cpu/plane_sums.hpp"

namespace clr::cpu_impl {

struct NormPoolKernels {
  // mean[c] and the biased variance var[c] over batch and spatial positions, in one pass
  // about the channel's first value (plane_sums.hpp). Each thread sums every channel over its
  // share of the images (batch_share), the share it wrote in the layer before, and the
  // threads' sums are added in thread order (image_groups.hpp says why: split by channel,
  // each thread read half of every image from the other).
  static void channel_moments(const float* x, int batch, int channels, int spatial, float* mean,
                              float* var) {
    for_batch_shares(
        batch, channels,
        [&](int first, int last, double* sums, double* squares) {
          for (int b = first; b < last; ++b)
            for (int c = 0; c < channels; ++c)
              plane_sums::add_shifted_moments(plane_data(x, b, c, channels, spatial), spatial,
                                              x[static_cast<long>(c) * spatial], sums[c],
                                              squares[c]);
        },
        [&](int c, double sum, double squares) {
          const double count = double(batch) * spatial, offset = sum / count;
          mean[c] = static_cast<float>(x[static_cast<long>(c) * spatial] + offset);
          var[c] = static_cast<float>(std::max(0.0, squares / count - offset * offset));
        });
  }

  // sums[c] = Σ g and dots[c] = Σ g x over batch and spatial, in one pass, where g = dy, or
  // with a gate (gate_scale and gate_shift not null) g = dy where gate_scale[c] x +
  // gate_shift[c] > 0, else 0: the gradient of a ReLU fused after the affine map that
  // channel_affine_relu computed (the same fma, so the same mask). By shares of the images,
  // as channel_moments.
  static void channel_sums_dot(const float* dy, const float* x, int batch, int channels,
                               int spatial, const float* gate_scale, const float* gate_shift,
                               float* sums, float* dots) {
    for_batch_shares(
        batch, channels,
        [&](int first, int last, double* sum, double* dot) {
          for (int b = first; b < last; ++b)
            for (int c = 0; c < channels; ++c) {
              const float* g = plane_data(dy, b, c, channels, spatial);
              const float* in = plane_data(x, b, c, channels, spatial);
              if (gate_scale)
                plane_sums::add_sum_and_dot<true>(g, in, spatial, gate_scale[c], gate_shift[c],
                                                  sum[c], dot[c]);
              else
                plane_sums::add_sum_and_dot<false>(g, in, spatial, 0.0f, 0.0f, sum[c], dot[c]);
            }
        },
        [&](int c, double sum, double dot) {
          sums[c] = static_cast<float>(sum);
          dots[c] = static_cast<float>(dot);
        });
  }

  // y = a[c] g + b[c] z + c[c], per channel, where g = x, or with a gate (gate_scale and
  // gate_shift not null; z then too) g = x where gate_scale[c] z + gate_shift[c] > 0, else 0,
  // as channel_sums_dot. z may be null without a gate (then b is not read). y may be x.
  static void channel_affine(const float* x, const float* z, int batch, int channels, int spatial,
                             const float* a, const float* b, const float* c,
                             const float* gate_scale, const float* gate_shift, float* y) {
#pragma omp parallel for schedule(static)
    for (long p = 0; p < long(batch) * channels; ++p) {
      const int channel = static_cast<int>(p % channels);
      const float* in = x + p * spatial;
      float* out = y + p * spatial;
      const float ac = a[channel], cc = c[channel];
      if (gate_scale) {
        const float* other = z + p * spatial;
        const float bc = b[channel], scale = gate_scale[channel], shift = gate_shift[channel];
#pragma omp simd
        for (int s = 0; s < spatial; ++s) {
          const float g = std::fma(scale, other[s], shift) > 0.0f ? in[s] : 0.0f;
          out[s] = ac * g + bc * other[s] + cc;
        }
      } else if (z) {
        const float* other = z + p * spatial;
        const float bc = b[channel];
#pragma omp simd
        for (int s = 0; s < spatial; ++s) out[s] = ac * in[s] + bc * other[s] + cc;
      } else {
#pragma omp simd
        for (int s = 0; s < spatial; ++s) out[s] = ac * in[s] + cc;
      }
    }
  }

  // y = max(a[c] x + c[c], 0) per channel: BatchNorm's affine map and the ReLU after it in
  // one pass (by fma, as the gate of channel_sums_dot and channel_affine recomputes it); with
  // a residual r (not null), y = max((a[c] x + c[c]) + r, 0): a residual block's last
  // BatchNorm, its sum and the ReLU after the sum.
  static void channel_affine_relu(const float* x, const float* residual, int batch, int channels,
                                  int spatial, const float* a, const float* c, float* y) {
#pragma omp parallel for schedule(static)
    for (long p = 0; p < long(batch) * channels; ++p) {
      const int channel = static_cast<int>(p % channels);
      const float* in = x + p * spatial;
      float* out = y + p * spatial;
      const float ac = a[channel], cc = c[channel];
      if (residual) {
        const float* r = residual + p * spatial;
#pragma omp simd
        for (int s = 0; s < spatial; ++s) out[s] = std::max(std::fma(ac, in[s], cc) + r[s], 0.0f);
      } else {
#pragma omp simd
        for (int s = 0; s < spatial; ++s) out[s] = std::max(std::fma(ac, in[s], cc), 0.0f);
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
  // Two per-channel sums over the batch: `add(first, last, a, b)` adds images [first, last)
  // to a[c] and b[c] (zeroed) for every channel, once per thread over its batch_share; then
  // `finish(c, a, b)` with the threads' totals, added in thread order.
  template <class Add, class Finish>
  static void for_batch_shares(int batch, int channels, Add add, Finish finish) {
    const int threads = batch_threads(batch);
    std::vector<double> partial(2L * channels * threads, 0.0);
#pragma omp parallel num_threads(threads)
    {
      const int thread = omp_get_thread_num();
      const BatchShare share = batch_share(batch, thread, threads);
      double* a = partial.data() + 2L * channels * thread;
      add(share.first, share.last, a, a + channels);
#pragma omp barrier
#pragma omp for schedule(static)
      for (int c = 0; c < channels; ++c) {
        double total_a = 0.0, total_b = 0.0;
        for (int t = 0; t < threads; ++t) {
          total_a += partial[2L * channels * t + c];
          total_b += partial[2L * channels * t + channels + c];
        }
        finish(c, total_a, total_b);
      }
    }
  }

  // Plane (b, c) of an NCHW tensor.
  static const float* plane_data(const float* x, int b, int c, int channels, int spatial) {
    return x + (static_cast<long>(b) * channels + c) * spatial;
  }
};

}  // namespace clr::cpu_impl
