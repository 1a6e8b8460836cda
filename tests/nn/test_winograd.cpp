// The CPU backend's Winograd convolutions, F(4×4, 3×3) and F(2×2, 3×3), against its im2col
// path (itself checked against a direct convolution in test_conv2d.cpp): forward, input and
// weight gradients on images whose sides are and are not multiples of the tile, any batch,
// channel and thread count; their gradients by finite differences; that the dispatcher
// really sends the 3×3, stride-1 convolutions to F(4×4); and SmallGemm, the kernel of their
// products, against a reference.
#include <doctest/doctest.h>
#include <omp.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "nn/conv_paths.hpp"
#include "support/backends.hpp"
#include "support/layer_check.hpp"

using clr::Rng;
using clr::Tensor;
using clr::cpu_impl::ConvAlgorithm;
using clr::testing::convolve;
using clr::testing::Forced;
using clr::testing::Results;
using clr::testing::worst_error;
using namespace clr::nn;

namespace {

clr::ConvGeometry same_3x3(int channels, int height, int width) {
  return {channels, height, width, 3, 3, 1, 1, 1, 1};
}

}  // namespace

// The forced Winograd paths, with the error each is allowed against im2col (relative to the
// largest value, worst_error): F(4×4)'s transforms have coefficients up to 8 and 1/24 where
// F(2×2)'s have 1 and ½, so its rounding is larger. Measured worst cases over the sizes
// below: F(2×2) 7.8e-7, F(4×4) 5.7e-6.
struct WinogradPath {
  ConvAlgorithm algorithm;
  double tolerance;
};
constexpr std::array<WinogradPath, 4> kWinogradPaths{
    {{ConvAlgorithm::winograd, 2e-5},
     {ConvAlgorithm::winograd_2x2, 5e-6},
     {ConvAlgorithm::winograd_2x2_channels_last, 5e-6},
     {ConvAlgorithm::winograd_4x4_channels_last, 2e-5}}};

TEST_CASE("Winograd: forward, input and weight gradients equal the im2col path") {
  struct Size {
    int h, w;
  };
  struct Channels {
    int in, out;
  };
  // 37 rows: tile rows in bands of 8 with a partial last band (winograd_transforms.hpp).
  for (const Size size : {Size{1, 1}, Size{2, 2}, Size{3, 3}, Size{4, 4}, Size{5, 7}, Size{6, 6},
                          Size{14, 14}, Size{32, 32}, Size{37, 20}})
    for (const Channels ch :
         {Channels{1, 1}, Channels{3, 5}, Channels{8, 4}, Channels{17, 9}, Channels{32, 48}})
      for (int batch : {1, 2, 5})
        for (int threads : {1, 2}) {
          CAPTURE(size.h);
          CAPTURE(size.w);
          CAPTURE(ch.in);
          CAPTURE(ch.out);
          CAPTURE(batch);
          CAPTURE(threads);
          const auto g = same_3x3(ch.in, size.h, size.w);
          const auto x = clr::testing::normal_values(batch * ch.in * size.h * size.w, 1);
          const auto w = clr::testing::normal_values(ch.out * g.patch_size(), 2);
          const auto dy = clr::testing::normal_values(batch * ch.out * size.h * size.w, 3);
          const clr::Conv2dCall call{g, batch, ch.out, x.data(), w.data()};
          const Results ref = convolve(ConvAlgorithm::im2col, threads, call, dy);
          for (const WinogradPath path : kWinogradPaths) {
            CAPTURE(path.algorithm);
            const Results got = convolve(path.algorithm, threads, call, dy);
            CHECK(worst_error(got.y, ref.y) < path.tolerance);
            CHECK(worst_error(got.dw, ref.dw) < path.tolerance);
            CHECK(worst_error(got.dx, ref.dx) < path.tolerance);
          }
        }
}

TEST_CASE("Winograd: the weight gradient alone (no input gradient) and thread independence") {
  const auto g = same_3x3(6, 9, 6);
  const int batch = 7, out = 5;
  const auto x = clr::testing::normal_values(batch * g.channels * g.height * g.width, 4);
  const auto w = clr::testing::normal_values(out * g.patch_size(), 5);
  const auto dy = clr::testing::normal_values(batch * out * g.height * g.width, 6);
  const clr::Conv2dCall call{g, batch, out, x.data(), w.data()};
  auto weight_gradient = [&](ConvAlgorithm algorithm, int threads) {
    const Forced forced(algorithm, threads);
    std::vector<float> dw(w.size(), 0.0f);
    clr::cpu::conv2d_backward(call, dy.data(), dw.data(), nullptr);
    return dw;
  };
  const auto dw_ref = weight_gradient(ConvAlgorithm::im2col, 2);
  for (const WinogradPath path : kWinogradPaths) {
    CAPTURE(path.algorithm);
    const auto dw1 = weight_gradient(path.algorithm, 1);
    const auto dw2 = weight_gradient(path.algorithm, 2);
    CHECK(worst_error(dw1, dw_ref) < path.tolerance);
    CHECK(worst_error(dw2, dw_ref) < path.tolerance);
  }
}

