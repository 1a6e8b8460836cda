// Projection heads (the g(.) of SimCLR) and the models built from them, with SupContrast's
// state_dict names:
//   LinearHead  Linear(dim -> out)                                  ('linear': head.weight)
//   MLPHead     Linear(dim -> dim), ReLU, Linear(dim -> out)        ('mlp': head.0, head.2)
//   BNMLPHead   SimCLR v2: (Linear without bias, BN, ReLU) x (layers - 1), then Linear
//               without bias and BN with center = false
//   SupConModel encoder + head + L2Normalize                        (encoder.*, head.*)
//   SupCEModel  encoder + Linear(feature_dim -> classes)             (encoder.*, fc.*)
//   LinearClassifier  Linear(feature_dim -> classes)                (fc.weight, fc.bias)
#pragma once

#include <string>
#include <vector>

#include "clr/core/error.hpp"
#include "clr/core/rng.hpp"
#include "clr/nn/batch_norm.hpp"
#include "clr/nn/l2_normalize.hpp"
#include "clr/nn/layer.hpp"
#include "clr/nn/linear.hpp"
#include "clr/nn/relu.hpp"
#include "clr/nn/sequential.hpp"

namespace clr::nn {

template <Backend B>
struct LinearHead : Linear<B> {
  LinearHead(int dim, int out, Rng& rng) : Linear<B>(dim, out, rng) {}
};

template <Backend B>
struct MLPHead : Sequential<Linear<B>, ReLU<B>, Linear<B>> {
  MLPHead(int dim, int out, Rng& rng)
      : Sequential<Linear<B>, ReLU<B>, Linear<B>>(Linear<B>(dim, dim, rng), ReLU<B>(),
                                                  Linear<B>(dim, out, rng)) {}
};

template <Backend B>
class BNMLPHead {
 public:
  using backend = B;

  // layers >= 1 linear layers: dim -> hidden -> ... -> hidden -> out.
  BNMLPHead(int dim, int hidden, int out, int layers, Rng& rng) {
    require(layers >= 1, "BNMLPHead: layers must be >= 1, got ", layers);
    for (int j = 0; j < layers; ++j) {
      const bool last = j == layers - 1;
      const int in = j == 0 ? dim : hidden;
      // Every BN but the last with its ReLU, fused; the last without beta.
      stages_.push_back({Linear<B>(in, last ? out : hidden, rng, /*bias=*/false),
                         BatchNorm1d<B>(last ? out : hidden, {.center = !last, .relu = !last})});
    }
  }

  Tensor<B> forward(const Tensor<B>& x, Mode mode) {
    Tensor<B> h = x;
    for (auto& stage : stages_) h = stage.bn.forward(stage.linear.forward(h, mode), mode);
    return h;
  }

  Tensor<B> backward(const Tensor<B>& dy) {
    Tensor<B> d = dy;
    for (auto stage = stages_.rbegin(); stage != stages_.rend(); ++stage)
      d = stage->linear.backward(stage->bn.backward(d));
    return d;
  }

  void collect_state(const std::string& prefix, State<B>& out) {
    for (std::size_t j = 0; j < stages_.size(); ++j) {
      const std::string name = join_name(prefix, std::to_string(j));
      stages_[j].linear.collect_state(join_name(name, "linear"), out);
      stages_[j].bn.collect_state(join_name(name, "bn"), out);
    }
  }

 private:
  struct Stage {
    Linear<B> linear;
    BatchNorm1d<B> bn;  // with its ReLU, but the last
  };
  std::vector<Stage> stages_;
};

// f(x) -> g(.) -> unit rows: what the contrastive loss takes. encode() stops at f(x), the
// representation that linear evaluation and kNN read.
template <Layer Encoder, Layer Head>
requires std::is_same_v<typename Encoder::backend, typename Head::backend>
class SupConModel {
 public:
  using backend = typename Encoder::backend;
  using B = backend;

  SupConModel(Encoder encoder, Head head) : encoder_(std::move(encoder)), head_(std::move(head)) {}

  Tensor<B> forward(const Tensor<B>& x, Mode mode) {
    return normalize_.forward(head_.forward(encoder_.forward(x, mode), mode), mode);
  }
  Tensor<B> backward(const Tensor<B>& dz) {
    return encoder_.backward(head_.backward(normalize_.backward(dz)));
  }
  Tensor<B> encode(const Tensor<B>& x, Mode mode) { return encoder_.forward(x, mode); }

  void collect_state(const std::string& prefix, State<B>& out) {
    encoder_.collect_state(join_name(prefix, "encoder"), out);
    head_.collect_state(join_name(prefix, "head"), out);
  }

  Encoder& encoder() { return encoder_; }
  Head& head() { return head_; }

 private:
  Encoder encoder_;
  Head head_;
  L2Normalize<B> normalize_;
};

// SupContrast's SupCEResNet, the supervised cross-entropy baseline: the encoder and a
// Linear(feature_dim -> classes) on its representation (encoder.*, fc.*).
template <Layer Encoder>
class SupCEModel {
 public:
  using backend = typename Encoder::backend;
  using B = backend;

  SupCEModel(Encoder encoder, int feature_dim, int classes, Rng& rng)
      : encoder_(std::move(encoder)), fc_(feature_dim, classes, rng) {}

  Tensor<B> forward(const Tensor<B>& x, Mode mode) {
    return fc_.forward(encoder_.forward(x, mode), mode);
  }
  Tensor<B> backward(const Tensor<B>& dlogits) { return encoder_.backward(fc_.backward(dlogits)); }
  Tensor<B> encode(const Tensor<B>& x, Mode mode) { return encoder_.forward(x, mode); }

  void collect_state(const std::string& prefix, State<B>& out) {
    encoder_.collect_state(join_name(prefix, "encoder"), out);
    fc_.collect_state(join_name(prefix, "fc"), out);
  }

  Encoder& encoder() { return encoder_; }

 private:
  Encoder encoder_;
  Linear<B> fc_;
};

template <Backend B>
class LinearClassifier {
 public:
  using backend = B;

  LinearClassifier(int feature_dim, int classes, Rng& rng) : fc_(feature_dim, classes, rng) {}

  Tensor<B> forward(const Tensor<B>& x, Mode mode) { return fc_.forward(x, mode); }
  Tensor<B> backward(const Tensor<B>& dy) { return fc_.backward(dy); }
  void collect_state(const std::string& prefix, State<B>& out) {
    fc_.collect_state(join_name(prefix, "fc"), out);
  }

 private:
  Linear<B> fc_;
};

}  // namespace clr::nn
