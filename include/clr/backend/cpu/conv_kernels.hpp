// The CPU backend's convolution: im2col and col2im (contract in clr/backend/im2col.hpp)
// and the batched forward and backward (clr/backend/conv2d.hpp). The 3×3, stride-1,
// padding-1 convolutions (most of a ResNet's) go to Winograd instead (F(2×2, 3×3) with the
// channels last, winograd_channels_last.hpp, from 16 channels; F(4×4, 3×3) by rows,
// winograd.hpp, below), the strided ones to im2col with the channels last
// (im2col_channels_last.hpp); ConvAlgorithm chooses, this file holds the im2col path.
//
// A batch runs whole images on separate threads, each with its own column buffer and
// single-threaded GEMMs: SmallGemm (small_gemm.hpp) for the products by the weights, which
// read the columns where im2col wrote them, and Eigen for the weight gradient (Eigen does
// not nest inside a parallel region): one parallel region per layer call. Splitting every
// image's im2col and GEMM over the threads instead costs two barriers per image, which
// dominate at small channel counts and multiply when the cores are shared. Where an image
// has few output positions (the deep layers), several images share one GEMM with their
// columns side by side (Plan). Weight gradients are summed per thread and added up at the
// end, in a fixed order, so the result does not depend on scheduling.
#pragma once

#include <omp.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>

#include "clr/backend/conv2d.hpp"
#include "clr/backend/cpu/blas.hpp"
#include "clr/backend/cpu/im2col_channels_last.hpp"
#include "clr/backend/cpu/image_groups.hpp"
#include "clr/backend/cpu/small_gemm.hpp"
#include "clr/backend/cpu/winograd.hpp"
#include "clr/backend/cpu/winograd_channels_last.hpp"
#include "clr/backend/cpu/workspace.hpp"
#include "clr/backend/im2col.hpp"
#include "clr/core/error.hpp"

namespace clr::cpu_impl {

// How the CPU computes a convolution: `automatic` takes Winograd where the geometry fits
// and it is the faster one, with the channels as the vector lanes (winograd_channels_last.hpp)
// from a vector of channels up, F(4×4, 3×3) where its tiles fit the image tightly and
// F(2×2, 3×3) elsewhere (prefers_4x4_tiles), F(4×4) by image rows (winograd.hpp) below
// (kChannelsLastMinChannels), im2col + GEMM otherwise, channels-last for the strided layers
// (prefers_channels_last); `im2col`, `winograd` (F(4×4)), `winograd_2x2` (F(2×2) by image
// rows, as F(4×4) runs), `winograd_2x2_channels_last`, `winograd_4x4_channels_last` and
// `im2col_channels_last` force a path (Winograd only where it fits: 3×3, stride 1, padding 1;
// the others anywhere), for tests and benchmarks. The environment variable
// CLR_CONV_ALGORITHM (any of those names) sets the starting value, so that a whole program
// can be timed either way.
enum class ConvAlgorithm {
  automatic,
  im2col,
  winograd,
  winograd_2x2,
  winograd_2x2_channels_last,
  winograd_4x4_channels_last,
  im2col_channels_last
};

inline ConvAlgorithm conv_algorithm_from_environment() {
  const char* value = std::getenv("CLR_CONV_ALGORITHM");
  if (value == nullptr || *value == '\0' || std::strcmp(value, "automatic") == 0)
    return ConvAlgorithm::automatic;
  if (std::strcmp(value, "im2col") == 0) return ConvAlgorithm::im2col;
  if (std::strcmp(value, "winograd") == 0) return ConvAlgorithm::winograd;
  if (std::strcmp(value, "winograd_2x2") == 0) return ConvAlgorithm::winograd_2x2;
  if (std::strcmp(value, "winograd_2x2_channels_last") == 0)
    return ConvAlgorithm::winograd_2x2_channels_last;
  if (std::strcmp(value, "winograd_4x4_channels_last") == 0)
    return ConvAlgorithm::winograd_4x4_channels_last;
  if (std::strcmp(value, "im2col_channels_last") == 0) return ConvAlgorithm::im2col_channels_last;
  throw Error(std::string("CLR_CONV_ALGORITHM=") + value +
              ": expected automatic, im2col, winograd, winograd_2x2, winograd_2x2_channels_last, "
              "winograd_4x4_channels_last or im2col_channels_last");
}

struct ConvKernels {
  // The process-wide choice: CLR_CONV_ALGORITHM's, else `automatic`, unless a test or
  // benchmark sets another.
  static ConvAlgorithm& conv_algorithm() {
    static ConvAlgorithm algorithm = conv_algorithm_from_environment();
    return algorithm;
  }

