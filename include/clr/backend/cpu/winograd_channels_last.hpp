// Winograd's F(m×m, 3×3) (winograd.hpp) with the channels as the vector lanes: the tile
// matrices are stored [ξ][tile][channel] instead of [ξ][channel][tile], and every tile
// transform runs across all channels of one tile at unit stride. WinogradConv's transforms
// run across the tiles of one image row, which on the deep layers' small images is a short
// row: an 8×8 image has rows of 4 F(2×2) tiles, a 4×4 image of 2, and the vector steps of 8
// tiles left half or three quarters of that transform work on padding. Here the image is
// first transposed to channels-last (a copy, one pass), and nothing is padded but the channel
// count of the GEMM's output rows. From 16 channels it also beats F(4×4) by rows on the
// large images (conv_kernels.hpp has the figures), so it takes every such layer.
//
//   forward:         Ut_ξ [in, out] = (G g Gᵀ)_ξ transposed,  Vt_ξ [tiles, in],
//                    Mt_ξ = Vt_ξ Ut_ξ [tiles, out],  y = Aᵀ M A per tile and channel;
//   input gradient:  the same convolution of dy with the kernel rotated by 180° and its
//                    in/out channels swapped;
//   weight gradient: dMt_ξ [tiles, out] = (A dY Aᵀ)_ξ,  dU_ξ += dMt_ξᵀ Vt_ξ [out, in],
//                    dW += Gᵀ dU G.
//
// Groups of images, threads and the order of the weight-gradient sums as in WinogradConv; the
// backward pass computes dx in the weight gradient's (static) pass over the groups, from the
// same channels-last copy of dy. Each thread allocates its own buffers inside the parallel
// region (workspace.hpp says why).
#pragma once

#include <omp.h>

#include <algorithm>
#include <type_traits>
#include <vector>

#include "clr/backend/conv2d.hpp"
#include "clr/backend/cpu/channels_last.hpp"
#include "clr/backend/cpu/float_vector.hpp"
#include "clr/backend/cpu/small_gemm.hpp"
#include "clr/backend/cpu/winograd.hpp"
#include "clr/backend/cpu/winograd_transforms.hpp"
#include "clr/backend/cpu/workspace.hpp"

namespace clr::cpu_impl {

template <class F>
struct WinogradChannelsLast {
  using Tiling = winograd::Tiling<F>;
  static constexpr int m = F::m, n = F::n;
  static constexpr int kTransformed = Tiling::kTransformed;

  static void forward(const Conv2dCall& call, float* y) {
    const Sizes s(call);
    const WinogradGroups<F> plan(call.batch, s.tiling.tiles());
    Workspace filters(1, kTransformed * static_cast<long>(s.in) * s.ld_out);
#pragma omp parallel num_threads(plan.threads)
    {
      transform_filters(call.weights, s.out, s.in, false, filters.data, s.ld_out);
      // This thread's own buffers (workspace.hpp).
      const Workspace tiles(1, kTransformed * plan.columns() * s.ld_in);
      const Workspace products(1, kTransformed * plan.columns() * s.ld_out);
      const Workspace image(1, image_floats(s.tiling, std::max(s.ld_in, s.ld_out)));
#pragma omp for schedule(static)
      for (int group = 0; group < plan.groups(); ++group) {
        const int first = plan.first_image(group), images = plan.images_in(group);
        if (images == 0) continue;  // a share shorter than the others
        convolve_group(call.x + first * call.image_size(), images, s.in, s.out, s.tiling,
                       filters.data, tiles.data, products.data, image.data,
                       y + first * call.output_size());
      }
    }
  }

