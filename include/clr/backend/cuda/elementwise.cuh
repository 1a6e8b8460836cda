// Elementwise kernels and their launchers: fill, the beta scaling of an empty GEMM, and
// the sum of a vector (in double, like the CPU backend's).
#pragma once

#include <cuda_runtime.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "clr/backend/cuda/context.hpp"
#include "clr/backend/cuda/launchers.hpp"
#include "clr/backend/cuda/reduce.cuh"

namespace clr::cuda_impl::kernels {

inline constexpr int kElementwiseThreads = 256;
// Grid-stride loops with at most this many blocks: enough to fill every SM of an H200
// several times over, while large vectors reuse threads instead of launching millions.
inline constexpr std::int64_t kMaxBlocks = 4096;
// The sum's first level writes one partial per block, so fewer blocks keep its second
// level (one block) short; 1024 blocks of 256 threads still saturate memory bandwidth.
inline constexpr std::int64_t kSumBlocks = 1024;

inline int blocks_for(std::int64_t n, std::int64_t max_blocks) {
  return static_cast<int>(
      std::min((n + kElementwiseThreads - 1) / kElementwiseThreads, max_blocks));
}

__device__ inline std::int64_t first_index() {
  return static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
}
__device__ inline std::int64_t grid_stride() {
  return static_cast<std::int64_t>(gridDim.x) * blockDim.x;
}

__global__ void fill_kernel(float* y, std::int64_t n, float value) {
  for (std::int64_t i = first_index(); i < n; i += grid_stride()) y[i] = value;
}

__global__ void scale_matrix_kernel(float* c, int rows, int cols, int ld, float beta) {
  const std::int64_t n = static_cast<std::int64_t>(rows) * cols;
  for (std::int64_t i = first_index(); i < n; i += grid_stride()) {
    float& value = c[i / cols * ld + i % cols];
    // beta == 0 overwrites without reading, as BLAS does: C may hold NaN or garbage.
    value = beta == 0.0f ? 0.0f : value * beta;
  }
}

template <int kThreads>
__global__ void __launch_bounds__(kThreads)
    sum_partials_kernel(const float* x, std::int64_t n, double* partials) {
  double total = 0.0;
  for (std::int64_t i = first_index(); i < n; i += grid_stride()) total += x[i];
  total = block_all_reduce<kThreads>(total, Sum{}, 0.0);
  if (threadIdx.x == 0) partials[blockIdx.x] = total;
}

template <int kThreads>
__global__ void __launch_bounds__(kThreads)
    sum_partials_final_kernel(const double* partials, int count, double* result) {
  double total = 0.0;
  for (int i = static_cast<int>(threadIdx.x); i < count; i += kThreads) total += partials[i];
  total = block_all_reduce<kThreads>(total, Sum{}, 0.0);
  if (threadIdx.x == 0) *result = total;
}

// Stream-ordered scratch for the sum's partials: no device-wide synchronisation as
// cudaMalloc/cudaFree would have, and freed even when a launch check throws.
class StreamScratch {
 public:
  StreamScratch(std::size_t bytes, cudaStream_t stream) : stream_(stream) {
    check(cudaMallocAsync(&data_, bytes, stream), "cudaMallocAsync(", bytes, " bytes)");
  }
  StreamScratch(const StreamScratch&) = delete;
  StreamScratch& operator=(const StreamScratch&) = delete;
  ~StreamScratch() {
    if (cudaFreeAsync(data_, stream_) != cudaSuccess) (void)cudaGetLastError();
  }
  void* data() const { return data_; }

 private:
  void* data_ = nullptr;
  cudaStream_t stream_;
};

}  // namespace clr::cuda_impl::kernels

namespace clr::cuda_impl::launch {

void fill(float* y, std::int64_t n, float value, cudaStream_t stream) {
  if (n <= 0) return;
  kernels::fill_kernel<<<kernels::blocks_for(n, kernels::kMaxBlocks), kernels::kElementwiseThreads,
                         0, stream>>>(y, n, value);
  check_launch("fill");
}

void scale_matrix(float* c, int rows, int cols, int ld, float beta, cudaStream_t stream) {
  if (rows <= 0 || cols <= 0) return;
  const std::int64_t n = static_cast<std::int64_t>(rows) * cols;
  kernels::scale_matrix_kernel<<<kernels::blocks_for(n, kernels::kMaxBlocks),
                                 kernels::kElementwiseThreads, 0, stream>>>(c, rows, cols, ld,
                                                                            beta);
  check_launch("scale_matrix");
}

// Two levels, each in a fixed order, so the same input always gives the same bits
// (atomics would not).
double sum(const float* x, std::int64_t n, cudaStream_t stream) {
  if (n <= 0) return 0.0;
  constexpr int kThreads = kernels::kElementwiseThreads;
  const int blocks = kernels::blocks_for(n, kernels::kSumBlocks);
  const kernels::StreamScratch scratch((static_cast<std::size_t>(blocks) + 1) * sizeof(double),
                                       stream);
  double* partials = static_cast<double*>(scratch.data());  // [blocks], then the total
  kernels::sum_partials_kernel<kThreads><<<blocks, kThreads, 0, stream>>>(x, n, partials);
  check_launch("sum (partials)");
  kernels::sum_partials_final_kernel<kThreads>
      <<<1, kThreads, 0, stream>>>(partials, blocks, partials + blocks);
  check_launch("sum (final)");
  double total = 0.0;
  check(cudaMemcpyAsync(&total, partials + blocks, sizeof(double), cudaMemcpyDeviceToHost, stream),
        "cudaMemcpyAsync(the sum, device to host)");
  check(cudaStreamSynchronize(stream), "cudaStreamSynchronize after a sum");
  return total;
}

}  // namespace clr::cuda_impl::launch
