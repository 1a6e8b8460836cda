// The CPU backend's memory primitives: 64-byte aligned host allocations, counted.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "clr/backend/cpu/block_cache.hpp"
#include "clr/core/error.hpp"
#include "clr/core/memory_stats.hpp"

namespace clr::cpu_impl {

struct Memory {
  static constexpr std::int64_t kAlignment = 64;  // one cache line, one AVX-512 register

  static MemoryCounter& memory() {
    static MemoryCounter counter;
    return counter;
  }
  // Freed large blocks kept for reuse (block_cache.hpp); release_cached() hands them back.
  // Never destroyed: a tensor of static storage may be freed after any static here would be.
  static BlockCache& cache() {
    static BlockCache* const blocks = new BlockCache;
    return *blocks;
  }
  static void release_cached() { cache().release(); }

  static void* allocate(std::int64_t bytes) {
    const std::int64_t rounded = rounded_size(bytes);
    void* p = cache().take(rounded, memory().stats().current_bytes);
    if (p == nullptr) p = std::aligned_alloc(kAlignment, static_cast<std::size_t>(rounded));
    require(p != nullptr, "cpu: cannot allocate ", bytes, " bytes");
    memory().on_allocate(bytes);
    return p;
  }
  static void deallocate(void* p, std::int64_t bytes) {
    if (p == nullptr) return;
    memory().on_free(bytes);
    cache().give(p, rounded_size(bytes), memory().stats().current_bytes);
  }
  static void copy(void* dst, const void* src, std::int64_t bytes) {
    std::memcpy(dst, src, static_cast<std::size_t>(bytes));
  }
  static void copy_from_host(void* dst, const void* src, std::int64_t bytes) {
    copy(dst, src, bytes);
  }
  static void copy_to_host(void* dst, const void* src, std::int64_t bytes) {
    copy(dst, src, bytes);
  }
  static void synchronize() {}

 private:
  static std::int64_t rounded_size(std::int64_t bytes) {
    return (bytes + kAlignment - 1) / kAlignment * kAlignment;
  }
};

}  // namespace clr::cpu_impl