  // The path conv2d_forward and conv2d_backward take for this call, never automatic.
  static ConvAlgorithm conv_algorithm_for(const Conv2dCall& call) {
    const ConvAlgorithm chosen = conv_algorithm();
    if (chosen == ConvAlgorithm::im2col || chosen == ConvAlgorithm::im2col_channels_last)
      return chosen;
    if (!winograd_fits(call.geometry))
      return chosen == ConvAlgorithm::automatic && prefers_channels_last(call.geometry)
                 ? ConvAlgorithm::im2col_channels_last
                 : ConvAlgorithm::im2col;
    if (chosen != ConvAlgorithm::automatic) return chosen;
    const int channels = std::min(call.geometry.channels, call.out_channels);
    if (channels < kWinogradMinChannels) return ConvAlgorithm::im2col;
    if (channels < kChannelsLastMinChannels) return ConvAlgorithm::winograd;
    return prefers_4x4_tiles(call) ? ConvAlgorithm::winograd_4x4_channels_last
                                   : ConvAlgorithm::winograd_2x2_channels_last;
  }

  static void im2col(const float* x, const ConvGeometry& g, float* columns) {
#pragma omp parallel for schedule(static)
    for (int row = 0; row < g.patch_size(); ++row)
      im2col_row(x, g, row, columns, static_cast<long>(g.out_h()) * g.out_w());
  }

  static void col2im(const float* columns, const ConvGeometry& g, float* dx) {
#pragma omp parallel for schedule(static)
    for (int c = 0; c < g.channels; ++c)
      col2im_channel(columns, g, c, dx, static_cast<long>(g.out_h()) * g.out_w());
  }

  static void conv2d_forward(const Conv2dCall& call, float* y) {
    switch (conv_algorithm_for(call)) {
      case ConvAlgorithm::winograd:
        return Winograd4x4::forward(call, y);
      case ConvAlgorithm::winograd_2x2:
        return Winograd2x2::forward(call, y);
      case ConvAlgorithm::winograd_2x2_channels_last:
        return Winograd2x2ChannelsLast::forward(call, y);
      case ConvAlgorithm::winograd_4x4_channels_last:
        return Winograd4x4ChannelsLast::forward(call, y);
      case ConvAlgorithm::im2col_channels_last:
        return Im2colChannelsLast::forward(call, y);
      default:
        break;
    }
    const Plan plan(call);
    const int patch = call.geometry.patch_size(), out = call.out_channels;
    const long ld = plan.row_stride();
    Workspace columns(plan.threads, patch * ld);
    Workspace staged(plan.direct() ? 0 : plan.threads, out * ld);
#pragma omp parallel num_threads(plan.threads)
    {
      const int thread = omp_get_thread_num();
      float* cols = columns.slice(thread);
#pragma omp for schedule(static)
      for (int group = 0; group < plan.groups(); ++group) {
        const int first = plan.first_image(group), images = plan.images_in(group);
        if (images == 0) continue;  // a share shorter than the others
        const int n = images * plan.positions;
        for (int i = 0; i < images; ++i)
          im2col_image(call.x + (first + i) * call.image_size(), call.geometry,
                       cols + i * plan.positions, ld);
        zero_padding(cols, patch, n, ld);
        // One image whose rows are whole vectors writes straight into y; otherwise the
        // result goes through [out, ld].
        float* result = plan.direct() ? y + first * call.output_size() : staged.slice(thread);
        SmallGemm::multiply(out, n, patch, call.weights, patch, cols, ld, result, ld);
        if (!plan.direct())
          for (int i = 0; i < images; ++i)
            copy_block(result + i * plan.positions, ld, y + (first + i) * call.output_size(),
                       plan.positions, out, plan.positions);
      }
    }
  }