  // dW += the weight gradient; dx (if not null) = the input gradient. Both from one pass
  // over the groups: each image of dy is transposed to channels-last once, and its grid gives
  // both dM's tiles (for dW) and V's (for dx, the convolution of dy), where two passes had
  // read dy from memory and transposed it twice (a quarter of the layer's transposes).
  static void backward(const Conv2dCall& call, const float* dy, float* weight_grad, float* dx) {
    const Sizes s(call);
    const WinogradGroups<F> plan(call.batch, s.tiling.tiles());
    const long widest = std::max(s.ld_in, s.ld_out);
    const long du_floats = kTransformed * static_cast<long>(s.out) * s.ld_in;
    Workspace flipped(dx ? 1 : 0, kTransformed * static_cast<long>(s.out) * s.ld_in);
    std::vector<const float*> filter_grads(plan.threads);  // each thread's dU, for the sums
    const long plane = static_cast<long>(s.tiling.height) * s.tiling.width;
#pragma omp parallel num_threads(plan.threads)
    {
      // Ut of the rotated kernel for the convolution from out to in channels: [ξ][out][in].
      if (dx) transform_filters(call.weights, s.out, s.in, true, flipped.data, s.ld_in);
      const int thread = omp_get_thread_num();
      // This thread's own buffers (workspace.hpp), dU [ξ][out][ld_in] among them.
      const Workspace tiles(1, kTransformed * plan.columns() * widest);
      const Workspace products(1, kTransformed * plan.columns() * widest);
      const Workspace dy_tiles(dx ? 1 : 0, kTransformed * plan.columns() * s.ld_out);
      const Workspace image(1, image_floats(s.tiling, widest));
      const Workspace filter_grad(1, du_floats);
      const Workspace row_sums(1, kTransformed * static_cast<long>(s.ld_in));
      std::fill_n(filter_grad.data, du_floats, 0.0f);
      filter_grads[thread] = filter_grad.data;
      float* vt = tiles.data;
      float* mt = products.data;
      float* work = image.data;
#pragma omp for schedule(static)
      for (int group = 0; group < plan.groups(); ++group) {
        const int first = plan.first_image(group), images = plan.images_in(group);
        if (images == 0) continue;  // a share shorter than the others
        const int columns = images * s.tiling.tiles();
        const float* dy_group = dy + first * call.output_size();
        transform_inputs(call.x + first * call.image_size(), images, s.in, s.ld_in, s.tiling, vt,
                         work);
        if (dx) {  // dy's grid with padding 1, as the input of dx's convolution
          float* vt_dy = dy_tiles.data;
          const int pw = padded_w(s.tiling);
          for (int i = 0; i < images; ++i) {
            const long tile_row = static_cast<long>(i) * s.tiling.tiles();
            to_channels_last(dy_group + i * s.out * plane, grid(s.tiling, s.out, 1), work);
            gradient_tiles(work + (pw + 1L) * s.out, s.out, s.tiling, mt + tile_row * s.out,
                           static_cast<long>(columns) * s.out);
            input_tiles(work, s.out, s.ld_out, s.tiling, vt_dy + tile_row * s.ld_out,
                        static_cast<long>(columns) * s.ld_out);
          }
        } else {
          transform_gradients(dy_group, images, s.out, s.tiling, mt, work);
        }
        float* du = filter_grad.data;
        for (int xi = 0; xi < kTransformed; ++xi)
          SmallGemm::add_transposed_product(s.out, s.in, columns,
                                            mt + static_cast<long>(xi) * columns * s.out, s.out,
                                            vt + static_cast<long>(xi) * columns * s.ld_in, s.ld_in,
                                            du + xi * s.out * s.ld_in, s.ld_in);
        if (dx)  // dx's products into vt, free now
          multiply_and_output(dy_tiles.data, images, s.out, s.in, s.tiling, flipped.data, vt, work,
                              dx + first * call.image_size());
      }
      // dW += Gᵀ (Σ_threads dU) G, the threads' sums in thread order: for one output channel
      // at a time, the sums over whole rows of dU first (read in order, where a pair's 16
      // values lie a matrix apart), then each pair's 16 sums.
      float* sums = row_sums.data;  // [ξ][ld_in]
#pragma omp for schedule(static)
      for (int o = 0; o < s.out; ++o) {
        for (int xi = 0; xi < kTransformed; ++xi) {
          float* sum = sums + xi * s.ld_in;
          std::fill_n(sum, s.in, 0.0f);
          for (int t = 0; t < plan.threads; ++t) {
            const float* du = filter_grads[t] + (static_cast<long>(xi) * s.out + o) * s.ld_in;
#pragma omp simd
            for (int c = 0; c < s.in; ++c) sum[c] += du[c];
          }
        }
        for (int c = 0; c < s.in; ++c) {
          float du[kTransformed];
          for (int xi = 0; xi < kTransformed; ++xi) du[xi] = sums[xi * s.ld_in + c];
          winograd::add_filter_gradient<F>(du, weight_grad + (static_cast<long>(o) * s.in + c) * 9);
        }
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
    // Rows of in or out channels in whole vectors, as SmallGemm reads and writes them.
    int ld_in = SmallGemm::padded_columns(in), ld_out = SmallGemm::padded_columns(out);
  };

  // The tile transforms run across the channels of a tile, a vector of them at a time (the
  // channels are the lanes), the channels past whole vectors one by one: `body(lanes, k)`
  // for channels k…, lanes a std::type_identity of FloatVector or float. Written out with
  // vectors because GCC left F(4×4)'s 6×6 tiles under `omp simd` scalar (3–10× the time of
  // F(2×2)'s).
  template <class Body>
  static void by_channel_vectors(int channels, Body body) {
    int k = 0;
    for (; k + kVectorFloats <= channels; k += kVectorFloats)
      body(std::type_identity<FloatVector>{}, k);
    for (; k < channels; ++k) body(std::type_identity<float>{}, k);
  }

  // An image channels-last and padded: one row and column of zeros before it and enough
  // after for whole tiles, (m·tiles_h + 2) × (m·tiles_w + 2) positions of `channels` floats.
  static int padded_h(const Tiling& t) {
    return m * t.tiles_h() + 2;
  }
  static int padded_w(const Tiling& t) {
    return m * t.tiles_w() + 2;
  }
  static long image_floats(const Tiling& t, long channels) {
    return static_cast<long>(padded_h(t)) * padded_w(t) * channels;
  }

  // The image [channels, H, W] channels-last in a padded grid of padded_h × padded_w
  // positions, from (pad, pad): 1 for the input transform's tiles, which start one row and
  // column before the image; 0 for the gradient and output transforms'.
  static ChannelsLastImage grid(const Tiling& t, int channels, int pad) {
    return {channels, t.height, t.width, pad, pad, padded_h(t), padded_w(t), channels};
  }

  // Ut[ξ][c][o] = (G W[o][c] Gᵀ)_ξ, rows of ld ≥ out floats; with `flip`, for the
  // convolution from out to in channels, Ut[ξ][o][c] = (G rot180(W[o][c]) Gᵀ)_ξ, rows of ld
  // ≥ in. The padding columns are zeros (SmallGemm multiplies them). Called by every thread
  // of a parallel region, as WinogradConv's.
  static void transform_filters(const float* weights, int out, int in, bool flip, float* ut,
                                int ld) {
    const int rows = flip ? out : in, width = flip ? in : out;
    const long xi_stride = static_cast<long>(rows) * ld;
#pragma omp for schedule(static)
    for (int r = 0; r < rows; ++r)  // W[o][r] for each o, or W[r][c] for each c
      winograd::transform_filters<F>(weights + static_cast<long>(r) * (flip ? in : 1) * 9,
                                     (flip ? 1 : in) * 9L, width, flip,
                                     ut + static_cast<long>(r) * ld, xi_stride);
    if (ld == width) return;
#pragma omp for schedule(static)
    for (long r = 0; r < kTransformed * rows; ++r)
      std::fill(ut + r * ld + width, ut + (r + 1) * ld, 0.0f);
  }

  // Vt [ξ][images·tiles][ld] of `images` images [channels, H, W], image i's tiles from row
  // i·tiles, zeros in the columns from `channels` to ld (SmallGemm reads them as B's);
  // `p` scratch of image_floats(t, channels).
  static void transform_inputs(const float* x, int images, int channels, int ld, const Tiling& t,
                               float* vt, float* p) {
    const long plane = static_cast<long>(t.height) * t.width;
    const long xi_stride = static_cast<long>(images) * t.tiles() * ld;
    for (int i = 0; i < images; ++i) {
      to_channels_last(x + i * channels * plane, grid(t, channels, 1), p);
      input_tiles(p, channels, ld, t, vt + static_cast<long>(i) * t.tiles() * ld, xi_stride);
    }
  }

  // One image's rows of Vt (from `vt`, ξ at xi_stride) from its grid p (padding 1).
  static void input_tiles(const float* p, int channels, int ld, const Tiling& t, float* vt,
                          long xi_stride) {
    transform_image_tiles<n>(
        p, channels, ld, t, [](const auto& in, auto& res) { F::input(in, res); }, vt, xi_stride);
  }

  // dMt [ξ][images·tiles][channels] = A dY Aᵀ of every tile of `images` output gradients
  // [channels, H, W] (the dropped outputs past the edge have zero gradient).
  static void transform_gradients(const float* dy, int images, int channels, const Tiling& t,
                                  float* dmt, float* p) {
    const long plane = static_cast<long>(t.height) * t.width;
    const long xi_stride = static_cast<long>(images) * t.tiles() * channels;
    for (int i = 0; i < images; ++i) {
      to_channels_last(dy + i * channels * plane, grid(t, channels, 0), p);
      gradient_tiles(p, channels, t, dmt + static_cast<long>(i) * t.tiles() * channels, xi_stride);
    }
  }

  // One image's rows of dMt (ξ at xi_stride) from a channels-last grid of padded_w(t)
  // positions a row whose image starts at p.
  static void gradient_tiles(const float* p, int channels, const Tiling& t, float* dmt,
                             long xi_stride) {
    transform_image_tiles<m>(
        p, channels, channels, t, [](const auto& in, auto& res) { F::gradient(in, res); }, dmt,
        xi_stride);
  }

  // T d Tᵀ (`apply` = T, In → n values) of the In×In tile at (m·ty, m·tx) of the grid p, for
  // every tile of one image: tile (ty, tx)'s n² values to row ty·tiles_w + tx of `out`, ξ at
  // xi_stride, rows of ld floats (zeros from `channels` on).
  template <int In, class Apply>
  static void transform_image_tiles(const float* p, int channels, int ld, const Tiling& t,
                                    Apply apply, float* out, long xi_stride) {
    const int pw = padded_w(t);
    for (int ty = 0; ty < t.tiles_h(); ++ty)
      for (int tx = 0; tx < t.tiles_w(); ++tx) {
        const float* tile = p + (static_cast<long>(m * ty) * pw + m * tx) * channels;
        float* to = out + static_cast<long>(ty * t.tiles_w() + tx) * ld;
        by_channel_vectors(channels, [&](auto lanes, int k) {
          using T = typename decltype(lanes)::type;
          T d[In][In], v[n][n];
          for (int a = 0; a < In; ++a)
            for (int b = 0; b < In; ++b)
              load_floats(d[a][b], tile + (static_cast<long>(a) * pw + b) * channels + k);
          transform_tile(d, apply, v);
          for (int a = 0; a < n; ++a)
            for (int b = 0; b < n; ++b) store_floats(to + (n * a + b) * xi_stride + k, v[a][b]);
        });
        if (ld > channels)
          for (int xi = 0; xi < kTransformed; ++xi)
            std::fill(to + xi * xi_stride + channels, to + xi * xi_stride + ld, 0.0f);
      }
  }

  // y [images, out, H, W] from Mt [ξ][images·tiles][ld]: Aᵀ M A per tile, the outputs past
  // the image's edge dropped; `p` scratch of image_floats(t, out).
  static void transform_outputs(const float* mt, int ld, int images, int out, const Tiling& t,
                                float* p, float* y) {
    const long plane = static_cast<long>(t.height) * t.width;
    const long xi_stride = static_cast<long>(images) * t.tiles() * ld;
    const int pw = padded_w(t);
    for (int i = 0; i < images; ++i) {
      for (int ty = 0; ty < t.tiles_h(); ++ty)
        for (int tx = 0; tx < t.tiles_w(); ++tx) {
          const float* from = mt + (static_cast<long>(i) * t.tiles() + ty * t.tiles_w() + tx) * ld;
          float* tile = p + (static_cast<long>(m * ty) * pw + m * tx) * out;
          by_channel_vectors(out, [&](auto lanes, int k) {
            using T = typename decltype(lanes)::type;
            T mv[n][n], r[m][m];
            for (int a = 0; a < n; ++a)
              for (int b = 0; b < n; ++b) load_floats(mv[a][b], from + (n * a + b) * xi_stride + k);
            transform_tile(
                mv, [](const auto& in, auto& res) { F::output(in, res); }, r);
            for (int a = 0; a < m; ++a)
              for (int b = 0; b < m; ++b)
                store_floats(tile + (static_cast<long>(a) * pw + b) * out + k, r[a][b]);
          });
        }
      from_channels_last(p, grid(t, out, 0), y + i * out * plane);
    }
  }

  // r = T d Tᵀ for one tile, T the 1-D transform `apply` (In → Out values): the columns,
  // then the rows, as WinogradConv's plane transforms.
  template <int In, int Out, class T, class Apply>
  static void transform_tile(const T (&d)[In][In], Apply apply, T (&r)[Out][Out]) {
    T half[Out][In];
    for (int b = 0; b < In; ++b) {
      T column[In], res[Out];
      for (int a = 0; a < In; ++a) column[a] = d[a][b];
      apply(column, res);
      for (int a = 0; a < Out; ++a) half[a][b] = res[a];
    }
    for (int a = 0; a < Out; ++a) apply(half[a], r[a]);
  }

  // y [images, out, H, W] = the Winograd convolution of x [images, in, H, W] with Ut
  // [ξ][in][round_up(out)]; vt, mt and p are this thread's buffers.
  static void convolve_group(const float* x, int images, int in, int out, const Tiling& t,
                             const float* ut, float* vt, float* mt, float* p, float* y) {
    transform_inputs(x, images, in, SmallGemm::padded_columns(in), t, vt, p);
    multiply_and_output(vt, images, in, out, t, ut, mt, p, y);
  }

  // The rest of convolve_group once vt holds the group's Vt: Mt_ξ = Vt_ξ Ut_ξ into mt, then
  // y from Mt.
  static void multiply_and_output(const float* vt, int images, int in, int out, const Tiling& t,
                                  const float* ut, float* mt, float* p, float* y) {
    const int columns = images * t.tiles();
    const int ldv = SmallGemm::padded_columns(in), ldm = SmallGemm::padded_columns(out);
    for (int xi = 0; xi < kTransformed; ++xi)
      SmallGemm::multiply(columns, out, in, vt + static_cast<long>(xi) * columns * ldv, ldv,
                          ut + static_cast<long>(xi) * in * ldm, ldm,
                          mt + static_cast<long>(xi) * columns * ldm, ldm);
    transform_outputs(mt, ldm, images, out, t, p, y);
  }
};

using Winograd2x2ChannelsLast = WinogradChannelsLast<winograd::F2x2>;
using Winograd4x4ChannelsLast = WinogradChannelsLast<winograd::F4x4>;

}  // namespace clr::cpu_impl
