// The symmetric pass's block kernels (contract in clr/backend/contrastive_block.hpp; the
// same arithmetic as clr::cpu_impl::ContrastiveBlockKernels) and their launchers:
//   row statistics     one CUDA block per row of the block, as contrastive_rows.cuh
//   column statistics  off the diagonal only: 32 columns per CUDA block, their rows split
//                      over slices of threads, so that each warp reads 32 adjacent floats
//                      of one row and a 1024-column block still occupies 32 SMs
//   gradient           elementwise, in place
// The rows of the two statistics kernels are disjoint (I != J), so they need no atomics.
#pragma once

#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "clr/backend/contrastive_block.hpp"
#include "clr/backend/cuda/context.hpp"
#include "clr/backend/cuda/launchers.hpp"
#include "clr/backend/cuda/reduce.cuh"
#include "clr/backend/cuda/rowwise.cuh"

namespace clr::cuda_impl::kernels {

inline constexpr int kColumnSlices = 32;  // row slices of the column statistics' blocks
inline constexpr int kColumnThreads = kWarpSize * kColumnSlices;
inline constexpr int kGradientRows = 8;  // threadIdx.y extent of the gradient's blocks
inline constexpr int kGradientThreads = kWarpSize * kGradientRows;
inline constexpr int kGradientRowsPerThread = 4;
inline constexpr int kMaxGridY = 65535;

// w(x, y) for one fixed global row x, any y != x (the callers skip y == x).
class PairWeights {
 public:
  __device__ PairWeights(const ContrastiveBlock& k, int x) : views_(k.views), group_(k.group) {
    if (k.mask) {
      mask_row_ = k.mask + static_cast<std::int64_t>(x / k.views) * k.bsz;
    } else {
      group_of_x_ = k.group[x];
    }
  }

  __device__ float operator()(int y) const {
    if (mask_row_) return mask_row_[y / views_];
    return group_[y] == group_of_x_ ? 1.0f : 0.0f;
  }

