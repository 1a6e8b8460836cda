// The convolution's lowering kernels and their launchers: im2col and its adjoint col2im
// for one image (contract in clr/backend/im2col.hpp). Same semantics as
// clr::cpu_impl::ConvKernels.
#pragma once

#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>

#include "clr/backend/cuda/context.hpp"
#include "clr/backend/cuda/elementwise.cuh"
#include "clr/backend/cuda/launchers.hpp"
#include "clr/backend/im2col.hpp"

namespace clr::cuda_impl::kernels {

// One thread per entry of columns [patch_size, out_h * out_w]; consecutive threads write
// consecutive output positions of one row, so the stores coalesce. ConvGeometry's
// out_h()/out_w() are host functions, hence passed in.
__global__ void im2col_kernel(const float* x, ConvGeometry g, int out_h, int out_w,
                              float* columns, std::int64_t n) {
  const int positions = out_h * out_w;
  for (std::int64_t i = first_index(); i < n; i += grid_stride()) {
    const int position = static_cast<int>(i % positions);
    const int row = static_cast<int>(i / positions);  // (c, ki, kj)
    const int oh = position / out_w, ow = position % out_w;
    const int kj = row % g.kernel_w, ki = row / g.kernel_w % g.kernel_h;
    const int c = row / (g.kernel_h * g.kernel_w);
    const int ih = oh * g.stride_h - g.pad_h + ki, iw = ow * g.stride_w - g.pad_w + kj;
    columns[i] = ih >= 0 && ih < g.height && iw >= 0 && iw < g.width
                     ? x[(static_cast<std::int64_t>(c) * g.height + ih) * g.width + iw]
                     : 0.0f;
  }
}

// col2im in gather form (Caffe's col2im_gpu): one thread per input entry (c, ih, iw)
// sums, in a fixed order, the column entries read from it, then adds the sum to dx. No
// two threads write the same entry, so there are no atomics and the result is the same
// bits on every run. With hp = ih + pad_h, the output rows that read input row ih are
// those with oh * stride_h <= hp < oh * stride_h + kernel_h, i.e.
// (hp - kernel_h) / stride_h < oh <= hp / stride_h, and ki = hp - oh * stride_h;
// likewise for columns.
__global__ void col2im_kernel(const float* columns, ConvGeometry g, int out_h, int out_w,
                              float* dx, std::int64_t n) {
  const std::int64_t positions = static_cast<std::int64_t>(out_h) * out_w;
  for (std::int64_t i = first_index(); i < n; i += grid_stride()) {
    const int iw = static_cast<int>(i % g.width);
    const int ih = static_cast<int>(i / g.width % g.height);
    const int c = static_cast<int>(i / (static_cast<std::int64_t>(g.height) * g.width));
    const int hp = ih + g.pad_h, wp = iw + g.pad_w;
    // hp, wp >= 0, so integer division rounds down here.
    const int oh_begin = hp < g.kernel_h ? 0 : (hp - g.kernel_h) / g.stride_h + 1;
    const int oh_end = min(hp / g.stride_h + 1, out_h);
    const int ow_begin = wp < g.kernel_w ? 0 : (wp - g.kernel_w) / g.stride_w + 1;
    const int ow_end = min(wp / g.stride_w + 1, out_w);
    float sum = 0.0f;
    for (int oh = oh_begin; oh < oh_end; ++oh) {
      const int ki = hp - oh * g.stride_h;
      for (int ow = ow_begin; ow < ow_end; ++ow) {
        const int kj = wp - ow * g.stride_w;
        const std::int64_t row = (static_cast<std::int64_t>(c) * g.kernel_h + ki) * g.kernel_w + kj;
        sum += columns[row * positions + static_cast<std::int64_t>(oh) * out_w + ow];
      }
    }
    dx[i] += sum;
  }
}

}  // namespace clr::cuda_impl::kernels

namespace clr::cuda_impl::launch {

void im2col(const float* x, const ConvGeometry& g, float* columns, cudaStream_t stream) {
  const int out_h = g.out_h(), out_w = g.out_w();
  if (out_h <= 0 || out_w <= 0 || g.patch_size() <= 0) return;
  const std::int64_t n = static_cast<std::int64_t>(g.patch_size()) * out_h * out_w;
  kernels::im2col_kernel<<<kernels::blocks_for(n, kernels::kMaxBlocks),
                           kernels::kElementwiseThreads, 0, stream>>>(x, g, out_h, out_w,
                                                                      columns, n);
  check_launch("im2col");
}

void col2im(const float* columns, const ConvGeometry& g, float* dx, cudaStream_t stream) {
  const int out_h = g.out_h(), out_w = g.out_w();
  if (out_h <= 0 || out_w <= 0 || g.channels <= 0 || g.height <= 0 || g.width <= 0) return;
  const std::int64_t n = static_cast<std::int64_t>(g.channels) * g.height * g.width;
  kernels::col2im_kernel<<<kernels::blocks_for(n, kernels::kMaxBlocks),
                           kernels::kElementwiseThreads, 0, stream>>>(columns, g, out_h, out_w,
                                                                      dx, n);
  check_launch("col2im");
}

}  // namespace clr::cuda_impl::launch
