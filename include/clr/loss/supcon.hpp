// SupCon: the supervised contrastive loss of Khosla et al. (2020), with SimCLR's NT-Xent
// as its self-supervised case, exactly as SupContrast's SupConLoss computes it.
//
//   features [bsz, n_views, dim], rows L2-normalised by the caller
//   anchors   every view (contrast mode all) or view 0 (one); contrast = every view
//   positives same label, mask[i][j] != 0, or (no labels) the other views of the sample
//   loss      -(T / base_T) * mean over anchors of the mean log-probability of positives
//
// forward() computes the value and the gradient without ever holding the similarity
// matrix: contrast mode all takes the symmetric pass (symmetric_pass.hpp), mode one the
// tiled pass (contrastive_pass.hpp); backward() returns the gradient.
#pragma once

#include <cmath>
#include <cstdint>
#include <span>
#include <vector>

#include "clr/core/error.hpp"
#include "clr/core/ops.hpp"
#include "clr/core/tensor.hpp"
#include "clr/loss/contrastive_pass.hpp"
#include "clr/loss/policies.hpp"
#include "clr/loss/symmetric_pass.hpp"

namespace clr::loss {

struct SupConOptions {
  float temperature = 0.07f;
  float base_temperature = 0.07f;
  ContrastMode contrast_mode = ContrastMode::all;
  // SupContrast (PR #142) keeps anchors without positives in the mean with a 0 term;
  // true leaves them out of the mean.
  bool skip_anchors_without_positives = false;
  int tile_rows = 0;  // rows per tile (block) of the similarity matrix; 0: automatic
};

template <Backend B, SupervisionPolicy Supervision = AnySupervision,
          ContrastPolicy Contrast = ContrastFromOptions, ViewPolicy ViewCount = DynamicViews>
class SupCon {
 public:
  explicit SupCon(SupConOptions options = {}) : options_(options) {
    require(std::isfinite(options.temperature) && options.temperature > 0.0f,
            "SupCon: temperature must be a finite number > 0, got ", options.temperature);
    require(std::isfinite(options.base_temperature) && options.base_temperature > 0.0f,
            "SupCon: base_temperature must be a finite number > 0, got ", options.base_temperature);
    require(options.tile_rows >= 0, "SupCon: tile_rows must be >= 0 (0: automatic), got ",
            options.tile_rows);
    require(!Contrast::kMode || *Contrast::kMode == options.contrast_mode,
            "SupCon: contrast_mode option contradicts the loss's contrast policy");
  }

  // SimCLR: the positives of an anchor are the other views of its sample.
  float forward(const Tensor<B>& features) requires(Supervision::kNone) {
    const Layout layout = check_features(features, "forward");
    std::vector<int> groups(layout.n_contrast);
    for (int row = 0; row < layout.n_contrast; ++row) groups[row] = row / layout.views;
    return run(features, layout, groups, nullptr);
  }

  // SupCon: positives share the anchor's label. labels: [bsz].
  float forward(const Tensor<B>& features,
                std::span<const int> labels) requires(Supervision::kLabels) {
    const Layout layout = check_features(features, "forward");
    require(static_cast<int>(labels.size()) == layout.bsz, "SupCon::forward: labels has ",
            labels.size(), " entries, expected bsz = ", layout.bsz, " (features ", features.shape(),
            ")");
    std::vector<int> groups(layout.n_contrast);
    for (int row = 0; row < layout.n_contrast; ++row) groups[row] = labels[row / layout.views];
    return run(features, layout, groups, nullptr);
  }

  // Positives given by mask [bsz, bsz]: mask[i][j] = 1 if sample j is a positive of
  // sample i; may be asymmetric, and any weight is taken as SupContrast takes it.
  float forward_mask(const Tensor<B>& features,
                     const Tensor<B>& mask) requires(Supervision::kMask) {
    const Layout layout = check_features(features, "forward_mask");
    require(mask.shape() == Shape{layout.bsz, layout.bsz}, "SupCon::forward_mask: mask has shape ",
            mask.shape(), ", expected [bsz, bsz] = [", layout.bsz, ", ", layout.bsz, "]");
    return run(features, layout, {}, mask.data());
  }

  // dLoss/dfeatures of the last forward, [bsz, n_views, dim].
  Tensor<B> backward() const {
    require(!gradient_.empty(), "SupCon::backward: call forward first");
    return gradient_;
  }

  // Anchors of the last forward whose positive set was empty.
  int anchors_without_positives() const { return anchors_without_positives_; }
  const SupConOptions& options() const { return options_; }

 private:
  struct Layout {
    int bsz, views, dim, n_contrast;
  };

