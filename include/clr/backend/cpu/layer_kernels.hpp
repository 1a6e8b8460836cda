// The CPU backend's kernels for the layers: per-channel bias and sums over NCHW tensors
// (a Linear output [n, c] is NCHW with one spatial position) and ReLU.
#pragma once

#include <Eigen/Core>
#include <cstdint>

#include "clr/backend/cpu/elementwise.hpp"
#include "clr/backend/cpu/plane_sums.hpp"

namespace clr::cpu_impl {

struct LayerKernels {
  // y[b, c, s] += bias[c] for y [batch, channels, spatial].
  static void add_channel_bias(float* y, int batch, int channels, int spatial, const float* bias) {
    const Eigen::Map<const Eigen::ArrayXf> b(bias, channels);
    if (spatial == 1) {
      Eigen::Map<Eigen::Array<float, Eigen::Dynamic, Eigen::Dynamic>> m(y, channels, batch);
      m.colwise() += b;
      return;
    }
#pragma omp parallel for schedule(static)
    for (long plane = 0; plane < long(batch) * channels; ++plane)
      Eigen::Map<Eigen::ArrayXf>(y + plane * spatial, spatial) += b[plane % channels];
  }

  // out[c] = beta out[c] + sum over b, s of x[b, c, s]; sums in double.
  static void channel_sums(const float* x, int batch, int channels, int spatial, float* out,
                           float beta) {
    if (spatial == 1) {
      const Eigen::Map<const Eigen::Array<float, Eigen::Dynamic, Eigen::Dynamic>> m(x, channels,
                                                                                    batch);
      Eigen::Map<Eigen::ArrayXf> sums(out, channels);
      const Eigen::ArrayXf totals = m.cast<double>().rowwise().sum().cast<float>();
      sums = beta == 0.0f ? totals : (beta * sums + totals).eval();
      return;
    }
#pragma omp parallel for schedule(static)
    for (int c = 0; c < channels; ++c) {
      double total = 0.0;
      for (int b = 0; b < batch; ++b)
        total += plane_sums::sum(x + (long(b) * channels + c) * spatial, spatial);
      out[c] = static_cast<float>((beta == 0.0f ? 0.0 : beta * double(out[c])) + total);
    }
  }

  static void relu(const float* x, float* y, std::int64_t n) {
    for_each_block(n, [=](std::int64_t begin, std::int64_t end) {
      Eigen::Map<Eigen::ArrayXf>(y + begin, end - begin) =
          Eigen::Map<const Eigen::ArrayXf>(x + begin, end - begin).max(0.0f);
    });
  }

  // y = max(a + b, 0): a residual block's sum and the ReLU after it, in one pass.
  static void add_relu(const float* a, const float* b, float* y, std::int64_t n) {
    for_each_block(n, [=](std::int64_t begin, std::int64_t end) {
      const std::int64_t count = end - begin;
      Eigen::Map<Eigen::ArrayXf>(y + begin, count) =
          (Eigen::Map<const Eigen::ArrayXf>(a + begin, count) +
           Eigen::Map<const Eigen::ArrayXf>(b + begin, count))
              .max(0.0f);
    });
  }

  // dx = dy where y > 0, else 0 (the subgradient 0 at the kink, as PyTorch).
  static void relu_backward(const float* y, const float* dy, float* dx, std::int64_t n) {
    for_each_block(n, [=](std::int64_t begin, std::int64_t end) {
      const std::int64_t count = end - begin;
      const Eigen::Map<const Eigen::ArrayXf> out(y + begin, count);
      Eigen::Map<Eigen::ArrayXf>(dx + begin, count) =
          (out > 0.0f).select(Eigen::Map<const Eigen::ArrayXf>(dy + begin, count), 0.0f);
    });
  }
};

}  // namespace clr::cpu_impl
