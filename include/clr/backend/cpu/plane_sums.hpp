// Sums over a plane of floats for the per-channel statistics (BatchNorm's moments and
// gradients, bias gradients). Each block of kBlock values is summed in float, where the
// loop vectorises (16 lanes), and the block sums are added up in double: the accuracy of a
// double sum for planes of any size, at the speed of a float one. Summing every value in
// double (Eigen's cast<double>().sum()) ran at half the vector width and made BatchNorm's
// passes a seventh of a training step.
#pragma once

#include <cmath>

namespace clr::cpu_impl::plane_sums {

constexpr long kBlock = 256;

// Σ term(i) for i in [0, n), by blocks as above; term is inlined into the vectorised loop.
template <class Term>
double blocked_sum(long n, Term term) {
  double total = 0.0;
  for (long first = 0; first < n; first += kBlock) {
    const long last = first + kBlock < n ? first + kBlock : n;
    float block = 0.0f;
#pragma omp simd reduction(+ : block)
    for (long i = first; i < last; ++i) block += term(i);
    total += block;
  }
  return total;
}

// Σ x over n values.
inline double sum(const float* __restrict x, long n) {
  return blocked_sum(n, [x](long i) { return x[i]; });
}

// Σ x z over n values.
inline double dot(const float* __restrict x, const float* __restrict z, long n) {
  return blocked_sum(n, [x, z](long i) { return x[i] * z[i]; });
}

// Adds Σ g and Σ g x over n values to sum and dot, g = dy where scale x + shift > 0 (a
// ReLU's gradient recomputed from its input: BatchNorm with a fused ReLU), else g = dy with
// gated false: one pass over dy and x for BatchNorm's backward.
template <bool gated>
inline void add_sum_and_dot(const float* __restrict dy, const float* __restrict x, long n,
                            float scale, float shift, double& sum, double& dot) {
  for (long first = 0; first < n; first += kBlock) {
    const long last = first + kBlock < n ? first + kBlock : n;
    float block = 0.0f, block_dot = 0.0f;
#pragma omp simd reduction(+ : block, block_dot)
    for (long i = first; i < last; ++i) {
      const float g = !gated || std::fma(scale, x[i], shift) > 0.0f ? dy[i] : 0.0f;
      block += g;
      block_dot += g * x[i];
    }
    sum += block;
    dot += block_dot;
  }
}

// Adds Σ (x − shift) and Σ (x − shift)² over n values to sum and squares: one pass for a
// mean and a variance. With a shift near the values (one of them), the variance
// Σ (x − shift)² / N − (Σ (x − shift) / N)² does not cancel away as it would about zero
// for values with a large mean.
inline void add_shifted_moments(const float* __restrict x, long n, float shift, double& sum,
                                double& squares) {
  for (long first = 0; first < n; first += kBlock) {
    const long last = first + kBlock < n ? first + kBlock : n;
    float block = 0.0f, block_squares = 0.0f;
#pragma omp simd reduction(+ : block, block_squares)
    for (long i = first; i < last; ++i) {
      const float d = x[i] - shift;
      block += d;
      block_squares += d * d;
    }
    sum += block;
    squares += block_squares;
  }
}

}  // namespace clr::cpu_impl::plane_sums
