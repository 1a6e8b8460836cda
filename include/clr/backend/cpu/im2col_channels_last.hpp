// The CPU backend's convolution by im2col with the channels last, for the convolutions that
// Winograd does not take (ResNet's stride-2 3×3 and 1×1 layers). conv_kernels.hpp's im2col
// copies one input row per column-matrix row: at stride 2 an element at a time (every other
// input value), and its backward scatter-adds them back one at a time (col2im); at quarter
// width that copying was 45% of a stride-2 layer's time (perf), which ran at half PyTorch's
// speed. With the image channels-last (channels_last.hpp) a patch is kh·kw runs of C
// consecutive floats, copied and added back a vector at a time:
//
//   forward:         P [positions, taps·C] (row p: tap t's C channels at t·C),
//                    Yt = P Wt [positions, out],  Wt [taps·C, out] = W permuted;
//   weight gradient: dWt += Pᵀ dYt  (SmallGemm's C += Aᵀ B);
//   input gradient:  dP = dYt Wtᵀ [positions, taps·C], added back patch by patch onto the
//                    padded channels-last image (col2im a run of C at a time).
//
// Groups of images share one GEMM (rows of P side by side) and are spread over the threads,
// each with its own buffers; weight-gradient partial sums per thread, over a static share of
// the groups, added in thread order, as the other CPU convolutions.
#pragma once

#include <omp.h>

#include <algorithm>
#include <vector>

#include "clr/backend/conv2d.hpp"
#include "clr/backend/cpu/channels_last.hpp"
#include "clr/backend/cpu/image_groups.hpp"
#include "clr/backend/cpu/small_gemm.hpp"
#include "clr/backend/cpu/workspace.hpp"

namespace clr::cpu_impl {

struct Im2colChannelsLast {
  static void forward(const Conv2dCall& call, float* y) {
    const Sizes s(call);
    const Plan plan(call);
    Workspace weights(1, static_cast<long>(s.depth) * s.ld_out);
    permute_weights(call, s, weights.data);
#pragma omp parallel num_threads(plan.threads)
    {
      // Each thread's own buffers (workspace.hpp says why).
      const Workspace image(1, s.padded_input().floats());
      const Workspace patches(1, plan.rows() * s.depth);
      const Workspace products(1, plan.rows() * s.ld_out);
#pragma omp for schedule(static)
      for (int group = 0; group < plan.groups(); ++group) {
        const int first = plan.first_image(group), count = plan.images_in(group);
        if (count == 0) continue;  // a share shorter than the others
        float* p = patches.data;
        float* yt = products.data;
        gather_patches(call, s, first, count, image.data, p);
        SmallGemm::multiply(count * s.positions, call.out_channels, s.depth, p, s.depth,
                            weights.data, s.ld_out, yt, s.ld_out);
        for (int i = 0; i < count; ++i)
          from_channels_last(yt + static_cast<long>(i) * s.positions * s.ld_out, s.output(),
                             y + (first + i) * call.output_size());
      }
    }
  }

  // dW += the weight gradient; dx (if not null) = the input gradient.
  static void backward(const Conv2dCall& call, const float* dy, float* weight_grad, float* dx) {
    const Sizes s(call);
    const Plan plan(call);
    const int out = call.out_channels;
    const long ld_patch = skewed(s.depth);          // dP's rows
    Workspace weights(dx ? 1 : 0, out * ld_patch);  // Wtᵀ [out, taps·C]
    if (dx) permute_weights_transposed(call, s, ld_patch, weights.data);
    std::vector<const float*> partials(plan.threads);  // each thread's dWt, for the sums
#pragma omp parallel num_threads(plan.threads)
    {
      // Each thread's own buffers (workspace.hpp says why).
      const Workspace images(1, s.padded_input().floats());
      const Workspace patches(1, plan.rows() * (dx ? ld_patch : s.depth));
      const Workspace gradients(1, plan.rows() * s.ld_out);  // dYt
      const Workspace partial(1, static_cast<long>(s.depth) * s.ld_out);
      std::fill_n(partial.data, partial.floats(), 0.0f);
      partials[omp_get_thread_num()] = partial.data;
      float* image = images.data;
      float* p = patches.data;
      float* dyt = gradients.data;
#pragma omp for schedule(static)
      for (int group = 0; group < plan.groups(); ++group) {
        const int first = plan.first_image(group), count = plan.images_in(group);
        if (count == 0) continue;  // a share shorter than the others
        const int rows = count * s.positions;
        for (int i = 0; i < count; ++i)
          to_channels_last(dy + (first + i) * call.output_size(), s.output(),
                           dyt + static_cast<long>(i) * s.positions * s.ld_out);
        gather_patches(call, s, first, count, image, p);
        SmallGemm::add_transposed_product(s.depth, out, rows, p, s.depth, dyt, s.ld_out,
                                          partial.data, s.ld_out);
        if (!dx) continue;
        SmallGemm::multiply(rows, s.depth, out, dyt, s.ld_out, weights.data, ld_patch, p, ld_patch);
        const ChannelsLastImage& padded = s.padded_input();
        for (int i = 0; i < count; ++i) {
          std::fill_n(image, padded.floats(), 0.0f);
          scatter_patches(s, p + static_cast<long>(i) * s.positions * ld_patch, ld_patch, image);
          from_channels_last(image, padded, dx + (first + i) * call.image_size());
        }
      }
      // dW[o][c][t] += Σ_threads dWt[t·C + c][o], the threads' sums in thread order.
#pragma omp for schedule(static)
      for (int o = 0; o < out; ++o)
        for (int c = 0; c < s.channels; ++c)
          for (int t = 0; t < s.taps; ++t) {
            const long row = static_cast<long>(t) * s.channels + c;
            float sum = 0.0f;
            for (int k = 0; k < plan.threads; ++k) sum += partials[k][row * s.ld_out + o];
            weight_grad[(static_cast<long>(o) * s.channels + c) * s.taps + t] += sum;
          }
    }
  }

