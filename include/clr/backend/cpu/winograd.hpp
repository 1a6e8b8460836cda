// The CPU backend's Winograd convolution F(m×m, 3×3) for 3×3 kernels at stride 1, padding
// 1, for either one-dimensional transform of winograd_matrices.hpp (tile transforms in
// winograd_transforms.hpp). Per m×m output tile and channel pair it takes n² = (m + 2)²
// multiplications where im2col's GEMM takes 9m²: F(2×2) 16 for 36 (2.25× fewer GEMM
// flops), F(4×4) 36 for 144 (4×), in the forward pass and in both gradients. F(4×4)'s
// transforms and its work per channel pair (36 values, against 16) cost more than it saves
// where F(2×2) can run channels-last on a full vector of channels (conv_kernels.hpp
// chooses: F(4×4) by rows now takes only the layers of 8 to 15 channels), and its rounding
// error is larger, within float32's use here (measured in test_winograd.cpp).
//
//   forward:        U_ξ = (G g Gᵀ)_ξ [out, in],  V_ξ = (Bᵀ d B)_ξ [in, tiles],
//                   M_ξ = U_ξ V_ξ [out, tiles],  y = Aᵀ M A per tile;
//   input gradient: the same convolution of dy with the kernel rotated by 180° and its
//                   in/out channels swapped (stride 1, padding 1 again);
//   weight gradient: dM = A dY Aᵀ per tile (the adjoint of y = Aᵀ M A),
//                   dU_ξ += dM_ξ V_ξᵀ [out, in],  dW += Gᵀ dU G (the adjoint of U).
//
// As in conv_kernels.hpp, one parallel region per call: the batch is cut into groups of
// images whose tiles sit side by side in the tile matrices (long GEMMs even for the deep
// layers' 4 tiles per image), each thread takes the groups of its share of the batch
// (image_groups.hpp), with its own workspace and single-threaded GEMMs. Weight-gradient
// partial sums are per thread and added in thread order, so the result does not depend on
// timing. The groups had once gone to whichever thread was free, as the second thread ran
// the transforms up to 1.7× slower than the first; with every layer keeping each thread on
// its own images, static shares are the faster (image_groups.hpp has the figures).
#pragma once

#include <omp.h>

#include <algorithm>

#include "clr/backend/conv2d.hpp"
#include "clr/backend/cpu/blas.hpp"
#include "clr/backend/cpu/image_groups.hpp"
#include "clr/backend/cpu/small_gemm.hpp"
#include "clr/backend/cpu/winograd_transforms.hpp"
#include "clr/backend/cpu/workspace.hpp"

namespace clr::cpu_impl {

// The geometries F(m×m, 3×3) computes, for either tile: 3×3 kernels, stride 1, padding 1.
inline bool winograd_fits(const ConvGeometry& g) {
  return g.kernel_h == 3 && g.kernel_w == 3 && g.stride_h == 1 && g.stride_w == 1 && g.pad_h == 1 &&
         g.pad_w == 1;
}

// How a batch is cut: a group's images share the n² GEMMs, their tiles side by side, at
// least kGroupTiles of them where the batch allows; the groups are spread over the threads.
// A group's transformed tiles are kept to kGroupValues per channel whatever the tile
// (F(2×2): 256 tiles, F(4×4): 113), so that they stay in the cache: F(4×4) with 256 tiles
// (2.25× the values) took 12–20% longer forward + backward (BM_conv2d, 64 channels at
// 32×32, 128 at 16×16).
template <class F>
struct WinogradGroups : ImageGroups {
  static constexpr int kGroupValues = 4096;
  static constexpr int kGroupTiles = kGroupValues / winograd::Tiling<F>::kTransformed;

  WinogradGroups(int batch, int tiles_per_image)
      : ImageGroups(batch, tiles_per_image, kGroupTiles) {}
};

template <class F>
struct WinogradConv {
  using Tiling = winograd::Tiling<F>;
  static constexpr int kTransformed = Tiling::kTransformed;

