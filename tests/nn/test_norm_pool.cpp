// BatchNorm1d/2d (train and eval, running statistics, SimCLR's center/scale options) and
// pooling: reference values and finite-difference gradients.
#include <doctest/doctest.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "support/backends.hpp"
#include "support/layer_check.hpp"

using clr::Tensor;
using namespace clr::nn;

namespace {

// Every state entry of a BatchNorm random (running variances positive), the count left.
template <class Bn>
void randomize_state(Bn& bn, std::uint64_t seed) {
  for (auto& entry : clr::nn::state(bn)) {
    auto v = clr::testing::normal_values(entry.value->numel(), seed);
    for (auto& value : v) value = entry.name == "running_var" ? 0.5f + std::abs(value) : value;
    if (entry.name != "num_batches_tracked")
      *entry.value = Tensor<typename Bn::backend>::from(v, entry.value->shape());
  }
}

// The two layers' parameter gradients agree, entry by entry.
template <class L>
void check_same_parameter_gradients(L& a, L& b) {
  const auto grads_a = clr::nn::parameters(a), grads_b = clr::nn::parameters(b);
  REQUIRE(grads_a.size() == grads_b.size());
  for (std::size_t p = 0; p < grads_a.size(); ++p) {
    const auto ga = grads_a[p].grad->to_vector(), gb = grads_b[p].grad->to_vector();
    for (std::size_t i = 0; i < ga.size(); ++i)
      CHECK(ga[i] == doctest::Approx(gb[i]).epsilon(1e-5));
  }
}

}  // namespace

TEST_CASE_TEMPLATE("BatchNorm2d: train mode normalises each channel and updates running stats", B,
                   CLR_TEST_BACKENDS) {
  CLR_SKIP_WITHOUT_DEVICE(B);
  const int n = 4, c = 3, h = 2, w = 3, spatial = h * w;
  auto x = clr::testing::normal_values(n * c * spatial, 1);
  for (std::size_t i = 0; i < x.size(); ++i)
    x[i] = 2.0f * x[i] + float(i / spatial % c);  // channel offsets
  BatchNorm2d<B> bn(c);
  const auto y = bn.forward(Tensor<B>::from(x, {n, c, h, w}), Mode::train).to_vector();
  const auto state = clr::nn::state(bn);
  REQUIRE(state.size() == 5);
  const auto running_mean = state[2].value->to_vector(), running_var = state[3].value->to_vector();
  for (int ch = 0; ch < c; ++ch) {
    double mean = 0, mean_y = 0, sq_y = 0;
    std::vector<double> values;
    for (int b = 0; b < n; ++b)
      for (int s = 0; s < spatial; ++s) {
        const int i = (b * c + ch) * spatial + s;
        values.push_back(x[i]);
        mean += x[i];
        mean_y += y[i];
        sq_y += double(y[i]) * y[i];
      }
    const double m = values.size();
    mean /= m;
    double var = 0;
    for (double v : values) var += (v - mean) * (v - mean);
    CHECK(mean_y / m == doctest::Approx(0.0).scale(1));
    CHECK(sq_y / m == doctest::Approx(var / m / (var / m + 1e-5)).epsilon(1e-4));
    CHECK(running_mean[ch] == doctest::Approx(0.1 * mean).epsilon(1e-5));
    CHECK(running_var[ch] == doctest::Approx(0.9 + 0.1 * var / (m - 1)).epsilon(1e-5));
  }
  CHECK(state[4].value->to_vector()[0] == 1.0f);

  // Eval mode: the running statistics, whatever the batch.
  const auto single = Tensor<B>::from(std::vector<float>(c, 1.0f), {1, c, 1, 1});
  const auto out = bn.forward(single, Mode::eval).to_vector();
  for (int ch = 0; ch < c; ++ch)
    CHECK(out[ch] == doctest::Approx((1.0 - running_mean[ch]) / std::sqrt(running_var[ch] + 1e-5))
                         .epsilon(1e-5));
}

