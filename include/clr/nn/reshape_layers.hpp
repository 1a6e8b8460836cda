// Layers that only change how a tensor is viewed: Identity and Flatten ([n, ...] -> [n, rest]).
#pragma once

#include "clr/nn/layer.hpp"

namespace clr::nn {

template <Backend B>
class Identity {
 public:
  using backend = B;
  Tensor<B> forward(const Tensor<B>& x, Mode) { return x; }
  Tensor<B> backward(const Tensor<B>& dy) { return dy; }
  void collect_state(const std::string&, State<B>&) {}
};

template <Backend B>
class Flatten {
 public:
  using backend = B;

  Tensor<B> forward(const Tensor<B>& x, Mode) {
    input_shape_ = x.shape();
    return x.reshape({x.dim(0), static_cast<int>(x.shape().row_size())});
  }
  Tensor<B> backward(const Tensor<B>& dy) { return dy.reshape(input_shape_); }
  void collect_state(const std::string&, State<B>&) {}

 private:
  Shape input_shape_;
};

}  // namespace clr::nn