// Each thread takes the groups of its own share of the images in every pass, and the threads'
// weight-gradient sums are added in thread order. So repeated runs on as many threads are
// bit-identical.
TEST_CASE("Winograd: repeated runs on two threads give bit-identical results") {
  const auto g = same_3x3(9, 16, 16);  // F(2×2): 4 images a group, 4 groups of 15 images
  const int batch = 15, out = 7;
  const auto x = clr::testing::normal_values(batch * g.channels * g.height * g.width, 7);
  const auto w = clr::testing::normal_values(out * g.patch_size(), 8);
  const auto dy = clr::testing::normal_values(batch * out * g.height * g.width, 9);
  const clr::Conv2dCall call{g, batch, out, x.data(), w.data()};
  for (const WinogradPath path : kWinogradPaths) {
    CAPTURE(path.algorithm);
    const Results first = convolve(path.algorithm, 2, call, dy);
    for (int run = 0; run < 12; ++run) {
      const Results again = convolve(path.algorithm, 2, call, dy);
      CHECK(again.y == first.y);
      CHECK(again.dx == first.dx);
      CHECK(again.dw == first.dw);
    }
  }
}

// A convolution is linear in its input and in its weights, so a central difference is exact
// at any step: a large one (0.1, not the default 1e-3) keeps float32's rounding of the
// forward pass, larger in F(4×4), from swamping the difference.
TEST_CASE("Winograd: Conv2d's gradients match finite differences") {
  for (const auto [in, out, h, w] :
       {std::array{3, 4, 5, 5}, std::array{2, 3, 4, 7}, std::array{2, 2, 9, 6}})
    for (const WinogradPath path : kWinogradPaths) {
      const Forced forced(path.algorithm);
      CAPTURE(path.algorithm);
      CAPTURE(h);
      CAPTURE(w);
      Rng rng(8);
      Conv2d<clr::cpu> conv(in, out, 3, rng, {.stride = 1, .padding = 1, .bias = true});
      const auto errors =
          clr::testing::layer_gradient_error(conv, clr::testing::normal_values(2 * in * h * w, 5),
                                             {2, in, h, w}, Mode::train, {.step = 0.1});
      CHECK(errors.input < 1e-3);
      CHECK(errors.parameters < 1e-3);
    }
}