  static void conv2d_backward(const Conv2dCall& call, const float* dy, float* weight_grad,
                              float* dx) {
    switch (conv_algorithm_for(call)) {
      case ConvAlgorithm::winograd:
        return Winograd4x4::backward(call, dy, weight_grad, dx);
      case ConvAlgorithm::winograd_2x2:
        return Winograd2x2::backward(call, dy, weight_grad, dx);
      case ConvAlgorithm::winograd_2x2_channels_last:
        return Winograd2x2ChannelsLast::backward(call, dy, weight_grad, dx);
      case ConvAlgorithm::winograd_4x4_channels_last:
        return Winograd4x4ChannelsLast::backward(call, dy, weight_grad, dx);
      case ConvAlgorithm::im2col_channels_last:
        return Im2colChannelsLast::backward(call, dy, weight_grad, dx);
      default:
        break;
    }
    const Plan plan(call);
    const ConvGeometry& g = call.geometry;
    const int patch = g.patch_size(), out = call.out_channels, in = g.channels;
    const long weight_floats = static_cast<long>(out) * patch;
    const long in_positions = static_cast<long>(g.height) * g.width;
    // At stride 1, dx is itself a convolution: of dy, padded by k − 1 − p, with the kernel
    // flipped and its in/out channels swapped. Its im2col is a copy and its GEMM writes dx
    // whole, where col2im would scatter-add short rows (a third of the backward pass at
    // quarter width). Other strides take the col2im path, whose GEMM multiplies by Wᵀ.
    const bool as_convolution =
        dx && g.stride_h == 1 && g.stride_w == 1 && g.pad_h < g.kernel_h && g.pad_w < g.kernel_w;
    const ConvGeometry dg{out,
                          g.out_h(),
                          g.out_w(),
                          g.kernel_h,
                          g.kernel_w,
                          g.kernel_h - 1 - g.pad_h,
                          g.kernel_w - 1 - g.pad_w,
                          1,
                          1};
    // The row strides: of the columns and dy ([·, images·positions]), and of dx's columns
    // and result ([·, images·in_positions]), in whole vectors for SmallGemm.
    const long ld = plan.row_stride();
    const long dx_ld = SmallGemm::padded_columns(static_cast<int>(plan.group * in_positions));
    const bool direct_dx = plan.group == 1 && dx_ld == in_positions;
    Workspace weights_for_dx(dx ? 1 : 0, static_cast<long>(in) * dg.patch_size());
    if (as_convolution)
      flip_kernel(call, weights_for_dx.data);
    else if (dx)
      transpose(call.weights, out, patch, weights_for_dx.data);

    const long column_floats = std::max(patch * ld, as_convolution ? dg.patch_size() * dx_ld : 0L);
    Workspace columns(plan.threads, column_floats);
    Workspace gathered_dy(plan.direct() ? 0 : plan.threads, out * ld);
    Workspace staged_dx(as_convolution && !direct_dx ? plan.threads : 0, in * dx_ld);
    // Thread 0 adds into weight_grad itself; the others into zeroed partial sums.
    Workspace partial_grads(plan.threads - 1, weight_floats);
    std::fill_n(partial_grads.data, partial_grads.floats(), 0.0f);
#pragma omp parallel num_threads(plan.threads)
    {
      const int thread = omp_get_thread_num();
      float* cols = columns.slice(thread);
      float* grad = thread == 0 ? weight_grad : partial_grads.slice(thread - 1);
#pragma omp for schedule(static)
      for (int group = 0; group < plan.groups(); ++group) {
        const int first = plan.first_image(group), images = plan.images_in(group);
        if (images == 0) continue;  // a share shorter than the others
        const int n = images * plan.positions;
        const float* dy_group = dy + first * call.output_size();
        if (!plan.direct()) {  // dy of the group side by side: [out, ld]
          float* gathered = gathered_dy.slice(thread);
          for (int i = 0; i < images; ++i)
            copy_block(dy_group + i * call.output_size(), plan.positions,
                       gathered + i * plan.positions, ld, out, plan.positions);
          zero_padding(gathered, out, n, ld);
          dy_group = gathered;
        }
        for (int i = 0; i < images; ++i)
          im2col_image(call.x + (first + i) * call.image_size(), g, cols + i * plan.positions, ld);
        Blas::gemm(false, true, out, patch, n, 1.0f, dy_group, static_cast<int>(ld), cols,
                   static_cast<int>(ld), 1.0f, grad, patch);
        if (!dx) continue;
        if (as_convolution) {
          const int dx_n = static_cast<int>(images * in_positions);
          for (int i = 0; i < images; ++i)
            im2col_image(dy + (first + i) * call.output_size(), dg, cols + i * in_positions, dx_ld);
          zero_padding(cols, dg.patch_size(), dx_n, dx_ld);
          // One image whose rows are whole vectors writes straight into dx; otherwise the
          // result goes through [in, dx_ld].
          float* result = direct_dx ? dx + first * call.image_size() : staged_dx.slice(thread);
          SmallGemm::multiply(in, dx_n, dg.patch_size(), weights_for_dx.data, dg.patch_size(), cols,
                              dx_ld, result, dx_ld);
          if (!direct_dx)
            for (int i = 0; i < images; ++i)
              copy_block(result + i * in_positions, dx_ld, dx + (first + i) * call.image_size(),
                         in_positions, in, static_cast<int>(in_positions));
          continue;
        }
        SmallGemm::multiply(patch, n, out, weights_for_dx.data, out, dy_group, ld, cols, ld);
        for (int i = 0; i < images; ++i) {
          float* dx_n = dx + (first + i) * call.image_size();
          std::fill_n(dx_n, call.image_size(), 0.0f);
          for (int c = 0; c < g.channels; ++c)
            col2im_channel(cols + i * plan.positions, g, c, dx_n, ld);
        }
      }
#pragma omp for schedule(static)
      for (long i = 0; i < weight_floats; ++i)
        for (int t = 1; t < plan.threads; ++t) weight_grad[i] += partial_grads.slice(t - 1)[i];
    }
  }

