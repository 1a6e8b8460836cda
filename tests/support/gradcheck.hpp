// Finite-difference checks of analytic gradients: clr::testing::check_gradient compares
// the gradient of a scalar function with central differences along random directions
// and along single coordinates, and returns the worst relative disagreement.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <vector>

#include "clr/core/rng.hpp"

namespace clr::testing {

struct GradientCheck {
  double step = 1e-3;    // central-difference step along a unit direction
  int directions = 8;    // random unit directions
  int coordinates = 16;  // single coordinates, spread over the input
  // Disagreements are relative to max(|numeric|, |analytic|, floor * |gradient|): a
  // derivative far smaller than the gradient's norm is all float32 rounding noise.
  double floor = 0.05;
  // For functions with kinks (ReLU, max-pool), a central difference that straddles a kink
  // means nothing; with many units some directions always do. Then the check returns the
  // median disagreement instead of the worst: a wrong gradient term (a missing shortcut,
  // a swapped order) shows in most directions, a kink in few.
  bool kinks = false;
};

// f: the scalar function of x (host floats); gradient: its claimed gradient at x.
inline double gradient_error(const std::function<double(const std::vector<float>&)>& f,
                             const std::vector<float>& x, const std::vector<float>& gradient,
                             GradientCheck check = {}, std::uint64_t seed = 1) {
  Rng rng(seed);
  const auto n = x.size();
  double gradient_norm = 0.0;
  for (float g : gradient) gradient_norm += double(g) * g;
  const double floor = check.floor * std::sqrt(gradient_norm) + 1e-12;
  std::vector<double> errors;
  auto compare = [&](const std::vector<double>& direction) {
    std::vector<float> plus = x, minus = x;
    double analytic = 0.0;
    for (std::size_t i = 0; i < n; ++i) {
      plus[i] = static_cast<float>(x[i] + check.step * direction[i]);
      minus[i] = static_cast<float>(x[i] - check.step * direction[i]);
      // The step actually taken, after rounding to float: comparing against it removes
      // the rounding of the inputs from the error.
      analytic += gradient[i] * (double(plus[i]) - double(minus[i])) / (2.0 * check.step);
    }
    const double numeric = (f(plus) - f(minus)) / (2.0 * check.step);
    errors.push_back(std::abs(numeric - analytic) /
                     std::max({std::abs(analytic), std::abs(numeric), floor}));
  };
  for (int d = 0; d < check.directions; ++d) {
    std::vector<double> direction(n);
    double norm = 0.0;
    for (auto& v : direction) {
      v = rng.normal();
      norm += v * v;
    }
    for (auto& v : direction) v /= std::sqrt(norm);
    compare(direction);
  }
  for (int c = 0; c < check.coordinates && n > 0; ++c) {
    std::vector<double> direction(n, 0.0);
    direction[rng.uniform_int(static_cast<std::uint32_t>(n))] = 1.0;
    compare(direction);
  }
  if (errors.empty()) return 0.0;
  std::sort(errors.begin(), errors.end());
  return check.kinks ? errors[errors.size() / 2] : errors.back();
}

}  // namespace clr::testing
