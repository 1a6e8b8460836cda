// The tiled pass over the similarity matrix that every contrastive loss here runs.
//
// For each tile of anchor rows A_t: S = A_t C^T / T (GEMM 1), the fused row kernel turns
// S into G = dL/dS in place (clr/backend/contrastive_rows.hpp), then dA_t += G C / T
// (GEMM 2) and dC += G^T A_t / T (GEMM 3). A tile spans every contrast column, so the
// row statistics are complete and nothing is recomputed; only [tile, n_contrast] extra
// floats are live, never the whole similarity matrix.
#pragma once

#include <algorithm>
#include <cstdint>
#include <span>
#include <vector>

#include "clr/backend/contrastive_rows.hpp"
#include "clr/core/buffer.hpp"
#include "clr/core/ops.hpp"
#include "clr/core/tensor.hpp"

namespace clr::loss::detail {

struct PassProblem {
  ConstMatrixRef anchors;   // [n_anchors, dim]; rows may be strided (contrast mode `one`)
  ConstMatrixRef contrast;  // [n_contrast, dim]
  MatrixRef anchors_grad;   // layout of anchors; accumulated into
  MatrixRef contrast_grad;  // layout of contrast; accumulated into (may be the same memory)
  int self_offset = 0;      // anchor a's own contrast row is self_offset + a * anchor_stride
  int anchor_stride = 1;
  int views = 1;                          // contrast row r belongs to sample r / views
  int bsz = 0;                            // samples in the contrast set
  std::span<const int> groups;            // host, [n_contrast]: positive iff same group
  const float* mask = nullptr;            // backend, [bsz, bsz]: used instead of groups
  const float* sample_weights = nullptr;  // backend, [bsz] or null
  float temperature = 1.0f;
  int tile_rows = 0;  // 0: automatic
};

// Rows per tile. At least 256: the last GEMM's inner dimension is the tile's row count,
// and at 64 rows the pass ran at half the GFLOP/s (bsz 16384: 12.3 s against 7.3 s).
// Up to 1024 while the tile stays within 8 MiB, near the last-level cache (at
// n_contrast 8192, 256 rows ran 13% faster than 1024). Even, so tiles start on a sample
// boundary when there are two views. Extra memory: 256 x n_contrast floats.
inline int choose_tile_rows(int n_anchors, int n_contrast, int requested) {
  constexpr std::int64_t kTileBytes = std::int64_t{8} << 20;
  int rows = requested;
  if (rows <= 0) {
    const std::int64_t fit = kTileBytes / (std::int64_t{4} * std::max(n_contrast, 1));
    rows = static_cast<int>(std::clamp<std::int64_t>(fit, 256, 1024)) / 16 * 16;
  }
  return std::max(1, std::min(rows, n_anchors));
}

// Per anchor after a pass: the mean log-probability of its positives, and p.
struct RowResults {
  std::vector<float> mean_log_prob_pos;
  std::vector<float> positives;
};

template <Backend B>
class ContrastivePass {
 public:
  // Runs the pass; on_logits(MatrixRef logits, int first_anchor) sees each tile's
  // logits before the row kernel overwrites them (NT-Xent's metrics read them there).
  template <class OnLogits>
  RowResults run(const PassProblem& problem, OnLogits&& on_logits) {
    const int n_anchors = problem.anchors.rows;
    const int n_contrast = problem.contrast.rows;
    const int tile_rows = choose_tile_rows(n_anchors, n_contrast, problem.tile_rows);
    if (tile_.numel() < std::int64_t{tile_rows} * n_contrast)
      tile_ = Tensor<B>::uninitialized({tile_rows, n_contrast});
    mean_log_prob_pos_.ensure_size(n_anchors);
    positives_.ensure_size(n_anchors);
    if (!problem.mask) group_ = Buffer<B, int>::from(problem.groups);

    ContrastiveRows kernel;
    kernel.cols = n_contrast;
    kernel.ld = n_contrast;
    kernel.self_offset = problem.self_offset;
    kernel.anchor_stride = problem.anchor_stride;
    kernel.views = problem.views;
    kernel.bsz = problem.bsz;
    kernel.group = problem.mask ? nullptr : group_.data();
    kernel.mask = problem.mask;
    kernel.sample_weights = problem.sample_weights;
    kernel.mean_log_prob_pos = mean_log_prob_pos_.data();
    kernel.positives = positives_.data();

    const float inverse_t = 1.0f / problem.temperature;
    for (int first = 0; first < n_anchors; first += tile_rows) {
      const int rows = std::min(tile_rows, n_anchors - first);
      const MatrixRef logits{tile_.data(), rows, n_contrast, n_contrast};
      const ConstMatrixRef anchors = middle_rows(problem.anchors, first, rows);
      ops::gemm<B>(anchors, problem.contrast.t(), logits, inverse_t);
      on_logits(logits, first);
      kernel.logits = logits.data;
      kernel.rows = rows;
      kernel.first_anchor = first;
      B::contrastive_rows(kernel);
      ops::gemm<B>(logits, problem.contrast, problem.anchors_grad.middle_rows(first, rows),
                   inverse_t, 1.0f);
      ops::gemm<B>(logits.t(), anchors, problem.contrast_grad, inverse_t, 1.0f);
    }
    return {head(mean_log_prob_pos_, n_anchors), head(positives_, n_anchors)};
  }

  RowResults run(const PassProblem& problem) {
    return run(problem, [](MatrixRef, int) {});
  }

 private:
  static std::vector<float> head(const Buffer<B, float>& buffer, int n) {
    std::vector<float> values = buffer.to_vector();
    values.resize(n);
    return values;
  }

  Tensor<B> tile_;  // [tile_rows, n_contrast], reused across calls
  Buffer<B, int> group_;
  Buffer<B, float> mean_log_prob_pos_;
  Buffer<B, float> positives_;
};

}  // namespace clr::loss::detail