 private:
  // Below this many input channels (the RGB stem) im2col's longer GEMMs win: measured with
  // bench_nn's BM_conv2d, docs/benchmarks.md.
  static constexpr int kWinogradMinChannels = 8;

  // Where im2col's channels-last form wins (im2col_channels_last.hpp; layer by layer, forward
  // + backward, at quarter and full width, batches 64–256): the strided 3×3 layers from 16
  // channels (0.55–0.65× im2col's time at quarter width, 0.8× at full width), the strided
  // 1×1 shortcuts from 64 (0.75–0.9×; at 16 channels 1.1–1.2×). Not the stem (3 or 1
  // channels: 2×) nor stride 1, where im2col's columns are the image itself.
  static bool prefers_channels_last(const ConvGeometry& g) {
    if (g.stride_h == 1 && g.stride_w == 1) return false;
    const int taps = g.kernel_h * g.kernel_w;
    return g.channels >= (taps > 1 ? 16 : 64);
  }

  // Channels-last from 16 channels (in and out) on every image size, F(4×4) by rows below: a tile's
  // values across a vector of channels beat the rows' layout everywhere that vector is full.
  // Measured before F(4×4) channels-last existed, forward + backward, 2 threads, the two
  // interleaved in one process: F(2×2) channels-last takes 0.47–0.51× F(4×4)'s time at 16 channels
  // on 28×28 (batches 32–256), 0.60× on 32×32, 0.34–0.45× on 16×16 to 24×24, 0.57× at 32 channels
  // on 28×28, 0.74–0.77× at 64 on 28×28 and 32×32, 0.90× on 56×56, 0.41× on 112×112; even (1.03×)
  // at 16 on 224×224. At 8 channels, half a vector, it takes 1.8–5× F(4×4)'s.
  static constexpr int kChannelsLastMinChannels = 16;

  // Channels-last, F(4×4) where its tiles cover the image as tightly as F(2×2)'s (a side of
  // 4k or 4k − 1: 28, 32, 16, 8, 7, 4; not 14, where 16 × 16 outputs are computed for 14 ×
  // 14) and the layer has at most kWinograd4x4MaxChannels. Forward + backward, 2 threads, the
  // two paths in one process (each thread's buffers its own, block_cache.hpp): F(4×4) takes
  // 0.76× F(2×2)'s time at 16 channels on 28×28 (batch 256), 0.65× at 64 on 7×7, 0.90× at
  // 128 on 4×4, 0.74× at 64 on 32×32 (batch 128), 0.84× at 128 on 16×16, 0.92× at 256 on
  // 8×8 (batch 32); 1.19× at 32 on 14×14 and 1.6× at 512 on 4×4, where a thread's weight
  // gradient, 36 × 512 × 512 floats, no longer stays in the caches.
  static constexpr int kWinograd4x4MaxChannels = 256;
  static bool prefers_4x4_tiles(const Conv2dCall& call) {
    const auto tight = [](int side) { return side % 4 == 0 || side % 4 == 3; };
    const ConvGeometry& g = call.geometry;
    return tight(g.height) && tight(g.width) &&
           std::max(g.channels, call.out_channels) <= kWinograd4x4MaxChannels;
  }

