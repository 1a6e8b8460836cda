// ResNet-18/34/50 encoders as SupContrast's resnet_big.py builds them (state_dict names
// conv1, bn1, layer1.0.conv1, ...), ending in global average pooling: x [n, c, h, w] ->
// features [n, feature_dim()].
//
//   ResNet18<B, CifarStem>     3x3 conv, stride 1, no max-pool (SupContrast, CIFAR, 28-32 px)
//   ResNet50<B, ImageNetStem>  7x7 conv, stride 2, 3x3 max-pool (torchvision, 224 px)
// Numbers are constructor arguments: input channels (1 for Fashion-MNIST), a width
// multiplier (1: 64...512 channels; 0.25: 16...128).
//
// Fine-tuning (google-research/simclr's fine_tune_after_block): blocks 0 (the stem) to k
// (stages 1..k) can be frozen. A frozen part's parameters leave the trainable state (no
// gradient, so optimizers and zero_grad skip them; checkpoints keep them) and backward
// stops at its boundary, as simclr's stop_gradient. As there, a frozen part still runs in
// the caller's mode (train: BatchNorm uses and updates batch statistics) unless the whole
// encoder is frozen (k = 4, a linear head on top), where it runs in inference mode and
// its BatchNorm statistics stay as pretrained.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include "clr/core/error.hpp"
#include "clr/core/rng.hpp"
#include "clr/nn/batch_norm.hpp"
#include "clr/nn/conv2d.hpp"
#include "clr/nn/layer.hpp"
#include "clr/nn/pooling.hpp"
#include "clr/nn/relu.hpp"
#include "clr/nn/residual.hpp"

namespace clr::nn {

struct CifarStem {
  static constexpr int kKernel = 3, kStride = 1, kPadding = 1;
  static constexpr bool kMaxPool = false;
};
struct ImageNetStem {
  static constexpr int kKernel = 7, kStride = 2, kPadding = 3;
  static constexpr bool kMaxPool = true;
};

struct ResNetOptions {
  int in_channels = 3;
  float width = 1.0f;  // channels of the four stages: 64, 128, 256, 512 times this
  // backward returns dx, the gradient of the images; false skips it and returns an empty
  // tensor, as PyTorch does for an input without requires_grad (training needs none): the
  // stem's dx was 2–3% of the quarter-width CIFAR train step (bench_nn BM_supcon_step).
  bool input_gradient = true;
};

template <Backend B, class Block, class Stem>
class ResNet {
 public:
  using backend = B;

  ResNet(std::array<int, 4> blocks, Rng& rng, ResNetOptions options = {})
      : conv1_(check(options).in_channels, planes(0, options), Stem::kKernel, rng,
               {.stride = Stem::kStride, .padding = Stem::kPadding, .bias = false}),
        bn1_(planes(0, options), {.relu = true}),
        input_gradient_(options.input_gradient) {
    if constexpr (Stem::kMaxPool) max_pool_.emplace(3, 2, 1);
    int in_planes = planes(0, options);
    for (int stage = 0; stage < 4; ++stage) {
      for (int i = 0; i < blocks[stage]; ++i) {
        const int stride = (stage > 0 && i == 0) ? 2 : 1;
        stages_[stage].emplace_back(in_planes, planes(stage, options), stride, rng);
        in_planes = planes(stage, options) * Block::kExpansion;
      }
    }
    feature_dim_ = in_planes;
    kaiming_normal_fan_out(rng);
  }

  Tensor<B> forward(const Tensor<B>& x, Mode mode) {
    if (frozen_through_ == kAllBlocks && mode == Mode::train) mode = Mode::inference;
    Tensor<B> h = bn1_.forward(conv1_.forward(x, mode), mode);
    if (max_pool_) h = max_pool_->forward(h, mode);
    for (auto& stage : stages_)
      for (auto& block : stage) h = block.forward(h, mode);
    return pool_.forward(h, mode);
  }

  // dx, or an empty tensor when the stem is frozen (nothing below it to train) or the
  // options asked for no input gradient.
  Tensor<B> backward(const Tensor<B>& dy) {
    if (frozen_through_ == kAllBlocks) return {};
    Tensor<B> d = pool_.backward(dy);
    for (int stage = 3; stage >= std::max(frozen_through_, 0); --stage)
      for (auto block = stages_[stage].rbegin(); block != stages_[stage].rend(); ++block)
        d = block->backward(d);
    if (frozen_through_ >= 0) return {};
    if (max_pool_) d = max_pool_->backward(d);
    d = bn1_.backward(d);
    if (input_gradient_) return conv1_.backward(d);
    conv1_.backward_parameters(d);
    return {};
  }

