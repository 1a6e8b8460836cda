// ReLU: y = max(x, 0), elementwise, any shape.
#pragma once

#include "clr/core/error.hpp"
#include "clr/nn/layer.hpp"

namespace clr::nn {

template <Backend B>
class ReLU {
 public:
  using backend = B;

  Tensor<B> forward(const Tensor<B>& x, Mode mode) {
    Tensor<B> y = Tensor<B>::uninitialized(x.shape());
    if (!x.empty()) B::relu(x.data(), y.data(), x.numel());
    output_ = keeps_activations(mode) ? y : Tensor<B>();
    return y;
  }

  Tensor<B> backward(const Tensor<B>& dy) {
    require(!output_.empty() || dy.empty(),
            "ReLU::backward: call forward in train or eval mode first");
    require(dy.shape() == output_.shape(), "ReLU::backward: dy has shape ", dy.shape(),
            ", expected ", output_.shape());
    Tensor<B> dx = Tensor<B>::uninitialized(dy.shape());
    if (!dy.empty()) B::relu_backward(output_.data(), dy.data(), dx.data(), dy.numel());
    return dx;
  }

  void collect_state(const std::string&, State<B>&) {}

 private:
  Tensor<B> output_;  // y > 0 marks where the gradient passes
};

}  // namespace clr::nn
