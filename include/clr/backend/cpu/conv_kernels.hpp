// The CPU backend's im2col and col2im (contract in clr/backend/im2col.hpp). Rows of the
// column matrix, one per (channel, ki, kj), are independent, so they are spread over
// OpenMP threads in im2col; col2im goes by channel, whose input plane no other channel
// touches.
#pragma once

#include <cstring>

#include "clr/backend/im2col.hpp"

namespace clr::cpu_impl {

struct ConvKernels {
  static void im2col(const float* x, const ConvGeometry& g, float* columns) {
    const int out_h = g.out_h(), out_w = g.out_w();
#pragma omp parallel for schedule(static)
    for (int row = 0; row < g.patch_size(); ++row) {
      const int c = row / (g.kernel_h * g.kernel_w);
      const int ki = row / g.kernel_w % g.kernel_h, kj = row % g.kernel_w;
      const float* plane = x + static_cast<long>(c) * g.height * g.width;
      float* out = columns + static_cast<long>(row) * out_h * out_w;
      for (int oh = 0; oh < out_h; ++oh) {
        const int ih = oh * g.stride_h - g.pad_h + ki;
        float* out_row = out + static_cast<long>(oh) * out_w;
        if (ih < 0 || ih >= g.height) {
          std::memset(out_row, 0, sizeof(float) * out_w);
          continue;
        }
        const float* in_row = plane + static_cast<long>(ih) * g.width;
        for (int ow = 0; ow < out_w; ++ow) {
          const int iw = ow * g.stride_w - g.pad_w + kj;
          out_row[ow] = iw >= 0 && iw < g.width ? in_row[iw] : 0.0f;
        }
      }
    }
  }

  static void col2im(const float* columns, const ConvGeometry& g, float* dx) {
    const int out_h = g.out_h(), out_w = g.out_w();
    const int per_channel = g.kernel_h * g.kernel_w;
#pragma omp parallel for schedule(static)
    for (int c = 0; c < g.channels; ++c) {
      float* plane = dx + static_cast<long>(c) * g.height * g.width;
      for (int k = 0; k < per_channel; ++k) {
        const int ki = k / g.kernel_w, kj = k % g.kernel_w;
        const float* in = columns + static_cast<long>(c * per_channel + k) * out_h * out_w;
        for (int oh = 0; oh < out_h; ++oh) {
          const int ih = oh * g.stride_h - g.pad_h + ki;
          if (ih < 0 || ih >= g.height) continue;
          float* dx_row = plane + static_cast<long>(ih) * g.width;
          const float* in_row = in + static_cast<long>(oh) * out_w;
          for (int ow = 0; ow < out_w; ++ow) {
            const int iw = ow * g.stride_w - g.pad_w + kj;
            if (iw >= 0 && iw < g.width) dx_row[iw] += in_row[ow];
          }
        }
      }
    }
  }
};

}  // namespace clr::cpu_impl