  void collect_state(const std::string& prefix, State<B>& out) {
    const std::size_t first = out.size();
    conv1_.collect_state(join_name(prefix, "conv1"), out);
    bn1_.collect_state(join_name(prefix, "bn1"), out);
    if (frozen_through_ >= 0) drop_gradients(out, first);
    for (int stage = 0; stage < 4; ++stage) {
      const std::size_t stage_first = out.size();
      for (std::size_t i = 0; i < stages_[stage].size(); ++i)
        stages_[stage][i].collect_state(
            join_name(prefix, "layer" + std::to_string(stage + 1) + "." + std::to_string(i)), out);
      if (stage + 1 <= frozen_through_) drop_gradients(out, stage_first);
    }
  }

  // simclr's fine_tune_after_block: -1 trains every block; k in 0..4 freezes the stem
  // (block 0) and stages 1..k. Call before building the optimizer from parameters().
  void set_fine_tune_after_block(int k) {
    require(k >= -1 && k <= kAllBlocks, "ResNet: fine_tune_after_block must be in [-1, 4], got ",
            k);
    frozen_through_ = k;
  }
  int fine_tune_after_block() const { return frozen_through_; }

  // Width of the features: 512 (BasicBlock) or 2048 (Bottleneck) times the width multiplier.
  int feature_dim() const { return feature_dim_; }

 private:
  static const ResNetOptions& check(const ResNetOptions& options) {
    require(options.in_channels >= 1, "ResNet: in_channels must be >= 1, got ",
            options.in_channels);
    require(options.width > 0.0f && std::lround(64 * options.width) >= 1,
            "ResNet: width must give at least one channel, got ", options.width);
    return options;
  }
  static constexpr int kAllBlocks = 4;

  // Entries [first, end) become frozen: values still saved and loaded, never trained.
  static void drop_gradients(State<B>& entries, std::size_t first) {
    for (std::size_t i = first; i < entries.size(); ++i) entries[i].grad = nullptr;
  }

  static int planes(int stage, const ResNetOptions& options) {
    return static_cast<int>(std::lround((64 << stage) * options.width));
  }

  // resnet_big.py: kaiming_normal_(mode='fan_out', nonlinearity='relu') for every conv.
  void kaiming_normal_fan_out(Rng& rng) {
    State<B> entries;
    collect_state("", entries);
    for (auto& entry : entries) {
      if (entry.kind != ParameterKind::weight || entry.value->rank() != 4) continue;
      const Shape& s = entry.value->shape();
      const float std = std::sqrt(2.0f / static_cast<float>(s[0] * s[2] * s[3]));
      std::vector<float> values(s.numel());
      for (float& v : values) v = std * rng.normal();
      *entry.value = Tensor<B>::from(values, s);
    }
  }

  Conv2d<B> conv1_;
  BatchNorm2d<B> bn1_;  // with its ReLU
  std::optional<MaxPool2d<B>> max_pool_;
  std::array<std::vector<Block>, 4> stages_;
  GlobalAvgPool<B> pool_;
  int feature_dim_ = 0;
  int frozen_through_ = -1;  // fine_tune_after_block
  bool input_gradient_ = true;
};

template <Backend B, class Stem = CifarStem>
struct ResNet18 : ResNet<B, BasicBlock<B>, Stem> {
  explicit ResNet18(Rng& rng, ResNetOptions options = {})
      : ResNet<B, BasicBlock<B>, Stem>({2, 2, 2, 2}, rng, options) {}
};
template <Backend B, class Stem = CifarStem>
struct ResNet34 : ResNet<B, BasicBlock<B>, Stem> {
  explicit ResNet34(Rng& rng, ResNetOptions options = {})
      : ResNet<B, BasicBlock<B>, Stem>({3, 4, 6, 3}, rng, options) {}
};
template <Backend B, class Stem = CifarStem>
struct ResNet50 : ResNet<B, Bottleneck<B>, Stem> {
  explicit ResNet50(Rng& rng, ResNetOptions options = {})
      : ResNet<B, Bottleneck<B>, Stem>({3, 4, 6, 3}, rng, options) {}
};

}  // namespace clr::nn
