// Block-wide reductions for the CUDA kernels: warp shuffles, then one value per warp
// through shared memory, then shuffles again. Every thread of the block receives the
// result, so the row kernels can use a row's max or sum without another broadcast.
#pragma once

#include <cuda_runtime.h>

namespace clr::cuda_impl::kernels {

inline constexpr int kWarpSize = 32;
inline constexpr unsigned kFullWarp = 0xffffffffu;

struct Sum {
  template <class T>
  __device__ T operator()(T a, T b) const {
    return a + b;
  }
};

struct Max {
  __device__ float operator()(float a, float b) const { return fmaxf(a, b); }
};

// A value and its column. No constructors, so that it can live in __shared__ memory.
struct ArgMax {
  float value;
  int index;
};

// The larger value, the first column among equal values (as Eigen's maxCoeff picks).
// Symmetric in its arguments, so every lane of a butterfly ends with the same pair.
struct Better {
  __device__ ArgMax operator()(ArgMax a, ArgMax b) const {
    if (b.value > a.value || (b.value == a.value && b.index < a.index)) return b;
    return a;
  }
};

__device__ inline float shuffle_xor(float v, int lane_mask) {
  return __shfl_xor_sync(kFullWarp, v, lane_mask);
}
__device__ inline double shuffle_xor(double v, int lane_mask) {
  return __shfl_xor_sync(kFullWarp, v, lane_mask);
}
__device__ inline ArgMax shuffle_xor(ArgMax v, int lane_mask) {
  return {__shfl_xor_sync(kFullWarp, v.value, lane_mask),
          __shfl_xor_sync(kFullWarp, v.index, lane_mask)};
}

// Butterfly: every lane ends with op over the warp, not only lane 0.
template <class T, class Op>
__device__ T warp_all_reduce(T value, Op op) {
  for (int lane_mask = kWarpSize / 2; lane_mask > 0; lane_mask /= 2)
    value = op(value, shuffle_xor(value, lane_mask));
  return value;
}

// op over one value per thread of a block of kThreads threads (all of which must call it),
// returned to every thread. `identity` pads the last shuffle round.
template <int kThreads, class T, class Op>
__device__ T block_all_reduce(T value, Op op, T identity) {
  static_assert(kThreads % kWarpSize == 0 && kThreads <= 1024, "whole warps, one block");
  constexpr int kWarps = kThreads / kWarpSize;
  __shared__ T partial[kWarps];
  const int lane = static_cast<int>(threadIdx.x) % kWarpSize;
  const int warp = static_cast<int>(threadIdx.x) / kWarpSize;
  value = warp_all_reduce(value, op);
  // The previous reduction of this type may still be reading `partial` in another warp.
  __syncthreads();
  if (lane == 0) partial[warp] = value;
  __syncthreads();
  return warp_all_reduce(lane < kWarps ? partial[lane] : identity, op);
}

}  // namespace clr::cuda_impl::kernels
