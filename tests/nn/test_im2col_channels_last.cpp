// The CPU backend's im2col with the channels last (im2col_channels_last.hpp) against its
// plain im2col path (itself checked against a direct convolution in test_conv2d.cpp):
// forward, input and weight gradients over kernels, strides, paddings, odd sizes, channel
// counts that are and are not whole vectors, batches that do and do not fill a group, and
// thread counts; the weight gradient alone; bit-identical repeated runs; finite differences
// through Conv2d; and which geometries the dispatcher sends it.
#include <doctest/doctest.h>

#include <array>
#include <vector>

#include "nn/conv_paths.hpp"
#include "support/backends.hpp"
#include "support/layer_check.hpp"

using clr::Rng;
using clr::cpu_impl::ConvAlgorithm;
using clr::testing::convolve;
using clr::testing::Forced;
using clr::testing::Results;
using clr::testing::worst_error;
using namespace clr::nn;

namespace {

struct ConvCase {
  int in, out, kernel, stride, pad, height, width;
};

// The strided layers of a ResNet (3×3 and 1×1 at stride 2, the ImageNet stem's 7×7), stride
// 1 and 3, padding 0 … 3, sizes that leave the last window short of the edge, channel counts
// of 1, 3 and around a vector of 16, and outputs that do and do not fill one.
constexpr std::array<ConvCase, 9> kCases{{{16, 32, 3, 2, 1, 8, 8},
                                          {16, 32, 1, 2, 0, 9, 7},
                                          {3, 5, 7, 2, 3, 13, 11},
                                          {20, 17, 3, 1, 1, 6, 5},
                                          {33, 40, 3, 2, 1, 7, 9},
                                          {1, 16, 3, 1, 0, 5, 6},
                                          {8, 9, 5, 3, 2, 11, 10},
                                          {16, 48, 2, 2, 0, 6, 6},
                                          {64, 16, 1, 2, 0, 4, 4}}};

clr::ConvGeometry geometry(const ConvCase& c) {
  return {c.in, c.height, c.width, c.kernel, c.kernel, c.pad, c.pad, c.stride, c.stride};
}

}  // namespace

// Both paths sum the same products in another order: forward and input gradient over
// taps·C, the weight gradient over every position of the batch. Measured worst case over
// these cases: 7.6e-7 of the largest value.
TEST_CASE("im2col channels-last: forward, input and weight gradients equal im2col's") {
  for (const ConvCase& c : kCases)
    for (int batch : {1, 5, 17})
      for (int threads : {1, 2, 3}) {
        CAPTURE(c.in);
        CAPTURE(c.kernel);
        CAPTURE(c.stride);
        CAPTURE(batch);
        CAPTURE(threads);
        const clr::ConvGeometry g = geometry(c);
        const auto x = clr::testing::normal_values(batch * c.in * c.height * c.width, 1);
        const auto w = clr::testing::normal_values(c.out * g.patch_size(), 2);
        const auto dy = clr::testing::normal_values(batch * c.out * g.out_h() * g.out_w(), 3);
        const clr::Conv2dCall call{g, batch, c.out, x.data(), w.data()};
        const Results ref = convolve(ConvAlgorithm::im2col, threads, call, dy);
        const Results got = convolve(ConvAlgorithm::im2col_channels_last, threads, call, dy);
        CHECK(worst_error(got.y, ref.y) < 2e-6);
        CHECK(worst_error(got.dx, ref.dx) < 2e-6);  // overwritten, not added to the 7
        CHECK(worst_error(got.dw, ref.dw) < 2e-6);  // added to the 0.5
      }
}