 private:
  // A row stride for n floats: whole vectors, as SmallGemm reads and writes them, and not a
  // multiple of 64 floats: SmallGemm streams a panel of up to 128 rows of B, which at a
  // stride of 2 KiB (512 output channels) fell into a few of L1's sets and evicted itself
  // (the forward pass of a 256→512 layer took 1.5× im2col's; 1.0× with the skew).
  static int skewed(int n) {
    const int whole = SmallGemm::padded_columns(n);
    return whole % 64 == 0 ? whole + SmallGemm::kWidth : whole;
  }

  struct Sizes {
    explicit Sizes(const Conv2dCall& call)
        : g(call.geometry),
          channels(g.channels),
          taps(g.kernel_h * g.kernel_w),
          depth(taps * channels),
          positions(static_cast<int>(call.positions())),
          ld_out(skewed(call.out_channels)),
          out_channels(call.out_channels),
          padded{channels, g.height, g.width, g.pad_h, g.pad_w, g.height + 2 * g.pad_h,
                 g.width + 2 * g.pad_w, channels} {}

    // The input channels-last with its padding, and whatever the last row and column of
    // windows need past it (none at these geometries: out_h is floored).
    const ChannelsLastImage& padded_input() const { return padded; }
    // The output (or its gradient) channels-last, rows of ld_out floats.
    ChannelsLastImage output() const {
      return {out_channels, g.out_h(), g.out_w(), 0, 0, g.out_h(), g.out_w(), ld_out};
    }

    ConvGeometry g;
    int channels, taps, depth, positions, ld_out, out_channels;
    ChannelsLastImage padded;
  };

  // How a batch is cut (image_groups.hpp): a group's patch rows side by side, at least
  // kGroupRows where the batch allows.
  struct Plan : ImageGroups {
    static constexpr int kGroupRows = 256;
    explicit Plan(const Conv2dCall& call)
        : ImageGroups(call.batch, static_cast<int>(call.positions()), kGroupRows) {}
    long rows() const { return columns(); }
  };

  // Wt[t·C + c][o] = W[o][c][t], rows of ld_out floats (zeros past out).
  static void permute_weights(const Conv2dCall& call, const Sizes& s, float* wt) {
    std::fill_n(wt, static_cast<long>(s.depth) * s.ld_out, 0.0f);
    permute(call, s, s.ld_out, 1, wt);
  }

  // Wtᵀ[o][t·C + c] = W[o][c][t], rows of ld floats (zeros past taps·C).
  static void permute_weights_transposed(const Conv2dCall& call, const Sizes& s, long ld,
                                         float* w) {
    std::fill_n(w, call.out_channels * ld, 0.0f);
    permute(call, s, 1, ld, w);
  }

  // to[(t·C + c)·patch_stride + o·out_stride] = W[o][c][t].
  static void permute(const Conv2dCall& call, const Sizes& s, long patch_stride, long out_stride,
                      float* to) {
    for (int o = 0; o < call.out_channels; ++o)
      for (int c = 0; c < s.channels; ++c)
        for (int t = 0; t < s.taps; ++t)
          to[(static_cast<long>(t) * s.channels + c) * patch_stride + o * out_stride] =
              call.weights[(static_cast<long>(o) * s.channels + c) * s.taps + t];
  }

  // Where the window of output position q starts in the padded channels-last image, and
  // where tap t lies from there.
  static long window(const Sizes& s, int q) {
    const ChannelsLastImage& padded = s.padded_input();
    const int oy = q / s.g.out_w(), ox = q % s.g.out_w();
    return (static_cast<long>(oy) * s.g.stride_h * padded.columns + ox * s.g.stride_w) * padded.ld;
  }
  static long tap(const Sizes& s, int t) {
    const ChannelsLastImage& padded = s.padded_input();
    return (static_cast<long>(t / s.g.kernel_w) * padded.columns + t % s.g.kernel_w) * padded.ld;
  }

  // P [count·positions, taps·C] of images first … first + count − 1; `image` scratch for one
  // image channels-last.
  static void gather_patches(const Conv2dCall& call, const Sizes& s, int first, int count,
                             float* image, float* p) {
    for (int i = 0; i < count; ++i) {
      to_channels_last(call.x + (first + i) * call.image_size(), s.padded_input(), image);
      for (int q = 0; q < s.positions; ++q) {
        const float* from = image + window(s, q);
        float* row = p + (static_cast<long>(i) * s.positions + q) * s.depth;
        for (int t = 0; t < s.taps; ++t) {
          const float* run = from + tap(s, t);
          float* to = row + t * s.channels;
#pragma omp simd
          for (int c = 0; c < s.channels; ++c) to[c] = run[c];
        }
      }
    }
  }

  // Adds one image's dP [positions, ld] back onto its padded channels-last gradient.
  static void scatter_patches(const Sizes& s, const float* dp, long ld, float* image) {
    for (int q = 0; q < s.positions; ++q) {
      const float* row = dp + q * ld;
      float* at = image + window(s, q);
      for (int t = 0; t < s.taps; ++t) {
        float* to = at + tap(s, t);
        const float* from = row + t * s.channels;
#pragma omp simd
        for (int c = 0; c < s.channels; ++c) to[c] += from[c];
      }
    }
  }
};

}  // namespace clr::cpu_impl
