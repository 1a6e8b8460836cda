// Byte counters of each backend's allocator: what is held now and the high-water mark,
// so benchmarks and tests can state the extra memory an operation needs.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>

namespace clr {

struct MemoryStats {
  std::int64_t current_bytes = 0;
  std::int64_t peak_bytes = 0;
};

class MemoryCounter {
 public:
  void on_allocate(std::int64_t bytes) {
    const std::int64_t now = current_.fetch_add(bytes, std::memory_order_relaxed) + bytes;
    std::int64_t peak = peak_.load(std::memory_order_relaxed);
    while (now > peak && !peak_.compare_exchange_weak(peak, now, std::memory_order_relaxed)) {
    }
  }
  void on_free(std::int64_t bytes) { current_.fetch_sub(bytes, std::memory_order_relaxed); }

  MemoryStats stats() const {
    return {current_.load(std::memory_order_relaxed), peak_.load(std::memory_order_relaxed)};
  }
  // Starts a new high-water mark from what is held now.
  void reset_peak() { peak_.store(current_.load(std::memory_order_relaxed)); }

 private:
  std::atomic<std::int64_t> current_{0};
  std::atomic<std::int64_t> peak_{0};
};

}  // namespace clr
