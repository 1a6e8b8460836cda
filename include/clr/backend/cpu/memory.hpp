// The CPU backend's memory primitives: 64-byte aligned host allocations, counted.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "clr/core/error.hpp"
#include "clr/core/memory_stats.hpp"

namespace clr::cpu_impl {

struct Memory {
  static constexpr std::int64_t kAlignment = 64;  // one cache line, one AVX-512 register

  static MemoryCounter& memory() {
    static MemoryCounter counter;
    return counter;
  }
  static void* allocate(std::int64_t bytes) {
    const std::int64_t rounded = (bytes + kAlignment - 1) / kAlignment * kAlignment;
    void* p = std::aligned_alloc(kAlignment, static_cast<std::size_t>(rounded));
    require(p != nullptr, "cpu: cannot allocate ", bytes, " bytes");
    memory().on_allocate(bytes);
    return p;
  }
  static void deallocate(void* p, std::int64_t bytes) {
    std::free(p);
    memory().on_free(bytes);
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
};

}  // namespace clr::cpu_impl
