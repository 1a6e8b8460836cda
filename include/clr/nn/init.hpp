// Parameter initialisation as PyTorch's defaults, so a clr model starts where the
// PyTorch one would: Linear and Conv2d draw weights from U(-1/sqrt(fan_in), 1/sqrt(fan_in))
// (kaiming_uniform with a = sqrt(5)) and biases from the same bound.
#pragma once

#include <cmath>
#include <vector>

#include "clr/core/rng.hpp"
#include "clr/core/tensor.hpp"

namespace clr::nn {

template <Backend B>
Tensor<B> uniform_tensor(Shape shape, float bound, Rng& rng) {
  std::vector<float> values(shape.numel());
  for (float& v : values) v = rng.uniform(-bound, bound);
  return Tensor<B>::from(values, shape);
}

inline float fan_in_bound(int fan_in) {
  return 1.0f / std::sqrt(static_cast<float>(fan_in));
}

}  // namespace clr::nn
