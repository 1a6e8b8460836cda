// L2Normalize: each row of x [n, dim] scaled to unit L2 norm (norm clamped at 1e-6), the
// last layer of a projection head: the contrastive losses take unit rows.
#pragma once

#include <utility>

#include "clr/core/error.hpp"
#include "clr/core/ops.hpp"
#include "clr/nn/layer.hpp"

namespace clr::nn {

template <Backend B>
class L2Normalize {
 public:
  using backend = B;

  Tensor<B> forward(const Tensor<B>& x, Mode mode) {
    require(x.rank() == 2, "L2Normalize: input must be [n, dim], got shape ", x.shape());
    Tensor<B> y = ops::l2_normalize_rows(x, norms_);
    output_ = keeps_activations(mode) ? y : Tensor<B>();
    return y;
  }

  Tensor<B> backward(const Tensor<B>& dy) {
    const Tensor<B> output = std::exchange(output_, Tensor<B>());
    require(!output.empty(),
            "L2Normalize::backward: call forward in train or eval mode before each backward");
    return ops::l2_normalize_rows_backward(output, dy, std::exchange(norms_, Tensor<B>()));
  }

  void collect_state(const std::string&, State<B>&) {}

 private:
  Tensor<B> output_;  // [n, dim]
  Tensor<B> norms_;   // [n]
};

}  // namespace clr::nn
