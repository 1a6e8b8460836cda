// Scratch memory of the CPU kernels (convolutions), from the backend's counted allocator so
// that the benchmarks' and the memory statistics' peaks include it.
#pragma once

#include <cstdint>

#include "clr/backend/cpu/memory.hpp"

namespace clr::cpu_impl {

// `count` slices of at least `size` floats each, one per thread typically; not initialised.
// Each slice starts on a cache line, as the allocation does, so that no two threads write
// to one line and every thread's rows start where the first thread's do.
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
