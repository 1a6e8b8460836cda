// The contract of the symmetric pass's two block kernels, shared by every backend.
//
// With contrast mode `all` the similarity matrix S = F F^T / T is symmetric, and the loss
// gradient is dF = (G + G^T) F / T. The symmetric pass (clr/loss/symmetric_pass.hpp)
// visits only the blocks (I, J) with J >= I, twice: first to gather every row's
// statistics, then to write H = G + G^T for the block. A block holds
// s_ab = <f_i, f_j> / T for rows i = first_row + a and columns j = first_col + b.
//
// Positive weights, zero at i = j:
//   w(i, j) = [group[i] == group[j]]                       (labels form)
//           = mask[sample(i), sample(j)], sample(r) = r / views   (mask form)
//
// contrastive_block_stats merges, for every row a of the block, the entries j != i of
// row i into its running statistics; and when first_col != first_row, for every column b,
// the entries of column b (= row j of S^T) into row j's:
//   row_max[i], row_sum[i]   running max and sum of exp(s - row_max), self excluded
//   positives[i]             p_i = sum_j w(i, j)
//   positive_logits[i]       sum_j w(i, j) s_ij
// contrastive_block_gradient overwrites the block, in place, with
//   H_ab = alpha_i e^(s - lse_i) - beta_i w(i, j) + alpha_j e^(s - lse_j) - beta_j w(j, i),
//   H = 0 where i == j,
// the (i, j) entry of G + G^T, from per-row lse, alpha = c p / p' and beta = c / p'.
#pragma once

namespace clr {

struct ContrastiveBlock {
  float* logits = nullptr;  // [rows, ld]; stats: read; gradient: in s, out H
  int rows = 0;
  int cols = 0;
  int ld = 0;
  int first_row = 0;
  int first_col = 0;
  int views = 1;
  int bsz = 0;
  const int* group = nullptr;   // [n] group id per row, or null
  const float* mask = nullptr;  // [bsz, bsz], or null (then group is used)
  // statistics, [n] each, accumulated by contrastive_block_stats
  float* row_max = nullptr;
  float* row_sum = nullptr;
  double* positives = nullptr;
  double* positive_logits = nullptr;
  // per row, read by contrastive_block_gradient
  const float* log_sum_exp = nullptr;
  const float* alpha = nullptr;
  const float* beta = nullptr;
};

}  // namespace clr
