// The CPU convolution's paths side by side, for the tests of each (test_winograd.cpp,
// test_im2col_channels_last.cpp): a scope that forces a path, one forward and backward
// through it, and the error measure the tests compare them by.
#pragma once

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "support/backends.hpp"

namespace clr::testing {

using clr::cpu_impl::ConvAlgorithm;

// Sets the CPU's convolution algorithm (and the thread count) for one scope.
class Forced {
 public:
  explicit Forced(ConvAlgorithm algorithm, int threads = omp_get_max_threads())
      : saved_(clr::cpu::conv_algorithm()), saved_threads_(omp_get_max_threads()) {
    clr::cpu::conv_algorithm() = algorithm;
    omp_set_num_threads(threads);
  }
  ~Forced() {
    clr::cpu::conv_algorithm() = saved_;
    omp_set_num_threads(saved_threads_);
  }
  Forced(const Forced&) = delete;
  Forced& operator=(const Forced&) = delete;

 private:
  ConvAlgorithm saved_;
  int saved_threads_;
};

struct Results {
  std::vector<float> y, dw, dx;
};

// One forward and backward of a convolution on the CPU by `algorithm`; dw starts at 0.5 (it
// is accumulated onto), dx at 7 (it is overwritten).
inline Results convolve(ConvAlgorithm algorithm, int threads, const clr::Conv2dCall& call,
                        const std::vector<float>& dy) {
  const Forced forced(algorithm, threads);
  Results r{std::vector<float>(dy.size()),
            std::vector<float>(
                static_cast<std::size_t>(call.out_channels) * call.geometry.patch_size(), 0.5f),
            std::vector<float>(static_cast<std::size_t>(call.batch) * call.image_size(), 7.0f)};
  clr::cpu::conv2d_forward(call, r.y.data());
  clr::cpu::conv2d_backward(call, dy.data(), r.dw.data(), r.dx.data());
  return r;
}

// max |a − b| / max(1, max |b|): relative to the largest value, because a weight gradient
// sums thousands of products and its small entries carry the rounding of the large ones (both
// paths are ~5e-7 of the largest entry off a double-precision sum at 5 × 32 × 32 positions).
inline double worst_error(const std::vector<float>& a, const std::vector<float>& b) {
  double worst = 0.0, largest = 1.0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    worst = std::max(worst, std::abs(double(a[i]) - b[i]));
    largest = std::max(largest, std::abs(double(b[i])));
  }
  return worst / largest;
}

}  // namespace clr::testing
