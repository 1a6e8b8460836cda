// Conv2d against a direct convolution written out here, and its gradients by finite
// differences, for the geometries of ResNet stems and blocks.
#include <doctest/doctest.h>
#include <omp.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <vector>

#include "clr/backend/conv_by_images.hpp"
#include "clr/backend/cpu/image_groups.hpp"
#include "support/backends.hpp"
#include "support/layer_check.hpp"

using clr::Rng;
using clr::Tensor;
using namespace clr::nn;

namespace {

// y[n][o][oh][ow] = b[o] + sum_c,ki,kj w[o][c][ki][kj] x[n][c][oh s - p + ki][ow s - p + kj]
std::vector<double> direct_convolution(const std::vector<float>& x, int n, int c, int h, int w,
                                       const std::vector<float>& weight,
                                       const std::vector<float>& bias, int out, int k, int stride,
                                       int pad) {
  const int oh_n = (h + 2 * pad - k) / stride + 1, ow_n = (w + 2 * pad - k) / stride + 1;
  std::vector<double> y(std::size_t(n) * out * oh_n * ow_n, 0.0);
  for (int b = 0; b < n; ++b)
    for (int o = 0; o < out; ++o)
      for (int oh = 0; oh < oh_n; ++oh)
        for (int ow = 0; ow < ow_n; ++ow) {
          double sum = bias.empty() ? 0.0 : bias[o];
          for (int ci = 0; ci < c; ++ci)
            for (int ki = 0; ki < k; ++ki)
              for (int kj = 0; kj < k; ++kj) {
                const int ih = oh * stride - pad + ki, iw = ow * stride - pad + kj;
                if (ih < 0 || ih >= h || iw < 0 || iw >= w) continue;
                sum += double(weight[((o * c + ci) * k + ki) * k + kj]) *
                       x[((b * c + ci) * h + ih) * w + iw];
              }
          y[((b * out + o) * oh_n + oh) * ow_n + ow] = sum;
        }
  return y;
}

struct Geometry {
  int in, out, kernel, stride, pad, h, w;
  bool bias;
};

}  // namespace

TEST_CASE_TEMPLATE("Conv2d: forward equals a direct convolution", B, CLR_TEST_BACKENDS) {
  CLR_SKIP_WITHOUT_DEVICE(B);
  for (const Geometry g :
       {Geometry{3, 4, 3, 1, 1, 6, 5, true}, Geometry{2, 3, 3, 2, 1, 7, 7, false},
        Geometry{4, 2, 1, 2, 0, 6, 6, false}, Geometry{1, 2, 7, 2, 3, 9, 8, true}}) {
    CAPTURE(g.kernel);
    CAPTURE(g.stride);
    Rng rng(4);
    Conv2d<B> conv(g.in, g.out, g.kernel, rng,
                   {.stride = g.stride, .padding = g.pad, .bias = g.bias});
    const auto x = clr::testing::normal_values(2 * g.in * g.h * g.w, 3);
    const auto y = conv.forward(Tensor<B>::from(x, {2, g.in, g.h, g.w}), Mode::train);
    const auto params = clr::nn::state(conv);
    const auto expected =
        direct_convolution(x, 2, g.in, g.h, g.w, params[0].value->to_vector(),
                           g.bias ? params[1].value->to_vector() : std::vector<float>{}, g.out,
                           g.kernel, g.stride, g.pad);
    const auto got = y.to_vector();
    REQUIRE(got.size() == expected.size());
    for (std::size_t i = 0; i < got.size(); ++i)
      CHECK(got[i] == doctest::Approx(expected[i]).epsilon(1e-5));
  }
}

TEST_CASE_TEMPLATE("Conv2d: gradients of input, weight and bias match finite differences", B,
                   CLR_TEST_BACKENDS) {
  CLR_SKIP_WITHOUT_DEVICE(B);
  for (const Geometry g :
       {Geometry{3, 4, 3, 2, 1, 7, 6, true}, Geometry{4, 3, 1, 2, 0, 6, 6, false},
        Geometry{2, 3, 3, 1, 1, 5, 5, false}}) {
    CAPTURE(g.kernel);
    CAPTURE(g.stride);
    Rng rng(8);
    Conv2d<B> conv(g.in, g.out, g.kernel, rng,
                   {.stride = g.stride, .padding = g.pad, .bias = g.bias});
    const auto errors = clr::testing::layer_gradient_error(
        conv, clr::testing::normal_values(2 * g.in * g.h * g.w, 5), {2, g.in, g.h, g.w},
        Mode::train);
    CHECK(errors.input < 1e-2);
    CHECK(errors.parameters < 1e-2);
  }
}

TEST_CASE_TEMPLATE("Conv2d: names, shapes and errors", B, CLR_TEST_BACKENDS) {
  CLR_SKIP_WITHOUT_DEVICE(B);
  Rng rng(1);
  Conv2d<B> conv(3, 8, 3, rng, {.stride = 1, .padding = 1, .bias = false});
  const auto state = clr::nn::state(conv);
  REQUIRE(state.size() == 1);
  CHECK(state[0].name == "weight");
  CHECK(state[0].value->shape() == clr::Shape{8, 3, 3, 3});
  CHECK(conv.forward(Tensor<B>({2, 3, 5, 4}), Mode::eval).shape() == clr::Shape{2, 8, 5, 4});
  CHECK_THROWS_WITH_AS(
      conv.forward(Tensor<B>({2, 4, 5, 5}), Mode::train),
      doctest::Contains("Conv2d: input has shape [2, 4, 5, 5], expected [batch, 3, height, width]"),
      clr::Error);
  Conv2d<B> big(1, 1, 7, rng);
  CHECK_THROWS_WITH_AS(big.forward(Tensor<B>({1, 1, 4, 4}), Mode::train),
                       doctest::Contains("smaller than the 7x7 kernel"), clr::Error);
}