  static void forward(const Conv2dCall& call, float* y) {
    const Sizes s(call);
    const Plan plan(call.batch, s.tiling.tiles());
    Workspace filters(1, kTransformed * static_cast<long>(s.out) * s.in);
    Workspace tiles(plan.threads, kTransformed * s.in * plan.row_floats());
    Workspace products(plan.threads, kTransformed * s.out * plan.row_floats());
    Workspace scratch(plan.threads, s.tiling.scratch_floats());
#pragma omp parallel num_threads(plan.threads)
    {
      transform_filters(call.weights, s.out, s.in, false, filters.data);
      const int thread = omp_get_thread_num();
#pragma omp for schedule(static)
      for (int group = 0; group < plan.groups(); ++group) {
        const int first = plan.first_image(group), images = plan.images_in(group);
        if (images == 0) continue;  // a share shorter than the others
        convolve_group(call.x + first * call.image_size(), images, s.in, s.out, s.tiling,
                       filters.data, tiles.slice(thread), products.slice(thread),
                       scratch.slice(thread), y + first * call.output_size());
      }
    }
  }

  // dW += the weight gradient; dx (if not null) = the input gradient.
  static void backward(const Conv2dCall& call, const float* dy, float* weight_grad, float* dx) {
    const Sizes s(call);
    const Plan plan(call.batch, s.tiling.tiles());
    const long channels = std::max(s.in, s.out);
    const long pairs = static_cast<long>(s.out) * s.in;
    Workspace flipped(dx ? 1 : 0, kTransformed * pairs);
    Workspace tiles(plan.threads, kTransformed * channels * plan.row_floats());
    Workspace products(plan.threads, kTransformed * channels * plan.row_floats());
    Workspace scratch(plan.threads, s.tiling.scratch_floats());
    Workspace filter_grads(plan.threads, kTransformed * pairs);  // dU per thread
    std::fill_n(filter_grads.data, filter_grads.floats(), 0.0f);
#pragma omp parallel num_threads(plan.threads)
    {
      // U of the rotated kernel, stored [ξ][in][out]: the in/out swap is the storage order.
      if (dx) transform_filters(call.weights, s.out, s.in, true, flipped.data);
      const int thread = omp_get_thread_num();
      float* v = tiles.slice(thread);
      float* m = products.slice(thread);
      float* work = scratch.slice(thread);
#pragma omp for schedule(static) nowait
      for (int group = 0; group < plan.groups(); ++group) {
        const int first = plan.first_image(group), images = plan.images_in(group);
        if (images == 0) continue;  // a share shorter than the others
        const float* x_group = call.x + first * call.image_size();
        const float* dy_group = dy + first * call.output_size();
        const int ld = images * s.tiling.tiles();  // the tile matrices' columns
        const int row = ld + kSpill;               // and their row stride
        transform_inputs(x_group, images, s.in, s.tiling, v, row, work);
        winograd::prepare_gradient_scratch<F>(s.tiling, work);
        for (int n = 0; n < images; ++n)  // dM into the product buffer, [ξ][out][row]
          for (int o = 0; o < s.out; ++o)
            winograd::transform_gradient_plane<F>(
                dy_group + (static_cast<long>(n) * s.out + o) * s.tiling.height * s.tiling.width,
                s.tiling, m + static_cast<long>(o) * row + n * s.tiling.tiles(),
                static_cast<long>(s.out) * row, work);
        float* du = filter_grads.slice(thread);
        for (int xi = 0; xi < kTransformed; ++xi)
          Blas::gemm(false, true, s.out, s.in, ld, 1.0f, m + static_cast<long>(xi) * s.out * row,
                     row, v + static_cast<long>(xi) * s.in * row, row, 1.0f, du + xi * pairs, s.in);
      }
      // dx, group by group, each thread over its own images (image_groups.hpp).
      if (dx) {
#pragma omp for schedule(static) nowait
        for (int group = 0; group < plan.groups(); ++group) {
          const int first = plan.first_image(group), images = plan.images_in(group);
          if (images == 0) continue;  // a share shorter than the others
          convolve_group(dy + first * call.output_size(), images, s.out, s.in, s.tiling,
                         flipped.data, v, m, work, dx + first * call.image_size());
        }
      }
      // Every thread's dU before the sums.
#pragma omp barrier
      // dW += Gᵀ (Σ_threads dU) G, the threads' sums in thread order.
#pragma omp for schedule(static)
      for (long pair = 0; pair < pairs; ++pair) {
        float du[kTransformed];
        for (int xi = 0; xi < kTransformed; ++xi) {
          float sum = 0.0f;
          for (int t = 0; t < plan.threads; ++t) sum += filter_grads.slice(t)[xi * pairs + pair];
          du[xi] = sum;
        }
        winograd::add_filter_gradient<F>(du, weight_grad + pair * 9);
      }
    }
  }