TEST_CASE_TEMPLATE("BatchNorm: gradients in train and eval mode, every option", B,
                   CLR_TEST_BACKENDS) {
  CLR_SKIP_WITHOUT_DEVICE(B);
  for (Mode mode : {Mode::train, Mode::eval}) {
    for (const BatchNormOptions options :
         {BatchNormOptions{}, BatchNormOptions{.center = false},
          BatchNormOptions{.scale = false, .center = false}, BatchNormOptions{.relu = true},
          BatchNormOptions{.center = false, .relu = true}}) {
      CAPTURE(mode == Mode::train);
      CAPTURE(options.center);
      CAPTURE(options.scale);
      CAPTURE(options.relu);
      BatchNorm2d<B> bn2(3, options);
      // Non-trivial gamma, beta and running statistics.
      for (auto& entry : clr::nn::state(bn2)) {
        auto v = clr::testing::normal_values(entry.value->numel(), 11);
        for (auto& value : v) value = entry.name == "running_var" ? 0.5f + std::abs(value) : value;
        if (entry.name != "num_batches_tracked")
          *entry.value = Tensor<B>::from(v, entry.value->shape());
      }
      auto errors = clr::testing::layer_gradient_error(
          bn2, clr::testing::normal_values(4 * 3 * 2 * 2, 3), {4, 3, 2, 2}, mode);
      CHECK(errors.input < 1e-2);
      CHECK(errors.parameters < 1e-2);

      BatchNorm1d<B> bn1(5, options);
      errors = clr::testing::layer_gradient_error(bn1, clr::testing::normal_values(6 * 5, 4),
                                                  {6, 5}, mode);
      CHECK(errors.input < 1e-2);
      CHECK(errors.parameters < 1e-2);
    }
  }
}

// The fused ReLU is BatchNorm followed by a ReLU layer: the same outputs, input gradient and
// parameter gradients, in train and eval mode, with no state of its own.
TEST_CASE_TEMPLATE("BatchNorm with relu = true equals BatchNorm, then ReLU", B, CLR_TEST_BACKENDS) {
  CLR_SKIP_WITHOUT_DEVICE(B);
  for (Mode mode : {Mode::train, Mode::eval}) {
    CAPTURE(mode == Mode::train);
    BatchNorm2d<B> fused(3, {.relu = true}), plain(3);
    ReLU<B> relu;
    for (auto* bn : {&fused, &plain}) randomize_state(*bn, 11);
    CHECK(clr::nn::state(fused).size() == clr::nn::state(plain).size());
    const auto x = Tensor<B>::from(clr::testing::normal_values(4 * 3 * 5 * 5, 3), {4, 3, 5, 5});
    const auto dy = Tensor<B>::from(clr::testing::normal_values(4 * 3 * 5 * 5, 4), {4, 3, 5, 5});
    const auto y_fused = fused.forward(x, mode).to_vector();
    const auto y_plain = relu.forward(plain.forward(x, mode), mode).to_vector();
    const auto dx_fused = fused.backward(dy).to_vector();
    const auto dx_plain = plain.backward(relu.backward(dy)).to_vector();
    int zeros = 0;
    for (std::size_t i = 0; i < y_fused.size(); ++i) {
      CHECK(y_fused[i] == doctest::Approx(y_plain[i]).epsilon(1e-6));
      zeros += y_fused[i] == 0.0f ? 1 : 0;
    }
    CHECK(zeros > 0);  // the mask matters
    for (std::size_t i = 0; i < dx_fused.size(); ++i)
      CHECK(dx_fused[i] == doctest::Approx(dx_plain[i]).epsilon(1e-5));
    check_same_parameter_gradients(fused, plain);
  }
}

TEST_CASE_TEMPLATE("ReLU of a sum: max(a + b, 0) and its gradient", B, CLR_TEST_BACKENDS) {
  CLR_SKIP_WITHOUT_DEVICE(B);
  ReLU<B> relu;
  const auto a = Tensor<B>::from(std::vector<float>{1, -2, 3, -4, 0.5f}, {5});
  const auto b = Tensor<B>::from(std::vector<float>{-2, 1, 1, 5, -0.5f}, {5});
  CHECK(relu.forward(a, b, Mode::train).to_vector() == std::vector<float>{0, 0, 4, 1, 0});
  const auto dy = Tensor<B>::from(std::vector<float>{1, 2, 3, 4, 5}, {5});
  CHECK(relu.backward(dy).to_vector() == std::vector<float>{0, 0, 3, 4, 0});
  CHECK_THROWS_WITH_AS(relu.forward(a, Tensor<B>({4}), Mode::train),
                       doctest::Contains("summands have shapes [5] and [4]"), clr::Error);
}

