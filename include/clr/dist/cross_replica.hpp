// CrossReplica<Loss, Comm>: cross-replica negatives (google-research/simclr's
// tpu_cross_replica_concat, lightly's gather_distributed). Each rank's features
// [bsz, n_views, dim] (and labels [bsz]) are all-gathered, rank-major, into the global
// batch [world_size · bsz, n_views, dim]; the wrapped loss runs on it unchanged, so every
// anchor contrasts with every rank's samples, and N ranks × bsz is the same loss as one
// process × N·bsz.
//
// backward() is this rank's slice of the global gradient. simclr sums the gathered
// gradient over replicas because each replica's loss holds only its own anchors; here
// every rank computes the whole global loss (the same value everywhere), so its gradient
// with respect to the gathered features is already the sum of all anchors' terms, and the
// slice is exactly d(global loss)/d(this rank's features) — no communication. The cost is
// that each rank computes the whole global loss (cheap next to the encoder until bsz is in
// the thousands). The parameter gradients of the ranks then add up to the global batch's:
// kGlobalBatch tells DataParallel to all-reduce them with a sum, not a mean.
#pragma once

#include <cmath>
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "clr/core/error.hpp"
#include "clr/core/tensor.hpp"
#include "clr/dist/communicator.hpp"

namespace clr::dist {

template <class Loss, Communicator Comm>
class CrossReplica {
 public:
  using B = typename Comm::backend;
  static constexpr bool kGlobalBatch = true;

  CrossReplica(Loss loss, Comm& comm) : loss_(std::move(loss)), comm_(comm) {}

  // Self-supervised: positives are the other views of a sample, wherever it lives.
  float forward(const Tensor<B>& features) {
    gather(features, {});
    return loss_.forward(global_);
  }

  // Supervised: positives share a label across all ranks' samples. labels: [bsz].
  float forward(const Tensor<B>& features, std::span<const int> labels) {
    require(features.rank() == 3 && static_cast<int>(labels.size()) == features.dim(0),
            "CrossReplica::forward: features ", features.shape(), " and ", labels.size(),
            " labels, expected [bsz, n_views, dim] and bsz labels");
    gather(features, labels);
    return loss_.forward(global_, std::span<const int>(global_labels_));
  }

  // d(global loss)/d(this rank's features), [bsz, n_views, dim].
  Tensor<B> backward() const {
    const Tensor<B> all = loss_.backward();  // [world_size · bsz, n_views, dim]
    if (comm_.world_size() == 1) return all;
    Tensor<B> mine = Tensor<B>::uninitialized(local_shape_);
    const std::int64_t n = mine.numel();
    B::copy(mine.data(), all.data() + comm_.rank() * n, n * static_cast<std::int64_t>(sizeof(float)));
    return mine;
  }

  // The gathered batch of the last forward: [world_size · bsz, n_views, dim] and its labels.
  const Tensor<B>& global_features() const { return global_; }
  const std::vector<int>& global_labels() const { return global_labels_; }
  Loss& loss() { return loss_; }

 private:
  void gather(const Tensor<B>& features, std::span<const int> labels) {
    require(features.rank() == 3, "CrossReplica::forward: features must be [bsz, n_views, dim], "
            "got shape ", features.shape());
    local_shape_ = features.shape();
    const int world = comm_.world_size();
    if (world == 1) {
      global_ = features;
      global_labels_.assign(labels.begin(), labels.end());
      return;
    }
    // Every rank must bring the same shape (and labels, or none): checked on the gathered
    // shapes first, so that a mismatch is an error on every rank rather than a hang.
    const std::vector<float> mine{float(features.dim(0)), float(features.dim(1)),
                                  float(features.dim(2)), labels.empty() ? 0.0f : 1.0f};
    const std::vector<float> shapes = all_gather_host(comm_, mine);
    for (int r = 0; r < world; ++r)
      for (int k = 0; k < 4; ++k)
        require(shapes[r * 4 + k] == mine[k], "CrossReplica::forward: rank ", r,
                " has features [", shapes[r * 4], ", ", shapes[r * 4 + 1], ", ", shapes[r * 4 + 2],
                "]", shapes[r * 4 + 3] != 0 ? " with labels" : "", ", rank ", comm_.rank(),
                " has ", features.shape(), labels.empty() ? "" : " with labels",
                ": every rank needs the same batch");
    global_ = Tensor<B>::uninitialized({world * features.dim(0), features.dim(1), features.dim(2)});
    comm_.all_gather(features.data(), features.numel(), global_.data());
    global_labels_.clear();
    if (!labels.empty()) {
      // Labels travel as floats: exact for |label| < 2^24.
      const std::vector<float> as_float(labels.begin(), labels.end());
      for (float label : all_gather_host(comm_, as_float))
        global_labels_.push_back(static_cast<int>(std::lround(label)));
    }
  }

  Loss loss_;
  Comm& comm_;
  Shape local_shape_;
  Tensor<B> global_;                // [world_size · bsz, n_views, dim]
  std::vector<int> global_labels_;  // [world_size · bsz]
};

}  // namespace clr::dist
