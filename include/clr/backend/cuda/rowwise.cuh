// Row-wise kernels and their launchers: softmax, softmax statistics (argmax, entropy) and
// L2 normalisation with its backward, each the same arithmetic as
// clr::cpu_impl::RowKernels. One block per row; threads stride over the row's columns, so
// any row length works, and block reductions give every thread the row's max or sum.
#pragma once

#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>
#include <type_traits>

#include "clr/backend/cuda/context.hpp"
#include "clr/backend/cuda/launchers.hpp"
#include "clr/backend/cuda/reduce.cuh"

namespace clr::cuda_impl::kernels {

// Threads per row block. The loss caps a tile's bytes, so long rows come few at a time:
// they get the widest blocks to keep every SM streaming. Short rows get narrow blocks so
// that few threads idle.
template <class Launch>
void with_row_threads(int cols, Launch&& launch) {
  if (cols >= 16384) {
    launch(std::integral_constant<int, 1024>{});
  } else if (cols >= 1024) {
    launch(std::integral_constant<int, 512>{});
  } else {
    launch(std::integral_constant<int, 128>{});
  }
}

// x <- softmax(x) per row; log_sum_exp[row] = max + log(sum exp(x - max)) when not null.
template <int kThreads>
__global__ void __launch_bounds__(kThreads)
    softmax_rows_kernel(float* x, int cols, int ld, float* log_sum_exp) {
  float* row = x + static_cast<std::int64_t>(blockIdx.x) * ld;
  float max = -INFINITY;
  for (int j = threadIdx.x; j < cols; j += kThreads) max = fmaxf(max, row[j]);
  max = block_all_reduce<kThreads>(max, Max{}, -INFINITY);
  float total = 0.0f;
  for (int j = threadIdx.x; j < cols; j += kThreads) {
    const float e = expf(row[j] - max);
    row[j] = e;
    total += e;
  }
  total = block_all_reduce<kThreads>(total, Sum{}, 0.0f);
  for (int j = threadIdx.x; j < cols; j += kThreads) row[j] /= total;
  if (log_sum_exp && threadIdx.x == 0) log_sum_exp[blockIdx.x] = max + logf(total);
}

// Over x[row * row_ld + j * col_stride], j < cols: the first argmax, and the entropy
// -sum p log(p + 1e-8) of the softmax as google-research/simclr's metric writes it. The
// input is read-only, so exp is recomputed in each pass instead of stored.
template <int kThreads>
__global__ void __launch_bounds__(kThreads)
    softmax_stats_rows_kernel(const float* x, int cols, int row_ld, int col_stride, int* argmax,
                              float* entropy) {
  const float* row = x + static_cast<std::int64_t>(blockIdx.x) * row_ld;
  auto at = [&](int j) { return row[static_cast<std::int64_t>(j) * col_stride]; };
  // Column 0 in the padding keeps the answer in range even for rows of NaN.
  ArgMax best{-INFINITY, 0};
  for (int j = threadIdx.x; j < cols; j += kThreads) best = Better{}(best, ArgMax{at(j), j});
  best = block_all_reduce<kThreads>(best, Better{}, ArgMax{-INFINITY, 0});
  const float max = best.value;
  float total = 0.0f;
  for (int j = threadIdx.x; j < cols; j += kThreads) total += expf(at(j) - max);
  total = block_all_reduce<kThreads>(total, Sum{}, 0.0f);
  float plogp = 0.0f;
  for (int j = threadIdx.x; j < cols; j += kThreads) {
    const float p = expf(at(j) - max) / total;
    plogp += p * logf(p + 1e-8f);
  }
  plogp = block_all_reduce<kThreads>(plogp, Sum{}, 0.0f);
  if (threadIdx.x == 0) {
    argmax[blockIdx.x] = best.index;
    entropy[blockIdx.x] = -plogp;
  }
}

// y = x / sqrt(max(sum x^2, 1e-12)) per row, as tf.math.l2_normalize; norms out.
template <int kThreads>
__global__ void __launch_bounds__(kThreads)
    l2_normalize_rows_kernel(const float* x, float* y, float* norms, int dim) {
  const std::int64_t offset = static_cast<std::int64_t>(blockIdx.x) * dim;
  const float* in = x + offset;
  float* out = y + offset;
  float squares = 0.0f;
  for (int j = threadIdx.x; j < dim; j += kThreads) squares += in[j] * in[j];
  squares = block_all_reduce<kThreads>(squares, Sum{}, 0.0f);
  const float norm = sqrtf(fmaxf(squares, 1e-12f));
  for (int j = threadIdx.x; j < dim; j += kThreads) out[j] = in[j] / norm;
  if (threadIdx.x == 0) norms[blockIdx.x] = norm;
}

// dx = (dy - y <y, dy>) / norm; where the forward clamped the norm, the map was x / 1e-6,
// linear, and dx = dy / norm.
template <int kThreads>
__global__ void __launch_bounds__(kThreads)
    l2_normalize_rows_backward_kernel(const float* y, const float* dy, const float* norms,
                                      float* dx, int dim) {
  const std::int64_t offset = static_cast<std::int64_t>(blockIdx.x) * dim;
  const float* out = y + offset;
  const float* grad_out = dy + offset;
  float* grad_in = dx + offset;
  const float norm = norms[blockIdx.x];
  if (norm > 1e-6f) {  // the same for the whole block: the reduction inside is safe
    float dot = 0.0f;
    for (int j = threadIdx.x; j < dim; j += kThreads) dot += out[j] * grad_out[j];
    dot = block_all_reduce<kThreads>(dot, Sum{}, 0.0f);
    for (int j = threadIdx.x; j < dim; j += kThreads)
      grad_in[j] = (grad_out[j] - out[j] * dot) / norm;
  } else {
    for (int j = threadIdx.x; j < dim; j += kThreads) grad_in[j] = grad_out[j] / norm;
  }
}

}  // namespace clr::cuda_impl::kernels

