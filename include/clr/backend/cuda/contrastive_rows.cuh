// The fused row kernel of the contrastive losses (contract in
// clr/backend/contrastive_rows.hpp; the same arithmetic as clr::cpu_impl::ContrastiveKernel)
// and its launcher. One block per row of the tile, three passes over the row, each thread
// visiting the same columns in every pass, so no pass waits on another thread's columns:
//   1. p = sum_j w_j and sum_j w_j s_j (double), and the max over j != self
//   2. the sum of exp(s_j - max) over j != self, hence log-sum-exp
//   3. ds_j = c (p softmax_j - w_j) / p', ds_self = 0; thread 0 writes the row's outputs
// exp is recomputed in pass 3 rather than stored in pass 2: a row is then read three times
// and written once, instead of read three times and written twice.
#pragma once

#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>

#include "clr/backend/contrastive_rows.hpp"
#include "clr/backend/cuda/context.hpp"
#include "clr/backend/cuda/launchers.hpp"
#include "clr/backend/cuda/reduce.cuh"
#include "clr/backend/cuda/rowwise.cuh"

namespace clr::cuda_impl::kernels {

// w_j of one anchor's row: the positive weight of contrast column j, 0 at j = self.
class PositiveWeights {
 public:
  __device__ PositiveWeights(const ContrastiveRows& k, int self)
      : self_(self), views_(k.views), bsz_(k.bsz), group_(k.group) {
    if (k.mask) {
      mask_row_ = k.mask + static_cast<std::int64_t>(self / k.views) * k.bsz;
    } else {
      self_group_ = k.group[self];
    }
  }

  __device__ float operator()(int j) const {
    if (j == self_) return 0.0f;
    if (mask_row_) {
      // The CPU visits exactly the columns of samples < bsz; the same bound here.
      const int sample = j / views_;
      return sample < bsz_ ? mask_row_[sample] : 0.0f;
    }
    return group_[j] == self_group_ ? 1.0f : 0.0f;
  }

 private:
  int self_;
  int views_;
  int bsz_;
  const int* group_;
  const float* mask_row_ = nullptr;
  int self_group_ = 0;
};

template <int kThreads>
__global__ void __launch_bounds__(kThreads) contrastive_rows_kernel(ContrastiveRows k) {
  float* logits = k.logits + static_cast<std::int64_t>(blockIdx.x) * k.ld;
  const int anchor = k.first_anchor + static_cast<int>(blockIdx.x);
  const int self = k.self_offset + anchor * k.anchor_stride;
  const PositiveWeights weight_of(k, self);

  // Pass 1. Weights of 0 are skipped, not added as 0 * s_j, as on the CPU (an infinite
  // logit of a non-positive must not turn the sum into NaN).
  float max = -INFINITY;
  double count = 0.0;
  double weighted_sum = 0.0;  // up to N terms of size 1/T: float would lose digits
  for (int j = threadIdx.x; j < k.cols; j += kThreads) {
    if (j == self) continue;
    const float s = logits[j];
    max = fmaxf(max, s);
    const float w = weight_of(j);
    if (w != 0.0f) {
      count += w;
      weighted_sum += w * s;  // the product in float, as the CPU forms it
    }
  }
  max = block_all_reduce<kThreads>(max, Max{}, -INFINITY);
  count = block_all_reduce<kThreads>(count, Sum{}, 0.0);
  weighted_sum = block_all_reduce<kThreads>(weighted_sum, Sum{}, 0.0);

  // Pass 2. With the max subtracted the largest term is 1: the sum is >= 1 and its log is
  // finite for any temperature.
  float total = 0.0f;
  for (int j = threadIdx.x; j < k.cols; j += kThreads)
    if (j != self) total += expf(logits[j] - max);
  total = block_all_reduce<kThreads>(total, Sum{}, 0.0f);
  const float log_sum_exp = max + logf(total);

  // p' = 1 when there are no positives (SupContrast PR #142): mlpp and the row's gradient
  // are then 0.
  const auto p = static_cast<float>(count);
  const float denominator = p < 1e-6f ? 1.0f : p;
  if (threadIdx.x == 0) {
    k.mean_log_prob_pos[anchor] =
        static_cast<float>((weighted_sum - count * log_sum_exp) / denominator);
    k.positives[anchor] = p;
  }

  // Pass 3. Every read of this row by this thread happened in passes 1 and 2 on the same
  // columns, so overwriting in place is safe without another barrier.
  const float c = k.sample_weights ? k.sample_weights[self / k.views] : 1.0f;
  const float coefficient = c / denominator;
  const float softmax_scale = coefficient * p / total;  // ds_j = e_j * this - coefficient w_j
  for (int j = threadIdx.x; j < k.cols; j += kThreads) {
    if (j == self) {
      logits[j] = 0.0f;
      continue;
    }
    float ds = expf(logits[j] - max) * softmax_scale;
    const float w = weight_of(j);
    if (w != 0.0f) ds -= coefficient * w;
    logits[j] = ds;
  }
}

}  // namespace clr::cuda_impl::kernels

namespace clr::cuda_impl::launch {

void contrastive_rows(const ContrastiveRows& rows, cudaStream_t stream) {
  if (rows.rows <= 0) return;
  kernels::with_row_threads(rows.cols, [&](auto threads) {
    constexpr int kThreads = decltype(threads)::value;
    kernels::contrastive_rows_kernel<kThreads><<<rows.rows, kThreads, 0, stream>>>(rows);
  });
  check_launch("contrastive_rows");
}

}  // namespace clr::cuda_impl::launch