 private:
  int views_;
  const int* group_;
  const float* mask_row_ = nullptr;
  int group_of_x_ = 0;
};

// Online softmax merge (Milakov & Gimelshein 2018), as the CPU's: values whose sum of
// exp(v - new_max) is block_sum join a sum taken at the old max; new_max = -inf (no
// values yet) changes nothing.
__device__ inline void merge(float* max, float* sum, float new_max, float block_sum) {
  if (new_max == -INFINITY) return;
  *sum = *sum * expf(*max - new_max) + block_sum;
  *max = new_max;
}

// Row i = first_row + blockIdx.x. Two passes, each thread on the same columns in both:
//   1. the max over j != i, and p = sum_j w(i, j), sum_j w(i, j) s_ij in double
//   2. the sum of exp(s - new_max), new_max = max(row_max[i], block max)
template <int kThreads>
__global__ void __launch_bounds__(kThreads) contrastive_block_row_stats_kernel(ContrastiveBlock k) {
  const int a = static_cast<int>(blockIdx.x);
  const int i = k.first_row + a;
  const int self = i - k.first_col;  // the self entry's column; outside [0, cols) off the diagonal
  const float* logits = k.logits + static_cast<std::int64_t>(a) * k.ld;
  const PairWeights weight(k, i);

  // Zero weights are skipped, not added as 0 * s, so that an infinite logit of a
  // non-positive cannot turn the sum into NaN.
  float max = -INFINITY;
  double count = 0.0;
  double weighted_sum = 0.0;
  for (int b = threadIdx.x; b < k.cols; b += kThreads) {
    if (b == self) continue;
    const float s = logits[b];
    max = fmaxf(max, s);
    const float w = weight(k.first_col + b);
    if (w != 0.0f) {
      count += w;
      weighted_sum += static_cast<double>(w) * s;
    }
  }
  max = block_all_reduce<kThreads>(max, Max{}, -INFINITY);
  count = block_all_reduce<kThreads>(count, Sum{}, 0.0);
  weighted_sum = block_all_reduce<kThreads>(weighted_sum, Sum{}, 0.0);

  // Every thread reads row_max[i] before the reduction below, whose barriers precede
  // thread 0's write. new_max is the same in every thread, so all or none reduce.
  const float new_max = fmaxf(k.row_max[i], max);
  float total = 0.0f;
  if (new_max != -INFINITY) {
    for (int b = threadIdx.x; b < k.cols; b += kThreads)
      if (b != self) total += expf(logits[b] - new_max);
    total = block_all_reduce<kThreads>(total, Sum{}, 0.0f);
  }
  if (threadIdx.x == 0) {
    merge(&k.row_max[i], &k.row_sum[i], new_max, total);
    k.positives[i] += count;
    k.positive_logits[i] += weighted_sum;
  }
}

// Columns b = blockIdx.x * 32 + threadIdx.x, i.e. rows j = first_col + b of S^T, from the
// block's rows a = threadIdx.y, threadIdx.y + kColumnSlices, ... Only off the diagonal:
// no column meets its own row. Each slice's partials meet in shared memory.
__global__ void __launch_bounds__(kColumnThreads)
    contrastive_block_column_stats_kernel(ContrastiveBlock k) {
  __shared__ float slice_max[kColumnSlices][kWarpSize];
  __shared__ float slice_sum[kColumnSlices][kWarpSize];
  __shared__ double slice_count[kColumnSlices][kWarpSize];
  __shared__ double slice_weighted_sum[kColumnSlices][kWarpSize];
  const int lane = static_cast<int>(threadIdx.x);
  const int slice = static_cast<int>(threadIdx.y);
  const int b = static_cast<int>(blockIdx.x) * kWarpSize + lane;
  const bool inside = b < k.cols;  // threads past the last column still join the barriers
  const int j = k.first_col + b;
  const float* column = k.logits + b;

  float max = -INFINITY;
  double count = 0.0;
  double weighted_sum = 0.0;
  if (inside) {
    const PairWeights weight(k, j);
    for (int a = slice; a < k.rows; a += kColumnSlices) {
      const float s = column[static_cast<std::int64_t>(a) * k.ld];
      max = fmaxf(max, s);
      const float w = weight(k.first_row + a);
      if (w != 0.0f) {
        count += w;
        weighted_sum += static_cast<double>(w) * s;
      }
    }
  }
  slice_max[slice][lane] = max;
  slice_count[slice][lane] = count;
  slice_weighted_sum[slice][lane] = weighted_sum;
  __syncthreads();

  // Every slice of a column reads row_max[j] here, before the barrier that precedes slice
  // 0's write.
  float new_max = -INFINITY;
  if (inside) {
    for (int t = 0; t < kColumnSlices; ++t) new_max = fmaxf(new_max, slice_max[t][lane]);
    new_max = fmaxf(k.row_max[j], new_max);
  }
  float total = 0.0f;
  if (new_max != -INFINITY)
    for (int a = slice; a < k.rows; a += kColumnSlices)
      total += expf(column[static_cast<std::int64_t>(a) * k.ld] - new_max);
  slice_sum[slice][lane] = total;
  __syncthreads();

  if (inside && slice == 0) {
    total = 0.0f;
    count = 0.0;
    weighted_sum = 0.0;
    for (int t = 0; t < kColumnSlices; ++t) {
      total += slice_sum[t][lane];
      count += slice_count[t][lane];
      weighted_sum += slice_weighted_sum[t][lane];
    }
    merge(&k.row_max[j], &k.row_sum[j], new_max, total);
    k.positives[j] += count;
    k.positive_logits[j] += weighted_sum;
  }
}

// H_ab = alpha_i e^(s - lse_i) + alpha_j e^(s - lse_j) - (beta_i w(i, j) + beta_j w(j, i)),
// 0 at i = j. threadIdx.x runs along a row, so that each warp reads and writes 32 adjacent
// floats; a thread keeps its column's values over the rows it visits.
__global__ void __launch_bounds__(kGradientThreads)
    contrastive_block_gradient_kernel(ContrastiveBlock k) {
  const int b = static_cast<int>(blockIdx.x) * kWarpSize + static_cast<int>(threadIdx.x);
  if (b >= k.cols) return;  // no barriers below
  const int j = k.first_col + b;
  const float alpha_j = k.alpha[j];
  const float beta_j = k.beta[j];
  const float log_sum_exp_j = k.log_sum_exp[j];
  const PairWeights weight_from_j(k, j);
  const int row_stride = static_cast<int>(gridDim.y) * kGradientRows;
  for (int a = static_cast<int>(blockIdx.y * kGradientRows + threadIdx.y); a < k.rows;
       a += row_stride) {
    float& h = k.logits[static_cast<std::int64_t>(a) * k.ld + b];
    const int i = k.first_row + a;
    if (i == j) {
      h = 0.0f;
      continue;
    }
    const float s = h;
    float value = k.alpha[i] * expf(s - k.log_sum_exp[i]) + alpha_j * expf(s - log_sum_exp_j);
    const float w_ij = PairWeights(k, i)(j);
    const float w_ji = weight_from_j(i);
    // Subtracted only for positives either way, as on the CPU: beta * 0 is never formed.
    if (w_ij != 0.0f || w_ji != 0.0f) value -= k.beta[i] * w_ij + beta_j * w_ji;
    h = value;
  }
}

}  // namespace clr::cuda_impl::kernels

namespace clr::cuda_impl::launch {

void contrastive_block_stats(const ContrastiveBlock& block, cudaStream_t stream) {
  // An empty block adds nothing: its max is -inf and its sums 0.
  if (block.rows <= 0 || block.cols <= 0) return;
  kernels::with_row_threads(block.cols, [&](auto threads) {
    constexpr int kThreads = decltype(threads)::value;
    kernels::contrastive_block_row_stats_kernel<kThreads>
        <<<block.rows, kThreads, 0, stream>>>(block);
  });
  check_launch("contrastive_block_row_stats");
  if (block.first_col == block.first_row) return;
  const dim3 threads(kernels::kWarpSize, kernels::kColumnSlices);
  const unsigned blocks = (block.cols + kernels::kWarpSize - 1) / kernels::kWarpSize;
  kernels::contrastive_block_column_stats_kernel<<<blocks, threads, 0, stream>>>(block);
  check_launch("contrastive_block_column_stats");
}

void contrastive_block_gradient(const ContrastiveBlock& block, cudaStream_t stream) {
  if (block.rows <= 0 || block.cols <= 0) return;
  constexpr int kRowsPerBlock = kernels::kGradientRows * kernels::kGradientRowsPerThread;
  const dim3 threads(kernels::kWarpSize, kernels::kGradientRows);
  const dim3 blocks((block.cols + kernels::kWarpSize - 1) / kernels::kWarpSize,
                    std::min((block.rows + kRowsPerBlock - 1) / kRowsPerBlock, kernels::kMaxGridY));
  kernels::contrastive_block_gradient_kernel<<<blocks, threads, 0, stream>>>(block);
  check_launch("contrastive_block_gradient");
}

}  // namespace clr::cuda_impl::launch