namespace clr::cuda_impl::launch {

void softmax_rows(float* x, int rows, int cols, int ld, float* log_sum_exp, cudaStream_t stream) {
  if (rows <= 0) return;
  kernels::with_row_threads(cols, [&](auto threads) {
    constexpr int kThreads = decltype(threads)::value;
    kernels::softmax_rows_kernel<kThreads><<<rows, kThreads, 0, stream>>>(x, cols, ld, log_sum_exp);
  });
  check_launch("softmax_rows");
}

void softmax_stats_rows(const float* x, int rows, int cols, int row_ld, int col_stride, int* argmax,
                        float* entropy, cudaStream_t stream) {
  if (rows <= 0) return;
  kernels::with_row_threads(cols, [&](auto threads) {
    constexpr int kThreads = decltype(threads)::value;
    kernels::softmax_stats_rows_kernel<kThreads>
        <<<rows, kThreads, 0, stream>>>(x, cols, row_ld, col_stride, argmax, entropy);
  });
  check_launch("softmax_stats_rows");
}

void l2_normalize_rows(const float* x, float* y, float* norms, int rows, int dim,
                       cudaStream_t stream) {
  if (rows <= 0) return;
  kernels::with_row_threads(dim, [&](auto threads) {
    constexpr int kThreads = decltype(threads)::value;
    kernels::l2_normalize_rows_kernel<kThreads><<<rows, kThreads, 0, stream>>>(x, y, norms, dim);
  });
  check_launch("l2_normalize_rows");
}

void l2_normalize_rows_backward(const float* y, const float* dy, const float* norms, float* dx,
                                int rows, int dim, cudaStream_t stream) {
  if (rows <= 0) return;
  kernels::with_row_threads(dim, [&](auto threads) {
    constexpr int kThreads = decltype(threads)::value;
    kernels::l2_normalize_rows_backward_kernel<kThreads>
        <<<rows, kThreads, 0, stream>>>(y, dy, norms, dx, dim);
  });
  check_launch("l2_normalize_rows_backward");
}

}  // namespace clr::cuda_impl::launch