// The CPU backend cuts a batch into groups of images that share one GEMM and spreads the
// groups over threads; it must agree with the plain per-image lowering (ConvByImages) for
// any batch size, group size and thread count.
TEST_CASE("Conv2d on the CPU: grouped, threaded lowering equals the per-image lowering") {
  struct Case {
    int in, out, k, stride, pad, size;
  };
  // The last two have whole vectors of positions (16 and 256), so that single-image groups
  // read dy and write y and dx where they lie instead of through padded buffers.
  const Case cases[] = {{3, 5, 3, 1, 1, 3}, {4, 6, 3, 2, 1, 5}, {2, 3, 1, 2, 0, 4},
                        {2, 4, 7, 2, 3, 9}, {5, 2, 3, 1, 0, 6}, {3, 4, 3, 1, 1, 17},
                        {4, 3, 1, 1, 0, 5}, {2, 3, 5, 1, 1, 6}, {3, 4, 3, 2, 1, 8},
                        {2, 3, 3, 1, 1, 16}};
  const int saved_threads = omp_get_max_threads();
  for (const Case& c : cases)
    for (int batch : {1, 3, 9, 17})
      for (int threads : {1, 2, 3}) {
        CAPTURE(c.size);
        CAPTURE(c.k);
        CAPTURE(batch);
        CAPTURE(threads);
        const clr::ConvGeometry g{c.in, c.size, c.size, c.k, c.k, c.pad, c.pad, c.stride, c.stride};
        const int positions = g.out_h() * g.out_w();
        const auto x = clr::testing::normal_values(batch * c.in * c.size * c.size, 1);
        const auto w = clr::testing::normal_values(c.out * g.patch_size(), 2);
        const auto dy = clr::testing::normal_values(batch * c.out * positions, 3);
        const clr::Conv2dCall call{g, batch, c.out, x.data(), w.data()};

        std::vector<float> y_ref(dy.size()), dw_ref(w.size(), 0.5f), dx_ref(x.size());
        clr::ConvByImages<clr::cpu>::conv2d_forward(call, y_ref.data());
        clr::ConvByImages<clr::cpu>::conv2d_backward(call, dy.data(), dw_ref.data(), dx_ref.data());

        omp_set_num_threads(threads);
        std::vector<float> y(dy.size()), dw(w.size(), 0.5f), dx(x.size(), 7.0f);
        clr::cpu::conv2d_forward(call, y.data());
        clr::cpu::conv2d_backward(call, dy.data(), dw.data(), dx.data());
        omp_set_num_threads(saved_threads);

        auto close = [](const std::vector<float>& a, const std::vector<float>& b) {
          double worst = 0.0;
          for (std::size_t i = 0; i < a.size(); ++i)
            worst = std::max(worst, std::abs(double(a[i]) - b[i]) / (1.0 + std::abs(b[i])));
          return worst;
        };
        CHECK(close(y, y_ref) < 1e-5);
        CHECK(close(dw, dw_ref) < 1e-5);  // accumulated onto the 0.5 already there
        CHECK(close(dx, dx_ref) < 1e-5);  // overwritten, not accumulated onto the 7
      }
}

// Every pass over a batch gives each thread the same images (image_groups.hpp): the groups a
// static schedule hands thread t cover exactly its batch_share, in order; no group holds more
// than `group` images, nor more than the fewest images that bring the wanted columns, and no
// fewer groups a thread would do.
TEST_CASE("Conv2d on the CPU: each thread's groups are its share of the batch") {
  const int saved_threads = omp_get_max_threads();
  for (int threads : {1, 2, 3})
    for (int batch : {1, 2, 3, 7, 64, 127, 128})
      for (const auto [per_image, wanted] :
           {std::array{1, 113}, std::array{4, 113}, std::array{64, 113}, std::array{300, 256}}) {
        CAPTURE(threads);
        CAPTURE(batch);
        CAPTURE(per_image);
        omp_set_num_threads(threads);
        const clr::cpu_impl::ImageGroups plan(batch, per_image, wanted);
        omp_set_num_threads(saved_threads);
        const int used = std::min(threads, batch);
        REQUIRE(plan.threads == used);
        REQUIRE(plan.groups() == plan.rounds * used);
        const int most = std::max(1, (wanted + per_image - 1) / per_image);  // images a group
        int covered = 0;  // the shares follow each other from image 0 to the batch's end
        for (int t = 0; t < used; ++t) {
          const clr::cpu_impl::BatchShare share = clr::cpu_impl::batch_share(batch, t, used);
          CHECK(share.first == covered);
          covered = share.last;
          CHECK(share.last - share.first >= batch / used);
          CHECK(share.last - share.first <= (batch + used - 1) / used);
          int next = share.first;
          for (int g = t * plan.rounds; g < (t + 1) * plan.rounds; ++g) {
            CAPTURE(g);
            const int images = plan.images_in(g);
            if (images == 0) continue;
            CHECK(plan.first_image(g) == next);
            CHECK(images <= plan.group);
            CHECK(images <= most);
            next += images;
          }
          CHECK(next == share.last);
        }
        CHECK(covered == batch);
        CHECK((plan.rounds - 1) * most < (batch + used - 1) / used);  // the largest share
        CHECK(plan.columns() == long(plan.group) * per_image);
      }
}