TEST_CASE("im2col channels-last: the weight gradient alone, and repeated runs bit-identical") {
  const ConvCase c{24, 32, 3, 2, 1, 10, 10};  // 25 positions: 11 images a group
  const clr::ConvGeometry g = geometry(c);
  const int batch = 30;
  const auto x = clr::testing::normal_values(batch * c.in * c.height * c.width, 4);
  const auto w = clr::testing::normal_values(c.out * g.patch_size(), 5);
  const auto dy = clr::testing::normal_values(batch * c.out * g.out_h() * g.out_w(), 6);
  const clr::Conv2dCall call{g, batch, c.out, x.data(), w.data()};
  const Results full = convolve(ConvAlgorithm::im2col_channels_last, 2, call, dy);
  {
    const Forced forced(ConvAlgorithm::im2col_channels_last, 2);
    std::vector<float> dw(w.size(), 0.5f);
    clr::cpu::conv2d_backward(call, dy.data(), dw.data(), nullptr);
    CHECK(dw == full.dw);
  }
  for (int run = 0; run < 8; ++run) {
    const Results again = convolve(ConvAlgorithm::im2col_channels_last, 2, call, dy);
    CHECK(again.y == full.y);
    CHECK(again.dx == full.dx);
    CHECK(again.dw == full.dw);
  }
}

// A convolution is linear in its input and in its weights: a central difference is exact at
// any step (0.1 keeps float32's rounding from swamping it, as for Winograd).
TEST_CASE("im2col channels-last: Conv2d's gradients match finite differences") {
  const Forced forced(ConvAlgorithm::im2col_channels_last);
  for (const ConvCase& c : {ConvCase{3, 4, 3, 2, 1, 7, 6}, ConvCase{5, 3, 1, 2, 0, 6, 6},
                            ConvCase{2, 3, 5, 3, 2, 9, 8}}) {
    CAPTURE(c.kernel);
    Rng rng(8);
    Conv2d<clr::cpu> conv(c.in, c.out, c.kernel, rng,
                          {.stride = c.stride, .padding = c.pad, .bias = true});
    const auto errors = clr::testing::layer_gradient_error(
        conv, clr::testing::normal_values(2 * c.in * c.height * c.width, 5),
        {2, c.in, c.height, c.width}, Mode::train, {.step = 0.1});
    CHECK(errors.input < 1e-3);
    CHECK(errors.parameters < 1e-3);
  }
}

// ResNet's strided layers take it (3×3 from 16 channels, 1×1 shortcuts from 64); the stem,
// the narrow shortcuts and stride 1 outside Winograd stay on im2col; a forced path is kept.
TEST_CASE("im2col channels-last: which geometries the automatic choice sends it") {
  REQUIRE(clr::cpu::conv_algorithm() == ConvAlgorithm::automatic);
  auto chosen = [](clr::ConvGeometry g) {
    return clr::cpu::conv_algorithm_for(clr::Conv2dCall{g, 2, 8, nullptr, nullptr});
  };
  CHECK(chosen({16, 32, 32, 3, 3, 1, 1, 2, 2}) == ConvAlgorithm::im2col_channels_last);
  CHECK(chosen({256, 8, 8, 3, 3, 1, 1, 2, 2}) == ConvAlgorithm::im2col_channels_last);
  CHECK(chosen({64, 16, 16, 1, 1, 0, 0, 2, 2}) == ConvAlgorithm::im2col_channels_last);
  CHECK(chosen({32, 16, 16, 1, 1, 0, 0, 2, 2}) == ConvAlgorithm::im2col);
  CHECK(chosen({3, 224, 224, 7, 7, 3, 3, 2, 2}) == ConvAlgorithm::im2col);
  CHECK(chosen({64, 16, 16, 1, 1, 0, 0, 1, 1}) == ConvAlgorithm::im2col);
  CHECK(chosen({64, 16, 16, 3, 3, 0, 0, 1, 1}) == ConvAlgorithm::im2col);
  const Forced forced(ConvAlgorithm::im2col);
  CHECK(chosen({16, 32, 32, 3, 3, 1, 1, 2, 2}) == ConvAlgorithm::im2col);
}
