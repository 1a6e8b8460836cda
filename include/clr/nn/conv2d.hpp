// Conv2d: 2-D convolution of NCHW images, square kernel, as PyTorch's nn.Conv2d (weights
// [out, in, k, k], bias optional). The backend's batched primitives (clr/backend/conv2d.hpp)
// lower each image to a GEMM by im2col: y_n = W columns(x_n); backward re-forms the columns
// instead of keeping them (a batch's columns are kernel^2 times the input),
// dW += dy_n columns^T and dx_n = col2im(W^T dy_n).
#pragma once

#include <utility>

#include "clr/backend/conv2d.hpp"
#include "clr/core/error.hpp"
#include "clr/core/ops.hpp"
#include "clr/core/rng.hpp"
#include "clr/nn/init.hpp"
#include "clr/nn/layer.hpp"

namespace clr::nn {

struct Conv2dOptions {
  int stride = 1;
  int padding = 0;
  bool bias = true;
};

template <Backend B>
class Conv2d {
 public:
  using backend = B;

  Conv2d(int in_channels, int out_channels, int kernel_size, Rng& rng, Conv2dOptions options = {})
      : options_(options), kernel_(kernel_size) {
    require(in_channels >= 1 && out_channels >= 1 && kernel_size >= 1,
            "Conv2d: channels and kernel_size must be >= 1, got in = ", in_channels,
            ", out = ", out_channels, ", kernel_size = ", kernel_size);
    require(options.stride >= 1 && options.padding >= 0,
            "Conv2d: stride must be >= 1 and padding >= 0, got stride = ", options.stride,
            ", padding = ", options.padding);
    const int fan_in = in_channels * kernel_size * kernel_size;
    weight_ = uniform_tensor<B>({out_channels, in_channels, kernel_size, kernel_size},
                                fan_in_bound(fan_in), rng);
    weight_grad_ = Tensor<B>(weight_.shape());
    if (options.bias) {
      bias_ = uniform_tensor<B>({out_channels}, fan_in_bound(fan_in), rng);
      bias_grad_ = Tensor<B>({out_channels});
    }
  }

  Tensor<B> forward(const Tensor<B>& x, Mode mode) {
    require(x.rank() == 4 && x.dim(1) == in_channels(), "Conv2d: input has shape ", x.shape(),
            ", expected [batch, ", in_channels(), ", height, width]");
    const ConvGeometry g = geometry(x);
    require(g.out_h() >= 1 && g.out_w() >= 1, "Conv2d: input ", x.shape(), " is smaller than the ",
            kernel_, "x", kernel_, " kernel with padding ", options_.padding);
    input_ = keeps_activations(mode) ? x : Tensor<B>();
    Tensor<B> y = Tensor<B>::uninitialized({x.dim(0), out_channels(), g.out_h(), g.out_w()});
    B::conv2d_forward(call(x, g), y.data());
    if (has_bias())
      B::add_channel_bias(y.data(), x.dim(0), out_channels(), g.out_h() * g.out_w(), bias_.data());
    return y;
  }

  Tensor<B> backward(const Tensor<B>& dy) {
    Tensor<B> dx = Tensor<B>::uninitialized(input_.shape());
    accumulate_gradients(dy, dx.data());
    return dx;
  }

  // The parameters' gradients alone, for a layer whose input needs none (a network's first,
  // on the images): backward without dx's GEMM and its column buffer.
  void backward_parameters(const Tensor<B>& dy) { accumulate_gradients(dy, nullptr); }

  void collect_state(const std::string& prefix, State<B>& out) {
    out.push_back({join_name(prefix, "weight"), &weight_, &weight_grad_, ParameterKind::weight});
    if (has_bias())
      out.push_back({join_name(prefix, "bias"), &bias_, &bias_grad_, ParameterKind::bias});
  }

  int in_channels() const { return weight_.dim(1); }
  int out_channels() const { return weight_.dim(0); }
  int kernel_size() const { return kernel_; }
  const Conv2dOptions& options() const { return options_; }
  bool has_bias() const { return !bias_.empty(); }

 private:
  // Adds dy's weight (and bias) gradients; writes dx, [batch, in, h, w], where it is not null.
  void accumulate_gradients(const Tensor<B>& dy, float* dx) {
    const Tensor<B> input = std::exchange(input_, Tensor<B>());
    require(!input.empty(),
            "Conv2d::backward: call forward in train or eval mode before each backward");
    const ConvGeometry g = geometry(input);
    const int batch = input.dim(0), positions = g.out_h() * g.out_w();
    require(dy.shape() == Shape{batch, out_channels(), g.out_h(), g.out_w()},
            "Conv2d::backward: dy has shape ", dy.shape(), ", expected [", batch, ", ",
            out_channels(), ", ", g.out_h(), ", ", g.out_w(), "]");
    if (has_bias())
      B::channel_sums(dy.data(), batch, out_channels(), positions, bias_grad_.data(), 1.0f);
    B::conv2d_backward(call(input, g), dy.data(), weight_grad_.data(), dx);
  }

  ConvGeometry geometry(const Tensor<B>& x) const {
    return {x.dim(1),         x.dim(2),         x.dim(3),        kernel_,        kernel_,
            options_.padding, options_.padding, options_.stride, options_.stride};
  }
  Conv2dCall call(const Tensor<B>& x, const ConvGeometry& g) const {
    return {g, x.dim(0), out_channels(), x.data(), weight_.data()};
  }

  Conv2dOptions options_;
  int kernel_;
  Tensor<B> weight_, weight_grad_;  // [out, in, k, k]
  Tensor<B> bias_, bias_grad_;      // [out], or empty
  Tensor<B> input_;                 // kept for backward
};

}  // namespace clr::nn