  Layout check_features(const Tensor<B>& features, const char* method) const {
    require(features.rank() == 3, "SupCon::", method,
            ": features must be [bsz, n_views, dim] (rank 3), got shape ", features.shape());
    const Layout layout{features.dim(0), features.dim(1), features.dim(2),
                        features.dim(0) * features.dim(1)};
    require(layout.bsz >= 1 && layout.views >= 1 && layout.dim >= 1, "SupCon::", method,
            ": features must have bsz, n_views and dim >= 1, got shape ", features.shape());
    require(ViewCount::kCount == 0 || layout.views == ViewCount::kCount, "SupCon::", method,
            ": features has ", layout.views, " views, the loss was built for Views<",
            ViewCount::kCount, ">");
    require(layout.n_contrast >= 2, "SupCon::", method,
            ": need at least two feature rows to contrast, got shape ", features.shape());
    return layout;
  }

  float run(const Tensor<B>& features, const Layout& layout, std::span<const int> groups,
            const float* mask) {
    gradient_ = Tensor<B>(features.shape());
    // Rows are sample-major (row = sample * views + view), one contrast row each.
    const ConstMatrixRef contrast{features.data(), layout.n_contrast, layout.dim, layout.dim,
                                  false};
    const MatrixRef contrast_grad{gradient_.data(), layout.n_contrast, layout.dim, layout.dim};
    const detail::RowResults rows =
        options_.contrast_mode == ContrastMode::all
            ? run_symmetric(contrast, contrast_grad, layout, groups, mask)
            : run_view_zero(contrast, contrast_grad, layout, groups, mask);
    const std::vector<float>& mean_log_prob_pos = rows.mean_log_prob_pos;
    const std::vector<float>& positives = rows.positives;
    const int n_anchors = static_cast<int>(positives.size());
    double total = 0.0;
    int without = 0;
    for (int anchor = 0; anchor < n_anchors; ++anchor) {
      total += mean_log_prob_pos[anchor];
      without += positives[anchor] < 1e-6f;
    }
    anchors_without_positives_ = without;
    const int counted = options_.skip_anchors_without_positives ? n_anchors - without : n_anchors;
    const double scale = static_cast<double>(options_.temperature) / options_.base_temperature;
    const double loss = counted > 0 ? -scale * total / counted : 0.0;
    require(std::isfinite(loss), "SupCon: the loss is not finite (", loss,
            "); features must be finite and L2-normalised");
    ops::scale(gradient_, counted > 0 ? static_cast<float>(scale / counted) : 0.0f);
    return static_cast<float>(loss);
  }

  // Contrast mode all: every row is an anchor, and S is symmetric.
  detail::RowResults run_symmetric(ConstMatrixRef contrast, MatrixRef contrast_grad,
                                   const Layout& layout, std::span<const int> groups,
                                   const float* mask) {
    detail::SymmetricProblem problem;
    problem.features = contrast;
    problem.features_grad = contrast_grad;
    problem.views = layout.views;
    problem.bsz = layout.bsz;
    problem.groups = groups;
    problem.mask = mask;
    problem.temperature = options_.temperature;
    problem.block_rows = options_.tile_rows;
    return symmetric_pass_.run(problem);
  }

  // Contrast mode one: the anchors are view 0 of every sample, every views-th row: a
  // strided view of the same memory, gradients landing in the same buffer.
  detail::RowResults run_view_zero(ConstMatrixRef contrast, MatrixRef contrast_grad,
                                   const Layout& layout, std::span<const int> groups,
                                   const float* mask) {
    const int stride = layout.views * layout.dim;
    detail::PassProblem problem;
    problem.contrast = contrast;
    problem.contrast_grad = contrast_grad;
    problem.anchors = {contrast.data, layout.bsz, layout.dim, stride, false};
    problem.anchors_grad = {contrast_grad.data, layout.bsz, layout.dim, stride};
    problem.anchor_stride = layout.views;
    problem.views = layout.views;
    problem.bsz = layout.bsz;
    problem.groups = groups;
    problem.mask = mask;
    problem.temperature = options_.temperature;
    problem.tile_rows = options_.tile_rows;
    return tiled_pass_.run(problem);
  }

  SupConOptions options_;
  detail::SymmetricContrastivePass<B> symmetric_pass_;
  detail::ContrastivePass<B> tiled_pass_;
  Tensor<B> gradient_;
  int anchors_without_positives_ = 0;
};

// SimCLR's NT-Xent as SupContrast computes it: SupCon without labels.
template <Backend B, ContrastPolicy Contrast = ContrastFromOptions,
          ViewPolicy ViewCount = DynamicViews>
using SimCLR = SupCon<B, SelfSupervised, Contrast, ViewCount>;

}  // namespace clr::loss
