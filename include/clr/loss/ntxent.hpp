// NTXent: google-research/simclr's `add_contrastive_loss` (Chen et al. 2020, eq. 1).
//
//   hidden [bsz, 2, dim]; with hidden_norm the rows are L2-normalised inside the loss
//   loss_a = cross entropy of each view-a anchor against [logits_ab, logits_aa] (self
//            excluded), its positive the same sample's view b; loss_b likewise
//   value  = (sum_i w_i loss_a_i + sum_i w_i loss_b_i) / #(w_i != 0), which is
//            mean_i (loss_a_i + loss_b_i) without weights, as in simclr's tf2 objective.py
//
// Also returns simclr's metrics: contrastive accuracy (the argmax of each view-a anchor's
// logits_ab row is its positive) and the mean entropy of softmax(logits_ab).
#pragma once

#include <cmath>
#include <span>
#include <vector>

#include "clr/core/buffer.hpp"
#include "clr/core/error.hpp"
#include "clr/core/ops.hpp"
#include "clr/core/tensor.hpp"
#include "clr/loss/contrastive_pass.hpp"

namespace clr::loss {

struct NTXentOptions {
  float temperature = 0.1f;  // simclr's --temperature default
  bool hidden_norm = true;
  int tile_rows = 0;  // 0: automatic; rounded up to an even number
};

struct NTXentResult {
  float loss = 0.0f;
  float accuracy = 0.0f;  // contrastive accuracy over the view-a anchors
  float entropy = 0.0f;   // mean entropy of softmax(logits_ab)
};

template <Backend B>
class NTXent {
 public:
  explicit NTXent(NTXentOptions options = {}) : options_(options) {
    require(std::isfinite(options.temperature) && options.temperature > 0.0f,
            "NTXent: temperature must be a finite number > 0, got ", options.temperature);
    require(options.tile_rows >= 0, "NTXent: tile_rows must be >= 0 (0: automatic), got ",
            options.tile_rows);
  }

  // hidden: [bsz, 2, dim]; weights: empty, or one per sample.
  NTXentResult forward(const Tensor<B>& hidden, std::span<const float> weights = {}) {
    require(hidden.rank() == 3 && hidden.dim(1) == 2 && hidden.dim(0) >= 1 && hidden.dim(2) >= 1,
            "NTXent::forward: hidden must be [bsz, 2, dim], got shape ", hidden.shape());
    const int bsz = hidden.dim(0), dim = hidden.dim(2), n = 2 * bsz;
    require(weights.empty() || static_cast<int>(weights.size()) == bsz,
            "NTXent::forward: weights has ", weights.size(), " entries, expected bsz = ", bsz);
    int nonzero = bsz;
    if (!weights.empty()) {
      nonzero = 0;
      for (float w : weights) {
        require(std::isfinite(w), "NTXent::forward: weights must be finite, got ", w);
        nonzero += w != 0.0f;
      }
      weights_ = Buffer<B, float>::from(weights);
    }

    normalized_ = options_.hidden_norm ? ops::l2_normalize_rows(hidden.reshape({n, dim}), norms_)
                                       : hidden.reshape({n, dim});
    Tensor<B> grad({n, dim});
    std::vector<int> groups(n);
    for (int row = 0; row < n; ++row) groups[row] = row / 2;
    argmax_.ensure_size(bsz);
    entropy_.ensure_size(bsz);

    detail::PassProblem problem;
    problem.anchors = problem.contrast = normalized_.matrix();
    problem.anchors_grad = problem.contrast_grad = grad.matrix();
    problem.views = 2;
    problem.bsz = bsz;
    problem.groups = groups;
    problem.sample_weights = weights.empty() ? nullptr : weights_.data();
    problem.temperature = options_.temperature;
    problem.tile_rows = options_.tile_rows + options_.tile_rows % 2;
    // Tiles start on even rows, so a tile's view-a anchors are its even rows and logits_ab
    // are their odd columns.
    const detail::RowResults per_row = pass_.run(problem, [&](MatrixRef logits, int first_anchor) {
      B::softmax_stats_rows(logits.data + 1, (logits.rows + 1) / 2, bsz, 2 * logits.ld, 2,
                            argmax_.data() + first_anchor / 2, entropy_.data() + first_anchor / 2);
    });

    const std::vector<float>& mean_log_prob_pos = per_row.mean_log_prob_pos;
    double total = 0.0;
    for (int row = 0; row < n; ++row)
      total -= (weights.empty() ? 1.0 : weights[row / 2]) * mean_log_prob_pos[row];
    NTXentResult result;
    result.loss = nonzero > 0 ? static_cast<float>(total / nonzero) : 0.0f;
    require(std::isfinite(result.loss), "NTXent: the loss is not finite (", result.loss,
            "); hidden must be finite");
    ops::scale(grad, nonzero > 0 ? 1.0f / static_cast<float>(nonzero) : 0.0f);

    const std::vector<int> argmax = argmax_.to_vector();
    const std::vector<float> entropy = entropy_.to_vector();
    double correct = 0.0, entropy_sum = 0.0;
    for (int sample = 0; sample < bsz; ++sample) {
      correct += argmax[sample] == sample;
      entropy_sum += entropy[sample];
    }
    result.accuracy = static_cast<float>(correct / bsz);
    result.entropy = static_cast<float>(entropy_sum / bsz);

    gradient_ =
        (options_.hidden_norm ? ops::l2_normalize_rows_backward(normalized_, grad, norms_) : grad)
            .reshape(hidden.shape());
    return result;
  }

  // dLoss/dhidden of the last forward, [bsz, 2, dim].
  Tensor<B> backward() const {
    require(!gradient_.empty(), "NTXent::backward: call forward first");
    return gradient_;
  }

  const NTXentOptions& options() const { return options_; }

 private:
  NTXentOptions options_;
  detail::ContrastivePass<B> pass_;
  Tensor<B> normalized_;  // [n = 2 bsz, dim]
  Tensor<B> norms_;       // [2 bsz]
  Tensor<B> gradient_;
  Buffer<B, float> weights_;
  Buffer<B, int> argmax_;
  Buffer<B, float> entropy_;
};

}  // namespace clr::loss
