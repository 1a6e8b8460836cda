// ReLU: y = max(x, 0), elementwise, any shape; or of a sum, y = max(a + b, 0).
#pragma once

#include <utility>

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

  // relu(a + b) in one pass: a residual block's sum and the ReLU after it.
  Tensor<B> forward(const Tensor<B>& a, const Tensor<B>& b, Mode mode) {
    require(a.shape() == b.shape(), "ReLU: the summands have shapes ", a.shape(), " and ",
            b.shape());
    Tensor<B> y = Tensor<B>::uninitialized(a.shape());
    if (!a.empty()) B::add_relu(a.data(), b.data(), y.data(), a.numel());
    output_ = keeps_activations(mode) ? y : Tensor<B>();
    return y;
  }

  // y, computed elsewhere with this ReLU fused in (BatchNorm's forward_add_relu), as if
  // forward had written it: backward passes the gradient where y > 0.
  Tensor<B> keep_output(Tensor<B> y, Mode mode) {
    output_ = keeps_activations(mode) ? y : Tensor<B>();
    return y;
  }
  Tensor<B> backward(const Tensor<B>& dy) {
    const Tensor<B> output = std::exchange(output_, Tensor<B>());
    require(!output.empty() || dy.empty(),
            "ReLU::backward: call forward in train or eval mode before each backward");
    require(dy.shape() == output.shape(), "ReLU::backward: dy has shape ", dy.shape(),
            ", expected ", output.shape());
    Tensor<B> dx = Tensor<B>::uninitialized(dy.shape());
    if (!dy.empty()) B::relu_backward(output.data(), dy.data(), dx.data(), dy.numel());
    return dx;
  }

  void collect_state(const std::string&, State<B>&) {}

 private:
  Tensor<B> output_;  // y > 0 marks where the gradient passes
};

}  // namespace clr::nn