// The dispatcher must send ResNet's 3×3 stride-1 convolutions to Winograd, channels-last from
// 16 channels in and out (F(4×4) where its tiles fit the image as tightly as F(2×2)'s and the
// channels are at most 256, F(2×2) otherwise) and F(4×4) by rows below: its results are bit
// for bit the forced path's, and not the other paths' (whose rounding differs).
TEST_CASE("Winograd: automatic dispatch takes the Winograd path where it fits") {
  REQUIRE(clr::cpu::conv_algorithm() == ConvAlgorithm::automatic);
  const int batch = 3, out = 16;
  struct Case {
    int channels, out, size;
    ConvAlgorithm expected, other;
  };
  for (const Case c :
       {Case{16, 16, 28, ConvAlgorithm::winograd_4x4_channels_last,
             ConvAlgorithm::winograd_2x2_channels_last},
        Case{16, 16, 16, ConvAlgorithm::winograd_4x4_channels_last,
             ConvAlgorithm::winograd_2x2_channels_last},
        Case{32, 16, 7, ConvAlgorithm::winograd_4x4_channels_last,
             ConvAlgorithm::winograd_2x2_channels_last},
        Case{16, 16, 14, ConvAlgorithm::winograd_2x2_channels_last,
             ConvAlgorithm::winograd_4x4_channels_last},
        Case{272, 16, 8, ConvAlgorithm::winograd_2x2_channels_last,
             ConvAlgorithm::winograd_4x4_channels_last},
        Case{8, 8, 28, ConvAlgorithm::winograd, ConvAlgorithm::winograd_2x2_channels_last},
        Case{16, 8, 20, ConvAlgorithm::winograd, ConvAlgorithm::winograd_2x2}}) {
    CAPTURE(c.channels);
    CAPTURE(c.out);
    CAPTURE(c.size);
    const auto g = same_3x3(c.channels, c.size, c.size);
    const auto x = clr::testing::normal_values(batch * g.channels * g.height * g.width, 7);
    const auto w = clr::testing::normal_values(c.out * g.patch_size(), 8);
    const auto dy = clr::testing::normal_values(batch * c.out * g.height * g.width, 9);
    const clr::Conv2dCall call{g, batch, c.out, x.data(), w.data()};
    CHECK(clr::cpu::conv_algorithm_for(call) == c.expected);

    const Results automatic = convolve(ConvAlgorithm::automatic, 2, call, dy);
    const Results expected = convolve(c.expected, 2, call, dy);
    CHECK(automatic.y == expected.y);
    CHECK(automatic.dw == expected.dw);
    CHECK(automatic.dx == expected.dx);
    for (const ConvAlgorithm other : {c.other, ConvAlgorithm::im2col}) {
      CAPTURE(other);
      const Results r = convolve(other, 2, call, dy);
      CHECK(automatic.y != r.y);
      CHECK(automatic.dx != r.dx);
      CHECK(worst_error(automatic.y, r.y) < 2e-5);
    }
  }

  const auto x = clr::testing::normal_values(batch * 16 * 8 * 8, 7);
  const auto w = clr::testing::normal_values(out * 16 * 9, 8);
  // Other geometries go to an im2col path (test_im2col_channels_last.cpp says which), also
  // when Winograd is forced: then to the plain one.
  const clr::Conv2dCall strided{{16, 8, 8, 3, 3, 1, 1, 2, 2}, batch, out, x.data(), w.data()};
  const clr::Conv2dCall pointwise{{16, 8, 8, 1, 1, 0, 0, 1, 1}, batch, out, x.data(), w.data()};
  const clr::Conv2dCall stem{same_3x3(3, 8, 8), batch, out, x.data(), w.data()};
  CHECK(clr::cpu::conv_algorithm_for(strided) == ConvAlgorithm::im2col_channels_last);
  CHECK(clr::cpu::conv_algorithm_for(pointwise) == ConvAlgorithm::im2col);
  CHECK(clr::cpu::conv_algorithm_for(stem) == ConvAlgorithm::im2col);  // RGB: im2col pays
  for (const WinogradPath path : kWinogradPaths) {
    const Forced forced(path.algorithm);
    CHECK(clr::cpu::conv_algorithm_for(strided) == ConvAlgorithm::im2col);
    CHECK(clr::cpu::conv_algorithm_for(stem) == path.algorithm);
  }
}

TEST_CASE("CLR_CONV_ALGORITHM: the environment's starting choice, a bad value refused by name") {
  using clr::cpu_impl::conv_algorithm_from_environment;
  const char* saved = std::getenv("CLR_CONV_ALGORITHM");
  const std::string restore = saved ? saved : "";
  ::unsetenv("CLR_CONV_ALGORITHM");
  CHECK(conv_algorithm_from_environment() == ConvAlgorithm::automatic);
  const std::array<std::pair<const char*, ConvAlgorithm>, 8> names = {
      {{"automatic", ConvAlgorithm::automatic},
       {"im2col", ConvAlgorithm::im2col},
       {"winograd", ConvAlgorithm::winograd},
       {"winograd_2x2", ConvAlgorithm::winograd_2x2},
       {"winograd_2x2_channels_last", ConvAlgorithm::winograd_2x2_channels_last},
       {"winograd_4x4_channels_last", ConvAlgorithm::winograd_4x4_channels_last},
       {"im2col_channels_last", ConvAlgorithm::im2col_channels_last},
       {"", ConvAlgorithm::automatic}}};
  for (const auto& [name, algorithm] : names) {
    ::setenv("CLR_CONV_ALGORITHM", name, 1);
    CHECK(conv_algorithm_from_environment() == algorithm);
  }
  ::setenv("CLR_CONV_ALGORITHM", "fast", 1);
  CHECK_THROWS_WITH_AS(conv_algorithm_from_environment(),
                       doctest::Contains("CLR_CONV_ALGORITHM=fast"), clr::Error);
  if (saved)
    ::setenv("CLR_CONV_ALGORITHM", restore.c_str(), 1);
  else
    ::unsetenv("CLR_CONV_ALGORITHM");
}

