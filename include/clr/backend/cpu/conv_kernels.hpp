// The CPU backend's convolution: im2col and col2im (contract in clr/backend/im2col.hpp)
// and the batched forward and backward (clr/backend/conv2d.hpp).
//
// A batch runs whole images on separate threads, each with its own column buffer and a
// single-threaded GEMM (Eigen does not nest inside a parallel region): one parallel region
// per layer call. Splitting every image's im2col and GEMM over the threads instead costs
// two barriers per image, which dominate at small channel counts and multiply when the
// cores are shared. Weight gradients are summed per thread and added up at the end, in a
// fixed order, so the result does not depend on scheduling.
#pragma once

#include <omp.h>

#include <algorithm>

#include "clr/backend/conv2d.hpp"
#include "clr/backend/cpu/blas.hpp"
#include "clr/backend/cpu/memory.hpp"
#include "clr/backend/im2col.hpp"

namespace clr::cpu_impl {

struct ConvKernels {
  static void im2col(const float* x, const ConvGeometry& g, float* columns) {
#pragma omp parallel for schedule(static)
    for (int row = 0; row < g.patch_size(); ++row) im2col_row(x, g, row, columns);
  }

  static void col2im(const float* columns, const ConvGeometry& g, float* dx) {
#pragma omp parallel for schedule(static)
    for (int c = 0; c < g.channels; ++c) col2im_channel(columns, g, c, dx);
  }

  static void conv2d_forward(const Conv2dCall& call, float* y) {
    const int patch = call.geometry.patch_size(), positions = static_cast<int>(call.positions());
    Workspace columns(threads_for(call), column_floats(call));
#pragma omp parallel num_threads(columns.count)
    {
      float* mine = columns.slice(omp_get_thread_num());
#pragma omp for schedule(static)
      for (int n = 0; n < call.batch; ++n) {
        im2col_image(call.x + n * call.image_size(), call.geometry, mine);
        Blas::gemm(false, false, call.out_channels, positions, patch, 1.0f, call.weights, patch,
                   mine, positions, 0.0f, y + n * call.output_size(), positions);
      }
    }
  }

  static void conv2d_backward(const Conv2dCall& call, const float* dy, float* weight_grad,
                              float* dx) {
    const ConvGeometry& g = call.geometry;
    const int patch = g.patch_size(), positions = static_cast<int>(call.positions());
    const long weight_floats = static_cast<long>(call.out_channels) * patch;
    const int threads = threads_for(call);
    Workspace columns(threads, column_floats(call));
    // Thread 0 adds into weight_grad itself; the others into zeroed partial sums.
    Workspace partial_grads(threads - 1, weight_floats);
    std::fill_n(partial_grads.data, partial_grads.floats(), 0.0f);
#pragma omp parallel num_threads(threads)
    {
      const int thread = omp_get_thread_num();
      float* mine = columns.slice(thread);
      float* grad = thread == 0 ? weight_grad : partial_grads.slice(thread - 1);
#pragma omp for schedule(static)
      for (int n = 0; n < call.batch; ++n) {
        const float* dy_n = dy + n * call.output_size();
        im2col_image(call.x + n * call.image_size(), g, mine);
        Blas::gemm(false, true, call.out_channels, patch, positions, 1.0f, dy_n, positions, mine,
                   positions, 1.0f, grad, patch);
        if (!dx) continue;
        Blas::gemm(true, false, patch, positions, call.out_channels, 1.0f, call.weights, patch,
                   dy_n, positions, 0.0f, mine, positions);
        float* dx_n = dx + n * call.image_size();
        std::fill_n(dx_n, call.image_size(), 0.0f);
        for (int c = 0; c < g.channels; ++c) col2im_channel(mine, g, c, dx_n);
      }
#pragma omp for schedule(static)
      for (long i = 0; i < weight_floats; ++i)
        for (int t = 1; t < threads; ++t) weight_grad[i] += partial_grads.slice(t - 1)[i];
    }
  }

 private:
  // Scratch memory from the backend's counted allocator: `count` slices of `size` floats.
  struct Workspace {
    Workspace(int count, long size) : count(count), size(size) {
      if (floats() > 0) data = static_cast<float*>(Memory::allocate(bytes()));
    }
    ~Workspace() {
      if (data) Memory::deallocate(data, bytes());
    }
    Workspace(const Workspace&) = delete;
    Workspace& operator=(const Workspace&) = delete;