// A residual block's end in one pass: max(BN(x) + r, 0) is BatchNorm, then the ReLU of the
// sum, in values, in the gradient at BN's input (through the ReLU that keeps the fused sum)
// and in BN's parameter gradients, in train and eval mode.
TEST_CASE_TEMPLATE("BatchNorm forward_add_relu equals BatchNorm, then ReLU of the sum", B,
                   CLR_TEST_BACKENDS) {
  CLR_SKIP_WITHOUT_DEVICE(B);
  for (Mode mode : {Mode::train, Mode::eval}) {
    CAPTURE(mode == Mode::train);
    BatchNorm2d<B> fused(3), plain(3);
    ReLU<B> fused_relu, plain_relu;
    for (auto* bn : {&fused, &plain}) randomize_state(*bn, 12);
    const clr::Shape shape{4, 3, 5, 5};
    const auto x = Tensor<B>::from(clr::testing::normal_values(shape.numel(), 5), shape);
    const auto r = Tensor<B>::from(clr::testing::normal_values(shape.numel(), 6), shape);
    const auto dy = Tensor<B>::from(clr::testing::normal_values(shape.numel(), 7), shape);
    const auto y_fused =
        fused_relu.keep_output(fused.forward_add_relu(x, r, mode), mode).to_vector();
    const auto y_plain = plain_relu.forward(plain.forward(x, mode), r, mode).to_vector();
    const auto dx_fused = fused.backward(fused_relu.backward(dy)).to_vector();
    const auto dx_plain = plain.backward(plain_relu.backward(dy)).to_vector();
    int zeros = 0;
    for (std::size_t i = 0; i < y_fused.size(); ++i) {
      CHECK(y_fused[i] == doctest::Approx(y_plain[i]).epsilon(1e-6));
      zeros += y_fused[i] == 0.0f ? 1 : 0;
    }
    CHECK(zeros > 10);  // the mask matters
    CHECK(zeros < static_cast<int>(y_fused.size()) - 10);
    for (std::size_t i = 0; i < dx_fused.size(); ++i)
      CHECK(dx_fused[i] == doctest::Approx(dx_plain[i]).epsilon(1e-5));
    check_same_parameter_gradients(fused, plain);
  }
  BatchNorm2d<B> bn(3), with_relu(3, {.relu = true});
  const auto x = Tensor<B>::from(clr::testing::normal_values(2 * 3 * 2 * 2, 8), {2, 3, 2, 2});
  CHECK_THROWS_WITH_AS(bn.forward_add_relu(x, Tensor<B>({2, 3, 2, 1}), Mode::train),
                       doctest::Contains("residual has shape [2, 3, 2, 1], expected [2, 3, 2, 2]"),
                       clr::Error);
  CHECK_THROWS_WITH_AS(with_relu.forward_add_relu(x, x, Mode::train),
                       doctest::Contains("the ReLU comes after the sum"), clr::Error);
}

TEST_CASE_TEMPLATE("BatchNorm: PyTorch names, SimCLR options and errors", B, CLR_TEST_BACKENDS) {
  CLR_SKIP_WITHOUT_DEVICE(B);
  BatchNorm1d<B> head_bn(4, {.center = false});
  std::vector<std::string> names;
  for (const auto& entry : clr::nn::state(head_bn)) names.push_back(entry.name);
  CHECK(names ==
        std::vector<std::string>{"weight", "running_mean", "running_var", "num_batches_tracked"});
  CHECK(clr::nn::parameters(head_bn)[0].kind == ParameterKind::batch_norm);
  CHECK_THROWS_WITH_AS(
      head_bn.forward(Tensor<B>({2, 3}), Mode::train),
      doctest::Contains("BatchNorm1d: input has shape [2, 3], expected [batch, 4]"), clr::Error);
  CHECK_THROWS_WITH_AS(head_bn.forward(Tensor<B>({1, 4}), Mode::train),
                       doctest::Contains("more than one value per channel"), clr::Error);
  CHECK_THROWS_AS(BatchNorm2d<B>(3, {.momentum = 2.0f}), clr::Error);
}

