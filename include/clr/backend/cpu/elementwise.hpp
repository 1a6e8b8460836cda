// Elementwise passes over large arrays, shared out over the OpenMP threads in contiguous
// blocks. The activations between layers are megabytes, and serial passes over them (the
// ReLUs, the residual sums) kept the second thread waiting for 7.6% of the quarter-width
// ResNet-18 train step's samples (perf, by thread); shared out, 2.6%, and the step took
// 0.92× the time (bench_nn BM_supcon_step, alternating runs).
#pragma once

#include <omp.h>

#include <algorithm>
#include <cstdint>

#include "clr/backend/cpu/memory.hpp"

namespace clr::cpu_impl {

// Below this many values a parallel region (~1–2 µs to start and join) costs more than the
// second core gains.
constexpr std::int64_t kParallelElementwiseMin = 1 << 15;

// body(begin, end) over [0, n) in one block per thread (whole cache lines of floats), or in
// one call where n is small or the caller already runs in a parallel region.
template <class Body>
void for_each_block(std::int64_t n, Body body) {
  const int threads = omp_get_max_threads();
  if (n < kParallelElementwiseMin || threads == 1 || omp_in_parallel()) {
    body(std::int64_t{0}, n);
    return;
  }
  constexpr std::int64_t kLine = Memory::kAlignment / sizeof(float);  // floats per cache line
  const std::int64_t block = (n + threads * kLine - 1) / (threads * kLine) * kLine;
#pragma omp parallel num_threads(threads)
  {
    const std::int64_t begin = std::min(n, block * omp_get_thread_num());
    const std::int64_t end = std::min(n, begin + block);
    if (begin < end) body(begin, end);
  }
}

}  // namespace clr::cpu_impl