  // How a batch is cut (image_groups.hpp): a group's columns side by side, at least
  // kGroupColumns output positions where the batch allows.
  struct Plan : ImageGroups {
    static constexpr int kGroupColumns = 256;

    explicit Plan(const Conv2dCall& call)
        : ImageGroups(call.batch, static_cast<int>(call.positions()), kGroupColumns),
          positions(per_image) {}
    // The row stride of a group's matrices: its columns in whole vectors, for SmallGemm.
    long row_stride() const { return SmallGemm::padded_columns(group * positions); }
    // Whether SmallGemm can read dy and write y where they lie: one image a group, its
    // positions whole vectors.
    bool direct() const { return group == 1 && row_stride() == positions; }

    int positions;  // an image's output positions
  };

  // flipped[c][o][a][b] = W[o][c][kh − 1 − a][kw − 1 − b]: the kernel of dx = conv(dy).
  static void flip_kernel(const Conv2dCall& call, float* flipped) {
    const ConvGeometry& g = call.geometry;
    const int taps = g.kernel_h * g.kernel_w, out = call.out_channels;
    for (int c = 0; c < g.channels; ++c)
      for (int o = 0; o < out; ++o)
        for (int t = 0; t < taps; ++t)
          flipped[(static_cast<long>(c) * out + o) * taps + t] =
              call.weights[(static_cast<long>(o) * g.channels + c) * taps + (taps - 1 - t)];
  }

  // transposed[j][i] = matrix[i][j], matrix [rows, cols].
  static void transpose(const float* matrix, int rows, int cols, float* transposed) {
    for (int i = 0; i < rows; ++i)
      for (int j = 0; j < cols; ++j)
        transposed[static_cast<long>(j) * rows + i] = matrix[static_cast<long>(i) * cols + j];
  }

  // Zeroes columns [n, round_up(n, 16)) of a [rows, ld] matrix: SmallGemm reads them (into
  // columns of its result that nobody reads), and they should hold numbers.
  static void zero_padding(float* matrix, int rows, int n, long ld) {
    const int end = SmallGemm::padded_columns(n);
    if (end == n) return;
    for (int r = 0; r < rows; ++r) std::fill(matrix + r * ld + n, matrix + r * ld + end, 0.0f);
  }

  // rows × cols floats from src (row stride src_ld) to dst (row stride dst_ld).
  static void copy_block(const float* src, long src_ld, float* dst, long dst_ld, int rows,
                         int cols) {
    for (int r = 0; r < rows; ++r) std::copy_n(src + r * src_ld, cols, dst + r * dst_ld);
  }

  // One image's columns into a matrix with row stride ld (>= out_h·out_w: other images'
  // columns may sit beside them).
  static void im2col_image(const float* x, const ConvGeometry& g, float* columns, long ld) {
    for (int row = 0; row < g.patch_size(); ++row) im2col_row(x, g, row, columns, ld);
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
  static void im2col_row(const float* x, const ConvGeometry& g, int row, float* columns, long ld) {
    const int out_h = g.out_h(), out_w = g.out_w(), stride = g.stride_w;
    const int c = row / (g.kernel_h * g.kernel_w);
    const int ki = row / g.kernel_w % g.kernel_h, kj = row % g.kernel_w;
    const auto [first, last] = valid_columns(g, kj);
    const int offset = kj - g.pad_w;
    const float* plane = x + static_cast<long>(c) * g.height * g.width;
    float* out = columns + row * ld;
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
  static void col2im_channel(const float* columns, const ConvGeometry& g, int c, float* dx,
                             long ld) {
    const int out_h = g.out_h(), out_w = g.out_w(), stride = g.stride_w;
    const int per_channel = g.kernel_h * g.kernel_w;
    float* plane = dx + static_cast<long>(c) * g.height * g.width;
    for (int k = 0; k < per_channel; ++k) {
      const int ki = k / g.kernel_w, kj = k % g.kernel_w;
      const auto [first, last] = valid_columns(g, kj);
      const int offset = kj - g.pad_w;
      const float* in = columns + (c * per_channel + k) * ld;
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