    long floats() const { return count * size; }
    std::int64_t bytes() const { return floats() * static_cast<std::int64_t>(sizeof(float)); }
    float* slice(int i) const { return data + i * size; }

    int count;
    long size;
    float* data = nullptr;
  };

  static int threads_for(const Conv2dCall& call) {
    return std::max(1, std::min(omp_get_max_threads(), call.batch));
  }
  static long column_floats(const Conv2dCall& call) {
    return call.geometry.patch_size() * call.positions();
  }

  static void im2col_image(const float* x, const ConvGeometry& g, float* columns) {
    for (int row = 0; row < g.patch_size(); ++row) im2col_row(x, g, row, columns);
  }

  // The output columns [first, last) whose input column ow·stride − pad + kj lies inside
  // the image; the others read the zero padding. Found once per kernel column so that the
  // inner loops run without bounds tests (a plain copy at stride 1).
  struct ValidColumns {
    int first, last;
  };
  static ValidColumns valid_columns(const ConvGeometry& g, int kj) {
    const int out_w = g.out_w(), offset = kj - g.pad_w;
    // ceil((−offset) / stride) and ceil((width − offset) / stride), clamped to [0, out_w]
    auto ceil_div = [](int a, int b) { return a >= 0 ? (a + b - 1) / b : -(-a / b); };
    const int first = std::clamp(ceil_div(-offset, g.stride_w), 0, out_w);
    const int last = std::clamp(ceil_div(g.width - offset, g.stride_w), first, out_w);
    return {first, last};
  }

  // Row (c, ki, kj) of the column matrix: the input plane c shifted by (ki, kj).
  static void im2col_row(const float* x, const ConvGeometry& g, int row, float* columns) {
    const int out_h = g.out_h(), out_w = g.out_w(), stride = g.stride_w;
    const int c = row / (g.kernel_h * g.kernel_w);
    const int ki = row / g.kernel_w % g.kernel_h, kj = row % g.kernel_w;
    const auto [first, last] = valid_columns(g, kj);
    const int offset = kj - g.pad_w;
    const float* plane = x + static_cast<long>(c) * g.height * g.width;
    float* out = columns + static_cast<long>(row) * out_h * out_w;
    for (int oh = 0; oh < out_h; ++oh) {
      const int ih = oh * g.stride_h - g.pad_h + ki;
      float* out_row = out + static_cast<long>(oh) * out_w;
      if (ih < 0 || ih >= g.height) {
        std::fill_n(out_row, out_w, 0.0f);
        continue;
      }
      const float* in_row = plane + static_cast<long>(ih) * g.width;
      std::fill_n(out_row, first, 0.0f);
      if (stride == 1) {
        std::copy(in_row + first + offset, in_row + last + offset, out_row + first);
      } else {
        for (int ow = first; ow < last; ++ow) out_row[ow] = in_row[ow * stride + offset];
      }
      std::fill(out_row + last, out_row + out_w, 0.0f);
    }
  }

  // Adds the column rows of channel c back onto its input plane (no other channel
  // touches it, so channels may run in parallel).
  static void col2im_channel(const float* columns, const ConvGeometry& g, int c, float* dx) {
    const int out_h = g.out_h(), out_w = g.out_w(), stride = g.stride_w;
    const int per_channel = g.kernel_h * g.kernel_w;
    float* plane = dx + static_cast<long>(c) * g.height * g.width;
    for (int k = 0; k < per_channel; ++k) {
      const int ki = k / g.kernel_w, kj = k % g.kernel_w;
      const auto [first, last] = valid_columns(g, kj);
      const int offset = kj - g.pad_w;
      const float* in = columns + static_cast<long>(c * per_channel + k) * out_h * out_w;
      for (int oh = 0; oh < out_h; ++oh) {
        const int ih = oh * g.stride_h - g.pad_h + ki;
        if (ih < 0 || ih >= g.height) continue;
        float* dx_row = plane + static_cast<long>(ih) * g.width;
        const float* in_row = in + static_cast<long>(oh) * out_w;
        if (stride == 1) {
          for (int ow = first; ow < last; ++ow) dx_row[ow + offset] += in_row[ow];
        } else {
          for (int ow = first; ow < last; ++ow) dx_row[ow * stride + offset] += in_row[ow];
        }
      }
    }
  }
};

}  // namespace clr::cpu_impl
