// Scratch memory of the CPU kernels (convolutions), from the backend's counted allocator so
// that the benchmarks' and the memory statistics' peaks include it.
#pragma once

#include <cstdint>

#include "clr/backend/cpu/memory.hpp"

namespace clr::cpu_impl {

// `count` slices of `size` floats each, one per thread typically; not initialised.
struct Workspace {
  Workspace(int count, long size) : count(count), size(size) {
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
