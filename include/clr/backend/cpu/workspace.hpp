// Scratch memory of the CPU kernels (convolutions), from the backend's counted allocator so
// that the benchmarks' and the memory statistics' peaks include it.
#pragma once

#include <cstdint>

#include "clr/backend/cpu/memory.hpp"

namespace clr::cpu_impl {

// `count` slices of at least `size` floats each; not initialised. Each slice starts on a cache
// line, as the allocation does. A thread's scratch is best one Workspace the thread makes
// itself inside the parallel region (count 1), not a slice of one made for all threads: as
// slices of one allocation, or as blocks another thread had used (the allocator's cache now
// returns a block only to the thread that freed it, block_cache.hpp), F(4×4) channels-last's
// buffers made its group loop run twice as long per group on two threads as on one (forward
// at 16 channels on 28×28, batch 256: 4.9 → 2.6–2.9 ms), though no line was written by both
// threads and gaps of up to 64 KiB between slices did not help. The channels-last
// convolutions do so; the by-rows Winograd and plain im2col paths still use slices.
struct Workspace {
  static constexpr long kLineFloats = Memory::kAlignment / sizeof(float);

  Workspace(int count, long size)
      : count(count), size((size + kLineFloats - 1) / kLineFloats * kLineFloats) {
    if (floats() > 0) data = static_cast<float*>(Memory::allocate(bytes()));
  }
  ~Workspace() {
    if (data) Memory::deallocate(data, bytes());
  }
  Workspace(const Workspace&) = delete;
  Workspace& operator=(const Workspace&) = delete;

  long floats() const { return count * size; }
  std::int64_t bytes() const { return floats() * static_cast<std::int64_t>(sizeof(float)); }
  float* slice(int i) const { return data + i * size; }

  int count;
  long size;
  float* data = nullptr;
};

}  // namespace clr::cpu_impl