TEST_CASE_TEMPLATE("MaxPool2d: window maxima and their gradient", B, CLR_TEST_BACKENDS) {
  CLR_SKIP_WITHOUT_DEVICE(B);
  // One 4x4 plane, 3x3 windows, stride 2, padding 1 (the ImageNet stem's pool).
  std::vector<float> x(16);
  for (int i = 0; i < 16; ++i) x[i] = float((i * 7) % 16);
  MaxPool2d<B> pool(3, 2, 1);
  const auto y = pool.forward(Tensor<B>::from(x, {1, 1, 4, 4}), Mode::train).to_vector();
  REQUIRE(y.size() == 4);
  auto window_max = [&](int oh, int ow) {
    float best = -1;
    for (int i = oh * 2 - 1; i <= oh * 2 + 1; ++i)
      for (int j = ow * 2 - 1; j <= ow * 2 + 1; ++j)
        if (i >= 0 && i < 4 && j >= 0 && j < 4) best = std::max(best, x[i * 4 + j]);
    return best;
  };
  CHECK(y ==
        std::vector<float>{window_max(0, 0), window_max(0, 1), window_max(1, 0), window_max(1, 1)});
  // Distinct values: no ties, so finite differences see the same argmax.
  auto values = clr::testing::normal_values(2 * 3 * 5 * 5, 6);
  CHECK(clr::testing::layer_gradient_error(pool, values, {2, 3, 5, 5}, Mode::train).input < 1e-3);
  CHECK_THROWS_AS(MaxPool2d<B>(3, 2, 2), clr::Error);
}

TEST_CASE_TEMPLATE("GlobalAvgPool: plane means and their gradient", B, CLR_TEST_BACKENDS) {
  CLR_SKIP_WITHOUT_DEVICE(B);
  GlobalAvgPool<B> pool;
  const auto y = pool.forward(
      Tensor<B>::from(std::vector<float>{1, 2, 3, 4, 10, 20, 30, 40}, {1, 2, 2, 2}), Mode::eval);
  CHECK(y.shape() == clr::Shape{1, 2});
  CHECK(y.to_vector() == std::vector<float>{2.5f, 25.0f});
  CHECK(clr::testing::layer_gradient_error(pool, clr::testing::normal_values(2 * 3 * 4 * 4, 2),
                                           {2, 3, 4, 4}, Mode::train)
            .input < 1e-3);
}

