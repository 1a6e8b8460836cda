// Linear: y = x W^T + b, W [out, in] as PyTorch's nn.Linear, on x [batch, in] (any
// trailing shape is flattened into `in`).
#pragma once

#include <utility>

#include "clr/core/error.hpp"
#include "clr/core/ops.hpp"
#include "clr/core/rng.hpp"
#include "clr/nn/init.hpp"
#include "clr/nn/layer.hpp"

namespace clr::nn {

template <Backend B>
class Linear {
 public:
  using backend = B;

  Linear(int in_features, int out_features, Rng& rng, bool bias = true)
      : weight_(uniform_tensor<B>({out_features, in_features}, fan_in_bound(in_features), rng)),
        weight_grad_({out_features, in_features}) {
    require(in_features >= 1 && out_features >= 1,
            "Linear: features must be >= 1, got in = ", in_features, ", out = ", out_features);
    if (bias) {
      bias_ = uniform_tensor<B>({out_features}, fan_in_bound(in_features), rng);
      bias_grad_ = Tensor<B>({out_features});
    }
  }

  Tensor<B> forward(const Tensor<B>& x, Mode mode) {
    require(x.rank() >= 1 && x.shape().row_size() == in_features(), "Linear: input has shape ",
            x.shape(), ", expected [batch, ", in_features(), "]");
    const Tensor<B> input = x.reshape({x.dim(0), in_features()});
    input_ = keeps_activations(mode) ? input : Tensor<B>();
    Tensor<B> y = Tensor<B>::uninitialized({x.dim(0), out_features()});
    ops::gemm<B>(input.matrix(), weight_.matrix().t(), y.matrix());
    if (has_bias()) B::add_channel_bias(y.data(), x.dim(0), out_features(), 1, bias_.data());
    return y;
  }

  // dW += dy^T x, db += column sums of dy, dx = dy W.
  Tensor<B> backward(const Tensor<B>& dy) {
    const Tensor<B> input = std::exchange(input_, Tensor<B>());
    require(!input.empty(),
            "Linear::backward: call forward in train or eval mode before each backward");
    require(dy.shape() == Shape{input.dim(0), out_features()}, "Linear::backward: dy has shape ",
            dy.shape(), ", expected [", input.dim(0), ", ", out_features(), "]");
    ops::gemm<B>(dy.matrix().t(), input.matrix(), weight_grad_.matrix(), 1.0f, 1.0f);
    if (has_bias())
      B::channel_sums(dy.data(), dy.dim(0), out_features(), 1, bias_grad_.data(), 1.0f);
    Tensor<B> dx = Tensor<B>::uninitialized(input.shape());
    ops::gemm<B>(dy.matrix(), weight_.matrix(), dx.matrix());
    return dx;
  }

  void collect_state(const std::string& prefix, State<B>& out) {
    out.push_back({join_name(prefix, "weight"), &weight_, &weight_grad_, ParameterKind::weight});
    if (has_bias())
      out.push_back({join_name(prefix, "bias"), &bias_, &bias_grad_, ParameterKind::bias});
  }

  int in_features() const { return weight_.dim(1); }
  int out_features() const { return weight_.dim(0); }
  bool has_bias() const { return !bias_.empty(); }

 private:
  Tensor<B> weight_, weight_grad_;  // [out, in]
  Tensor<B> bias_, bias_grad_;      // [out], or empty
  Tensor<B> input_;                 // [batch, in], kept for backward
};

}  // namespace clr::nn
