// The residual blocks of ResNet (He et al. 2016) as SupContrast's resnet_big.py writes
// them, with its state_dict names:
//   BasicBlock  relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)), 3x3 convs, expansion 1
//   Bottleneck  1x1 -> 3x3 (stride) -> 1x1 (4 planes), expansion 4
// The shortcut is the identity, or conv1x1(stride) + BN when the shape changes
// (keys shortcut.0.weight, shortcut.1.*).
#pragma once

#include <optional>
#include <string>

#include "clr/core/ops.hpp"
#include "clr/core/rng.hpp"
#include "clr/nn/batch_norm.hpp"
#include "clr/nn/conv2d.hpp"
#include "clr/nn/layer.hpp"
#include "clr/nn/relu.hpp"

namespace clr::nn {

// Identity, or the projection conv1x1 + BN: which one is decided by the numbers (stride,
// channels), so it is a runtime choice inside one type.
template <Backend B>
class Shortcut {
 public:
  using backend = B;

  Shortcut(int in_planes, int out_planes, int stride, Rng& rng) {
    if (stride != 1 || in_planes != out_planes)
      projection_.emplace(
          Conv2d<B>(in_planes, out_planes, 1, rng, {.stride = stride, .bias = false}),
          BatchNorm2d<B>(out_planes));
  }

  Tensor<B> forward(const Tensor<B>& x, Mode mode) {
    if (!projection_) return x;
    return projection_->second.forward(projection_->first.forward(x, mode), mode);
  }
  Tensor<B> backward(const Tensor<B>& dy) {
    if (!projection_) return dy;
    return projection_->first.backward(projection_->second.backward(dy));
  }
  void collect_state(const std::string& prefix, State<B>& out) {
    if (!projection_) return;
    projection_->first.collect_state(join_name(prefix, "0"), out);
    projection_->second.collect_state(join_name(prefix, "1"), out);
  }
  bool is_projection() const { return projection_.has_value(); }

 private:
  std::optional<std::pair<Conv2d<B>, BatchNorm2d<B>>> projection_;
};

template <Backend B>
class BasicBlock {
 public:
  using backend = B;
  static constexpr int kExpansion = 1;

  BasicBlock(int in_planes, int planes, int stride, Rng& rng)
      : conv1_(in_planes, planes, 3, rng, {.stride = stride, .padding = 1, .bias = false}),
        bn1_(planes, {.relu = true}),
        conv2_(planes, planes, 3, rng, {.stride = 1, .padding = 1, .bias = false}),
        bn2_(planes),
        shortcut_(in_planes, planes * kExpansion, stride, rng) {}

  Tensor<B> forward(const Tensor<B>& x, Mode mode) {
    const Tensor<B> h = bn1_.forward(conv1_.forward(x, mode), mode);
    return relu_out_.keep_output(
        bn2_.forward_add_relu(conv2_.forward(h, mode), shortcut_.forward(x, mode), mode), mode);
  }

  Tensor<B> backward(const Tensor<B>& dy) {
    const Tensor<B> d = relu_out_.backward(dy);
    Tensor<B> dx = conv1_.backward(bn1_.backward(conv2_.backward(bn2_.backward(d))));
    ops::axpy(dx, shortcut_.backward(d), 1.0f);
    return dx;
  }

  void collect_state(const std::string& prefix, State<B>& out) {
    conv1_.collect_state(join_name(prefix, "conv1"), out);
    bn1_.collect_state(join_name(prefix, "bn1"), out);
    conv2_.collect_state(join_name(prefix, "conv2"), out);
    bn2_.collect_state(join_name(prefix, "bn2"), out);
    shortcut_.collect_state(join_name(prefix, "shortcut"), out);
  }

 private:
  Conv2d<B> conv1_;
  BatchNorm2d<B> bn1_;  // with its ReLU
  Conv2d<B> conv2_;
  BatchNorm2d<B> bn2_;  // with the sum and the ReLU after it (forward_add_relu)
  Shortcut<B> shortcut_;
  ReLU<B> relu_out_;  // of the sum: keeps it for backward's mask
};

template <Backend B>
class Bottleneck {
 public:
  using backend = B;
  static constexpr int kExpansion = 4;

  Bottleneck(int in_planes, int planes, int stride, Rng& rng)
      : conv1_(in_planes, planes, 1, rng, {.bias = false}),
        bn1_(planes, {.relu = true}),
        conv2_(planes, planes, 3, rng, {.stride = stride, .padding = 1, .bias = false}),
        bn2_(planes, {.relu = true}),
        conv3_(planes, planes * kExpansion, 1, rng, {.bias = false}),
        bn3_(planes * kExpansion),
        shortcut_(in_planes, planes * kExpansion, stride, rng) {}

  Tensor<B> forward(const Tensor<B>& x, Mode mode) {
    Tensor<B> h = bn1_.forward(conv1_.forward(x, mode), mode);
    h = bn2_.forward(conv2_.forward(h, mode), mode);
    return relu_out_.keep_output(
        bn3_.forward_add_relu(conv3_.forward(h, mode), shortcut_.forward(x, mode), mode), mode);
  }

  Tensor<B> backward(const Tensor<B>& dy) {
    const Tensor<B> d = relu_out_.backward(dy);
    const Tensor<B> h = conv3_.backward(bn3_.backward(d));
    Tensor<B> dx = conv1_.backward(bn1_.backward(conv2_.backward(bn2_.backward(h))));
    ops::axpy(dx, shortcut_.backward(d), 1.0f);
    return dx;
  }

  void collect_state(const std::string& prefix, State<B>& out) {
    conv1_.collect_state(join_name(prefix, "conv1"), out);
    bn1_.collect_state(join_name(prefix, "bn1"), out);
    conv2_.collect_state(join_name(prefix, "conv2"), out);
    bn2_.collect_state(join_name(prefix, "bn2"), out);
    conv3_.collect_state(join_name(prefix, "conv3"), out);
    bn3_.collect_state(join_name(prefix, "bn3"), out);
    shortcut_.collect_state(join_name(prefix, "shortcut"), out);
  }

 private:
  Conv2d<B> conv1_;
  BatchNorm2d<B> bn1_;  // with its ReLU
  Conv2d<B> conv2_;
  BatchNorm2d<B> bn2_;  // with its ReLU
  Conv2d<B> conv3_;
  BatchNorm2d<B> bn3_;  // with the sum and the ReLU after it (forward_add_relu)
  Shortcut<B> shortcut_;
  ReLU<B> relu_out_;  // of the sum: keeps it for backward's mask
};

}  // namespace clr::nn