// The backends' per-channel reductions against sums in double, on planes large enough
// that a plain float sum would drift (224×224), and on values with a mean 10⁴ times their
// spread, where a one-pass variance about zero would cancel to noise; the sums and dots of a
// gradient z over x, whole and gated by a ReLU's mask (gate_scale x + gate_shift > 0).
TEST_CASE_TEMPLATE("channel moments, sums and dots: double-precision accuracy", B,
                   CLR_TEST_BACKENDS) {
  CLR_SKIP_WITHOUT_DEVICE(B);
  struct Case {
    int batch, channels, spatial;
    float offset;
  };
  const int saved_threads = omp_get_max_threads();
  // The CPU's threads each sum their share of the images (norm_pool_kernels.hpp): 5 images on
  // 3 threads are shares of 2, 2 and 1.
  for (const int threads : {1, 2, 3})
    for (const Case k : {Case{2, 3, 224 * 224, 0.5f}, Case{5, 2, 37, 1e4f}, Case{64, 4, 1, 3.0f}}) {
      CAPTURE(threads);
      CAPTURE(k.spatial);
      const int size = k.batch * k.channels * k.spatial;
      auto x = clr::testing::normal_values(size, 7);
      const auto z = clr::testing::normal_values(size, 8);
      for (float& v : x) v = k.offset + v;
      // The gate opens where x > offset − 0.5 · (c + 1) / channels (by a scale of 1 for channel
      // 0, 2 for the others): a different share of each channel.
      std::vector<float> scale(k.channels), shift(k.channels);
      for (int c = 0; c < k.channels; ++c) {
        scale[c] = c == 0 ? 1.0f : 2.0f;
        shift[c] = -scale[c] * (k.offset - 0.5f * float(c + 1) / float(k.channels));
      }
      const auto tx = Tensor<B>::from(x, {size}), tz = Tensor<B>::from(z, {size});
      const auto tscale = Tensor<B>::from(scale, {k.channels});
      const auto tshift = Tensor<B>::from(shift, {k.channels});
      auto mean = Tensor<B>({k.channels}), var = Tensor<B>({k.channels});
      auto dots = Tensor<B>({k.channels}), sums = Tensor<B>({k.channels});
      auto gated_dots = Tensor<B>({k.channels}), gated_sums = Tensor<B>({k.channels});
      auto plain_sums = Tensor<B>({k.channels});
      omp_set_num_threads(threads);
      B::channel_moments(tx.data(), k.batch, k.channels, k.spatial, mean.data(), var.data());
      B::channel_sums_dot(tz.data(), tx.data(), k.batch, k.channels, k.spatial, nullptr, nullptr,
                          sums.data(), dots.data());
      B::channel_sums_dot(tz.data(), tx.data(), k.batch, k.channels, k.spatial, tscale.data(),
                          tshift.data(), gated_sums.data(), gated_dots.data());
      B::channel_sums(tz.data(), k.batch, k.channels, k.spatial, plain_sums.data(), 0.0f);
      omp_set_num_threads(saved_threads);
      const auto got_mean = mean.to_vector(), got_var = var.to_vector();
      const auto got_dots = dots.to_vector(), got_sums = sums.to_vector();
      const auto got_gated_dots = gated_dots.to_vector(), got_gated_sums = gated_sums.to_vector();
      const auto got_plain_sums = plain_sums.to_vector();
      for (int c = 0; c < k.channels; ++c) {
        double sum = 0, dot = 0, z_sum = 0, z_abs = 0, squares = 0, gated_sum = 0, gated_dot = 0;
        int open = 0;
        for (int b = 0; b < k.batch; ++b)
          for (int s = 0; s < k.spatial; ++s) {
            const long i = (long(b) * k.channels + c) * k.spatial + s;
            sum += x[i];
            dot += double(x[i]) * z[i];
            z_sum += z[i];
            z_abs += std::abs(z[i]);
            if (std::fma(scale[c], x[i], shift[c]) > 0.0f) {
              gated_sum += z[i];
              gated_dot += double(x[i]) * z[i];
              ++open;
            }
          }
        CAPTURE(c);
        CHECK(open > 0);
        CHECK(open < k.batch * k.spatial);
        const double count = double(k.batch) * k.spatial, mu = sum / count;
        for (int b = 0; b < k.batch; ++b)
          for (int s = 0; s < k.spatial; ++s) {
            const double d = x[(long(b) * k.channels + c) * k.spatial + s] - mu;
            squares += d * d;
          }
        CHECK(std::abs(got_mean[c] - mu) <= 1e-6 * std::abs(mu) + 1e-6);
        CHECK(std::abs(got_var[c] - squares / count) <= 1e-4 * (squares / count));
        // Relative to the sums of magnitudes: the totals themselves may be near zero.
        const double dot_scale = 1e-6 * (std::abs(k.offset) + 4) * z_abs;
        CHECK(std::abs(got_dots[c] - dot) <= dot_scale);
        CHECK(std::abs(got_sums[c] - z_sum) <= 1e-6 * z_abs);
        CHECK(std::abs(got_plain_sums[c] - z_sum) <= 1e-6 * z_abs);
        CHECK(std::abs(got_gated_dots[c] - gated_dot) <= dot_scale);
        CHECK(std::abs(got_gated_sums[c] - gated_sum) <= 1e-6 * z_abs);
      }
    }
}
