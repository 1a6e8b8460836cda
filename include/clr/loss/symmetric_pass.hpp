// The symmetric pass: SupCon with contrast mode `all`, where anchors and contrasts are
// the same rows F and S = F F^T / T is symmetric.
//
// The loss gradient is dF = (G + G^T) F / T with G = dL/dS. Each block (I, J), J >= I,
// of S is formed twice by GEMM, never held beyond one block:
//   pass 1  S_IJ -> running row statistics (max, sum of exp, positives) of rows I and,
//           through S_IJ^T = S_JI, of rows J                      (contrastive_block_stats)
//   host    per row: log-sum-exp, mean log-probability of positives, alpha and beta
//   pass 2  S_IJ -> H_IJ = (G + G^T)_IJ in place                  (contrastive_block_gradient)
//           dF_I += H_IJ F_J / T and, off the diagonal, dF_J += H_IJ^T F_I / T
// That is 4 (n bsz)^2 dim flops of GEMM against the tiled pass's 6, for twice the exp
// evaluations: 1.3x faster at bsz 4096 on 2 cores.
#pragma once

#include <algorithm>
#include <cmath>
#include <limits>
#include <span>
#include <vector>

#include "clr/backend/contrastive_block.hpp"
#include "clr/core/buffer.hpp"
#include "clr/core/ops.hpp"
#include "clr/core/tensor.hpp"
#include "clr/loss/contrastive_pass.hpp"

namespace clr::loss::detail {

struct SymmetricProblem {
  ConstMatrixRef features;  // F [n, dim]
  MatrixRef features_grad;  // dF [n, dim]; accumulated into
  int views = 1;            // row r belongs to sample r / views
  int bsz = 0;
  std::span<const int> groups;  // host, [n]: positive iff same group
  const float* mask = nullptr;  // backend, [bsz, bsz]: used instead of groups
  float temperature = 1.0f;
  int block_rows = 0;  // 0: automatic
};

// Blocks of 1024 rows: the block (4 MiB) stays in the last-level cache and the GEMMs of
// pass 2 have an inner dimension of 1024.
inline int choose_block_rows(int n, int requested) {
  return std::max(1, std::min(requested > 0 ? requested : 1024, n));
}

template <Backend B>
class SymmetricContrastivePass {
 public:
  RowResults run(const SymmetricProblem& problem) {
    const int n = problem.features.rows;
    const int block = choose_block_rows(n, problem.block_rows);
    const float inverse_t = 1.0f / problem.temperature;
    if (block_.numel() < std::int64_t{block} * block)
      block_ = Tensor<B>::uninitialized({block, block});
    if (!problem.mask) group_ = Buffer<B, int>::from(problem.groups);

    row_max_ =
        Buffer<B, float>::from(std::vector<float>(n, -std::numeric_limits<float>::infinity()));
    row_sum_ = Buffer<B, float>::from(std::vector<float>(n, 0.0f));
    positives_ = Buffer<B, double>::from(std::vector<double>(n, 0.0));
    positive_logits_ = Buffer<B, double>::from(std::vector<double>(n, 0.0));

    ContrastiveBlock kernel;
    kernel.views = problem.views;
    kernel.bsz = problem.bsz;
    kernel.group = problem.mask ? nullptr : group_.data();
    kernel.mask = problem.mask;
    kernel.row_max = row_max_.data();
    kernel.row_sum = row_sum_.data();
    kernel.positives = positives_.data();
    kernel.positive_logits = positive_logits_.data();

    // Visits the blocks (I, J >= I) with their similarities S_IJ = F_I F_J^T / T.
    auto for_each_block = [&](auto&& visit) {
      for (int first_row = 0; first_row < n; first_row += block) {
        for (int first_col = first_row; first_col < n; first_col += block) {
          const int rows = std::min(block, n - first_row), cols = std::min(block, n - first_col);
          const MatrixRef logits{block_.data(), rows, cols, cols};
          const ConstMatrixRef rows_f = middle_rows(problem.features, first_row, rows);
          const ConstMatrixRef cols_f = middle_rows(problem.features, first_col, cols);
          ops::gemm<B>(rows_f, cols_f.t(), logits, inverse_t);
          kernel.logits = logits.data;
          kernel.rows = rows;
          kernel.cols = cols;
          kernel.ld = cols;
          kernel.first_row = first_row;
          kernel.first_col = first_col;
          visit(logits, rows_f, cols_f);
        }
      }
    };

    for_each_block(
        [&](MatrixRef, ConstMatrixRef, ConstMatrixRef) { B::contrastive_block_stats(kernel); });

    RowResults results = finish_rows(n);
    kernel.log_sum_exp = log_sum_exp_.data();
    kernel.alpha = alpha_.data();
    kernel.beta = beta_.data();

    for_each_block([&](MatrixRef logits, ConstMatrixRef rows_f, ConstMatrixRef cols_f) {
      B::contrastive_block_gradient(kernel);
      const int first_row = kernel.first_row, first_col = kernel.first_col;
      ops::gemm<B>(logits, cols_f, problem.features_grad.middle_rows(first_row, logits.rows),
                   inverse_t, 1.0f);
      if (first_col != first_row)
        ops::gemm<B>(logits.t(), rows_f, problem.features_grad.middle_rows(first_col, logits.cols),
                     inverse_t, 1.0f);
    });
    return results;
  }

 private:
  // From the statistics: lse_i = max + log sum; mlpp_i = (sum_pos s - p lse) / p' with
  // p' = (p < 1e-6 ? 1 : p) (SupContrast PR #142); the gradient's per-row coefficients
  // alpha = p / p' and beta = 1 / p', the loss's global factor applied by the caller.
  RowResults finish_rows(int n) {
    const std::vector<float> max = row_max_.to_vector(), sum = row_sum_.to_vector();
    const std::vector<double> positives = positives_.to_vector();
    const std::vector<double> positive_logits = positive_logits_.to_vector();
    RowResults results{std::vector<float>(n), std::vector<float>(n)};
    std::vector<float> lse(n), alpha(n), beta(n);
    for (int i = 0; i < n; ++i) {
      lse[i] = max[i] + std::log(sum[i]);
      const double p = positives[i];
      const double denominator = p < 1e-6 ? 1.0 : p;
      results.mean_log_prob_pos[i] =
          static_cast<float>((positive_logits[i] - p * lse[i]) / denominator);
      results.positives[i] = static_cast<float>(p);
      alpha[i] = static_cast<float>(p / denominator);
      beta[i] = static_cast<float>(1.0 / denominator);
    }
    log_sum_exp_ = Buffer<B, float>::from(lse);
    alpha_ = Buffer<B, float>::from(alpha);
    beta_ = Buffer<B, float>::from(beta);
    return results;
  }

  Tensor<B> block_;  // [block, block], reused across calls
  Buffer<B, int> group_;
  Buffer<B, float> row_max_, row_sum_, log_sum_exp_, alpha_, beta_;
  Buffer<B, double> positives_, positive_logits_;
};

}  // namespace clr::loss::detail
