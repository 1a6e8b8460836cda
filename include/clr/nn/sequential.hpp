// Sequential<Layers...>: layers composed at compile time, applied in order; backward runs
// them in reverse. Children are named "0", "1", ... as in PyTorch's nn.Sequential, so a
// SupContrast head `Sequential(Linear, ReLU, Linear)` has the keys 0.weight, 2.weight.
#pragma once

#include <cstddef>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

#include "clr/nn/layer.hpp"

namespace clr::nn {

template <Layer First, Layer... Rest>
requires(std::is_same_v<typename First::backend, typename Rest::backend>&&...) class Sequential {
 public:
  using backend = typename First::backend;
  using B = backend;

  explicit Sequential(First first, Rest... rest) : layers_(std::move(first), std::move(rest)...) {}

  Tensor<B> forward(const Tensor<B>& x, Mode mode) {
    return std::apply(
        [&](auto&... layer) {
          Tensor<B> y = x;
          ((y = layer.forward(y, mode)), ...);
          return y;
        },
        layers_);
  }

  Tensor<B> backward(const Tensor<B>& dy) {
    Tensor<B> grad = dy;
    backward_from<sizeof...(Rest)>(grad);
    return grad;
  }

  void collect_state(const std::string& prefix, State<B>& out) { collect_from<0>(prefix, out); }

  template <std::size_t I>
  auto& get() {
    return std::get<I>(layers_);
  }
  static constexpr std::size_t size() { return 1 + sizeof...(Rest); }

 private:
  template <std::size_t I>
  void backward_from(Tensor<B>& grad) {
    grad = std::get<I>(layers_).backward(grad);
    if constexpr (I > 0) backward_from<I - 1>(grad);
  }

  template <std::size_t I>
  void collect_from(const std::string& prefix, State<B>& out) {
    std::get<I>(layers_).collect_state(join_name(prefix, std::to_string(I)), out);
    if constexpr (I + 1 < size()) collect_from<I + 1>(prefix, out);
  }

  std::tuple<First, Rest...> layers_;
};

}  // namespace clr::nn