 private:
  struct Sizes {
    explicit Sizes(const Conv2dCall& call)
        : in(call.geometry.channels),
          out(call.out_channels),
          tiling{call.geometry.height, call.geometry.width} {}
    int in, out;
    Tiling tiling;
  };

  // Room after each row of a tile matrix for the transforms' whole-chunk steps
  // (winograd_transforms.hpp) and for SmallGemm's whole vectors.
  static constexpr int kSpill = 16;
  static_assert(kSpill >= winograd::kLanes && kSpill >= SmallGemm::kWidth - 1);

  struct Plan : WinogradGroups<F> {
    using WinogradGroups<F>::WinogradGroups;
    long row_floats() const { return this->columns() + kSpill; }  // a row with its room
  };

  // u[ξ][o][c] = G W[o][c] Gᵀ, or with `flip` u[ξ][c][o] = G rot180(W[o][c]) Gᵀ. Called by
  // every thread of a parallel region: the filters are shared out, and the implied barrier
  // at the end lets every thread read all of u afterwards.
  static void transform_filters(const float* weights, int out, int in, bool flip, float* u) {
    const long pairs = static_cast<long>(out) * in;
    const int rows = flip ? in : out, width = flip ? out : in;
#pragma omp for schedule(static)
    for (int r = 0; r < rows; ++r)  // W[r][c] for each c, or W[o][r] for each o
      winograd::transform_filters<F>(weights + static_cast<long>(r) * (flip ? 1 : in) * 9,
                                     (flip ? in : 1) * 9L, width, flip,
                                     u + static_cast<long>(r) * width, pairs);
  }

  // V [ξ][channels][row] of `images` images [channels, H, W], image n's tiles from column
  // n·tiles; `row` ≥ images·tiles + kSpill.
  static void transform_inputs(const float* x, int images, int channels, const Tiling& t, float* v,
                               long row, float* scratch) {
    const long plane = static_cast<long>(t.height) * t.width;
    winograd::prepare_input_scratch<F>(t, scratch);
    for (int n = 0; n < images; ++n)
      for (int c = 0; c < channels; ++c)
        winograd::transform_input_plane<F>(x + (static_cast<long>(n) * channels + c) * plane, t,
                                           v + c * row + static_cast<long>(n) * t.tiles(),
                                           channels * row, scratch);
  }

  // y [images, out, H, W] = the Winograd convolution of x [images, in, H, W] with the
  // transformed filters u [ξ][out][in]; v and m are this thread's tile and product buffers.
  static void convolve_group(const float* x, int images, int in, int out, const Tiling& t,
                             const float* u, float* v, float* m, float* scratch, float* y) {
    const int ld = images * t.tiles(), row = ld + kSpill;
    const long plane = static_cast<long>(t.height) * t.width;
    transform_inputs(x, images, in, t, v, row, scratch);
    // SmallGemm computes whole vectors: the columns it reads past the last tile hold the
    // transforms' spill or nothing yet, so they are set to zeros first.
    for (long r = 0; r < static_cast<long>(kTransformed) * in; ++r)
      std::fill_n(v + r * row + ld, kSpill, 0.0f);
    for (int xi = 0; xi < kTransformed; ++xi)
      SmallGemm::multiply(out, ld, in, u + xi * static_cast<long>(out) * in, in,
                          v + static_cast<long>(xi) * in * row, row,
                          m + static_cast<long>(xi) * out * row, row);
    // The output transform reads up to kSpill columns past the GEMMs' last: zeros, not
    // whatever the workspace held (which could be slow denormals).
    for (long r = 0; r < static_cast<long>(kTransformed) * out; ++r)
      std::fill_n(m + r * row + ld, kSpill, 0.0f);
    for (int n = 0; n < images; ++n)
      for (int o = 0; o < out; ++o)
        winograd::transform_output_plane<F>(m + static_cast<long>(o) * row + n * t.tiles(),
                                            static_cast<long>(out) * row, t,
                                            y + (static_cast<long>(n) * out + o) * plane, scratch);
  }
};

using Winograd2x2 = WinogradConv<winograd::F2x2>;
using Winograd4x4 = WinogradConv<winograd::F4x4>;

}  // namespace clr::cpu_impl
