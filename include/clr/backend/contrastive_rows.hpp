// The contract of the loss's fused row kernel, shared by every backend.
//
// One row i of a tile holds the logits of anchor a = first_anchor + i against every
// contrast row j: s_ij = <anchor_a, contrast_j> / T. The kernel turns the row, in place,
// into dL/ds for the SupCon objective (Khosla et al. 2020, eq. 2) of that anchor:
//
//   self(a)  = self_offset + a * anchor_stride        (the anchor's own contrast row)
//   w_j      = positive weight of column j, 0 at j = self(a)
//              labels form: [group[self(a)] == group[j]]
//              mask form:   mask[sample(self(a)), sample(j)], sample(r) = r / views
//   p        = sum_j w_j                                (number of positives)
//   lse      = log sum_{j != self} exp(s_j)             (row max subtracted first)
//   mlpp     = (sum_j w_j s_j - p * lse) / p',   p' = (p < 1e-6 ? 1 : p)
//   ds_j     = c * (p * softmax_j - w_j) / p',   ds_self = 0,
//
// with c = sample_weights[sample(self(a))] (1 when null). The caller scales the gradient by
// the loss's global factor afterwards. SupContrast's `mask_pos_pairs` rule (PR #142) is
// the p' above: an anchor without positives contributes 0 and a zero gradient.
#pragma once

namespace clr {

struct ContrastiveRows {
  float* logits = nullptr;  // [rows, ld]; in: s_ij, out: ds_ij (unscaled)
  int rows = 0;
  int cols = 0;  // number of contrast rows
  int ld = 0;
  int first_anchor = 0;
  int self_offset = 0;
  int anchor_stride = 1;
  int views = 1;
  int bsz = 0;                            // samples in the contrast set (mask is [bsz, bsz])
  const int* group = nullptr;             // [cols] group id per contrast row, or null
  const float* mask = nullptr;            // [bsz, bsz], or null (then group is used)
  const float* sample_weights = nullptr;  // [bsz], or null
  float* mean_log_prob_pos = nullptr;     // out [n_anchors], indexed by anchor
  float* positives = nullptr;             // out [n_anchors]: p
};

}  // namespace clr
