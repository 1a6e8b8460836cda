// Random inputs for tests: normal values, and rows scaled to unit L2 norm as the losses
// expect their features.
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

#include "clr/core/rng.hpp"

namespace clr::testing {

inline std::vector<float> normal_values(std::int64_t n, std::uint64_t seed) {
  Rng rng(seed);
  std::vector<float> values(n);
  for (auto& v : values) v = rng.normal();
  return values;
}

inline std::vector<float> unit_rows(int rows, int dim, std::uint64_t seed) {
  std::vector<float> values = normal_values(std::int64_t{rows} * dim, seed);
  for (int r = 0; r < rows; ++r) {
    double norm = 0.0;
    for (int j = 0; j < dim; ++j) norm += double(values[r * dim + j]) * values[r * dim + j];
    for (int j = 0; j < dim; ++j) values[r * dim + j] /= static_cast<float>(std::sqrt(norm));
  }
  return values;
}

}  // namespace clr::testing
