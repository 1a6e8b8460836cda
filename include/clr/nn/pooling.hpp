// Pooling over NCHW images: MaxPool2d (the ImageNet stem's 3x3 stride-2 pool) and
// GlobalAvgPool ([n, c, h, w] -> [n, c], the end of every ResNet encoder).
#pragma once

#include "clr/core/buffer.hpp"
#include "clr/core/error.hpp"
#include "clr/core/ops.hpp"
#include "clr/nn/layer.hpp"

namespace clr::nn {

template <Backend B>
class MaxPool2d {
 public:
  using backend = B;

  MaxPool2d(int kernel_size, int stride, int padding = 0)
      : kernel_(kernel_size), stride_(stride), padding_(padding) {
    require(kernel_size >= 1 && stride >= 1 && padding >= 0 && 2 * padding <= kernel_size,
            "MaxPool2d: need kernel_size >= 1, stride >= 1, 0 <= padding <= kernel_size / 2; got ",
            kernel_size, ", ", stride, ", ", padding);
  }

  Tensor<B> forward(const Tensor<B>& x, Mode) {
    require(x.rank() == 4, "MaxPool2d: input must be [batch, channels, height, width], got shape ",
            x.shape());
    const int out_h = (x.dim(2) + 2 * padding_ - kernel_) / stride_ + 1;
    const int out_w = (x.dim(3) + 2 * padding_ - kernel_) / stride_ + 1;
    require(out_h >= 1 && out_w >= 1, "MaxPool2d: input ", x.shape(),
            " is smaller than the window");
    input_shape_ = x.shape();
    Tensor<B> y = Tensor<B>::uninitialized({x.dim(0), x.dim(1), out_h, out_w});
    argmax_.ensure_size(y.numel());
    B::max_pool(x.data(), x.dim(0) * x.dim(1), x.dim(2), x.dim(3), kernel_, stride_, padding_,
                y.data(), argmax_.data());
    output_shape_ = y.shape();
    return y;
  }

  Tensor<B> backward(const Tensor<B>& dy) {
    require(dy.shape() == output_shape_, "MaxPool2d::backward: dy has shape ", dy.shape(),
            ", expected ", output_shape_);
    Tensor<B> dx(input_shape_);
    B::max_pool_backward(dy.data(), argmax_.data(), dy.dim(0) * dy.dim(1),
                         input_shape_[2] * input_shape_[3], dy.dim(2) * dy.dim(3), dx.data());
    return dx;
  }

  void collect_state(const std::string&, State<B>&) {}

 private:
  int kernel_, stride_, padding_;
  Shape input_shape_, output_shape_;
  Buffer<B, int> argmax_;  // winning input index within its plane, per output
};

template <Backend B>
class GlobalAvgPool {
 public:
  using backend = B;

  Tensor<B> forward(const Tensor<B>& x, Mode) {
    require(x.rank() == 4,
            "GlobalAvgPool: input must be [batch, channels, height, width], got shape ", x.shape());
    input_shape_ = x.shape();
    Tensor<B> y = Tensor<B>::uninitialized({x.dim(0), x.dim(1)});
    B::plane_means(x.data(), x.dim(0) * x.dim(1), x.dim(2) * x.dim(3), y.data());
    return y;
  }

  Tensor<B> backward(const Tensor<B>& dy) {
    require(dy.shape() == Shape{input_shape_[0], input_shape_[1]},
            "GlobalAvgPool::backward: dy has shape ", dy.shape(), ", expected [", input_shape_[0],
            ", ", input_shape_[1], "]");
    Tensor<B> dx = Tensor<B>::uninitialized(input_shape_);
    B::plane_means_backward(dy.data(), dy.numel(), input_shape_[2] * input_shape_[3], dx.data());
    return dx;
  }

  void collect_state(const std::string&, State<B>&) {}

 private:
  Shape input_shape_;
};

}  // namespace clr::nn
