// clr::testing::layer_gradient_error: finite-difference check of a layer's backward pass,
// for its input and every parameter, through f(x, params) = <w, forward(x)> with a fixed
// random w, whose gradients are exactly what backward(w) returns and accumulates.
#pragma once

#include <algorithm>
#include <string>
#include <vector>

#include "clr/core/tensor.hpp"
#include "clr/nn/layer.hpp"
#include "support/gradcheck.hpp"
#include "support/random.hpp"

namespace clr::testing {

struct LayerGradientErrors {
  double input = 0.0;
  double parameters = 0.0;  // the worst over all parameters
  std::string worst_parameter;
};

template <nn::Layer L>
LayerGradientErrors layer_gradient_error(L& layer, const std::vector<float>& x, Shape shape,
                                         nn::Mode mode, GradientCheck check = {},
                                         std::uint64_t seed = 7) {
  using B = typename L::backend;
  const auto out = layer.forward(Tensor<B>::from(x, shape), mode);
  const auto w = normal_values(out.numel(), seed);
  auto objective = [&](const std::vector<float>& input) {
    const auto y = layer.forward(Tensor<B>::from(input, shape), mode).to_vector();
    double value = 0.0;
    for (std::size_t i = 0; i < y.size(); ++i) value += double(w[i]) * y[i];
    return value;
  };

  nn::zero_grad(layer);
  layer.forward(Tensor<B>::from(x, shape), mode);
  const auto dx = layer.backward(Tensor<B>::from(w, out.shape())).to_vector();
  LayerGradientErrors errors;
  errors.input = gradient_error(objective, x, dx, check, seed);

  for (auto& entry : nn::parameters(layer)) {
    const std::vector<float> original = entry.value->to_vector();
    const std::vector<float> grad = entry.grad->to_vector();
    const Shape param_shape = entry.value->shape();
    auto of_parameter = [&](const std::vector<float>& values) {
      *entry.value = Tensor<B>::from(values, param_shape);
      const double value = objective(x);
      *entry.value = Tensor<B>::from(original, param_shape);
      return value;
    };
    const double error = gradient_error(of_parameter, original, grad, check, seed);
    if (error >= errors.parameters) {
      errors.parameters = error;
      errors.worst_parameter = entry.name;
    }
  }
  return errors;
}

}  // namespace clr::testing