TEST_CASE("SmallGemm: C = A B against a double-precision reference, any shape and stride") {
  using clr::cpu_impl::SmallGemm;
  // m and n around the register block (8 rows × 3 vectors of 16) and k around the depth
  // block (128), so that every kernel instance, the column tails and the accumulation
  // across depth blocks all run.
  const std::array<std::array<int, 3>, 8> shapes{{{1, 1, 1},
                                                  {8, 48, 16},
                                                  {7, 17, 3},
                                                  {9, 49, 128},
                                                  {16, 256, 129},
                                                  {5, 100, 300},
                                                  {24, 33, 257},
                                                  {13, 96, 64}}};
  Rng rng(21);
  for (const auto& [m, n, k] : shapes) {
    CAPTURE(m);
    CAPTURE(n);
    CAPTURE(k);
    const long lda = k + 3, ldb = SmallGemm::padded_columns(n) + 5, ldc = ldb + 2;
    std::vector<float> a(static_cast<std::size_t>(m) * lda), b(static_cast<std::size_t>(k) * ldb);
    for (float& v : a) v = rng.normal();
    for (float& v : b) v = rng.normal();
    std::vector<float> c(static_cast<std::size_t>(m) * ldc, 99.0f);
    SmallGemm::multiply(m, n, k, a.data(), lda, b.data(), ldb, c.data(), ldc);
    double worst = 0.0;
    for (int i = 0; i < m; ++i) {
      for (int j = 0; j < n; ++j) {
        double want = 0.0;
        for (int p = 0; p < k; ++p) want += double(a[i * lda + p]) * b[p * ldb + j];
        worst = std::max(worst, std::abs(c[i * ldc + j] - want) / std::sqrt(double(k)));
      }
      // The columns past the padded width are not touched.
      for (long j = SmallGemm::padded_columns(n); j < ldc; ++j) CHECK(c[i * ldc + j] == 99.0f);
    }
    CHECK(worst < 1e-5);
  }
}

TEST_CASE("SmallGemm: C += Aᵀ B adds to C, against a double-precision reference") {
  using clr::cpu_impl::SmallGemm;
  const std::array<std::array<int, 3>, 5> shapes{
      {{1, 1, 1}, {8, 48, 16}, {9, 17, 129}, {24, 64, 256}, {13, 33, 300}}};
  Rng rng(22);
  for (const auto& [m, n, k] : shapes) {
    CAPTURE(m);
    CAPTURE(n);
    CAPTURE(k);
    // A stored [k, m] (lda ≥ m), B [k, n], C [m, n] starting from values that must be kept.
    const long lda = m + 3, ldb = SmallGemm::padded_columns(n) + 5, ldc = ldb + 2;
    std::vector<float> a(static_cast<std::size_t>(k) * lda), b(static_cast<std::size_t>(k) * ldb);
    std::vector<float> c(static_cast<std::size_t>(m) * ldc);
    for (float& v : a) v = rng.normal();
    for (float& v : b) v = rng.normal();
    for (float& v : c) v = rng.normal();
    const std::vector<float> before = c;
    SmallGemm::add_transposed_product(m, n, k, a.data(), lda, b.data(), ldb, c.data(), ldc);
    double worst = 0.0;
    for (int i = 0; i < m; ++i)
      for (int j = 0; j < n; ++j) {
        double want = before[i * ldc + j];
        for (int p = 0; p < k; ++p) want += double(a[p * lda + i]) * b[p * ldb + j];
        worst = std::max(worst, std::abs(c[i * ldc + j] - want) / std::sqrt(double(k)));
      }
    CHECK(worst < 1e-5);
  }
}

TEST_CASE("Transpose16: any matrix transposed exactly, between strided rows") {
  using clr::cpu_impl::Transpose16;
  for (const auto [rows, columns] : {std::array{16, 16}, std::array{1, 1}, std::array{17, 33},
                                     std::array{48, 7}, std::array{5, 40}, std::array{64, 196}}) {
    CAPTURE(rows);
    CAPTURE(columns);
    const long ld_source = columns + 3, ld_result = rows + 5;  // rows not contiguous
    std::vector<float> source(static_cast<std::size_t>(rows) * ld_source);
    for (std::size_t i = 0; i < source.size(); ++i) source[i] = static_cast<float>(i);
    std::vector<float> result(static_cast<std::size_t>(columns) * ld_result, -1.0f);
    Transpose16::matrix(
        rows, columns, [&](int i) { return source.data() + i * ld_source; },
        [&](int j) { return result.data() + j * ld_result; });
    int wrong = 0;
    for (int j = 0; j < columns; ++j) {
      for (int i = 0; i < rows; ++i)
        wrong += result[j * ld_result + i] != source[i * ld_source + j];
      for (long i = rows; i < ld_result; ++i) wrong += result[j * ld_result + i] != -1.0f;
    }
    CHECK(wrong == 0);
  }
}
