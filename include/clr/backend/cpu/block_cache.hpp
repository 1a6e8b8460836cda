// Freed large blocks of the CPU allocator, kept for the next allocation of the same size.
// A training step allocates the same activations and gradients every step; handed back to
// the C library, the largest of them (32 MiB a tensor at full width) go back to the kernel
// (munmap, or a trimmed heap) and come back as fresh pages that fault and are cleared on
// first touch: 5% of the full-width train step's samples sat in the page-fault handler and
// clear_page. Reused here, the step took 0.81–0.86× the time (BM_supcon_step, alternating
// runs; docs/benchmarks.md).
//
// Blocks are matched by exact size, as a step's sizes repeat. What is cached and what is in
// use together stay within the most ever in use at once: a miss frees cached blocks first
// where it would take more, so the footprint is that of the peak, as without the cache (a
// cache bounded by the peak alone, not counting what is in use, grew the full-width step's
// resident set by a fifth). release() hands everything back.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <iterator>
#include <map>
#include <mutex>

namespace clr::cpu_impl {

class BlockCache {
 public:
  // Blocks smaller than this go straight back to the C library, whose own bins serve them.
  static constexpr std::int64_t kMinBytes = std::int64_t{256} << 10;

  // A cached block of exactly `bytes`, or nullptr; `in_use` is what the allocator holds
  // before this allocation.
  void* take(std::int64_t bytes, std::int64_t in_use) {
    if (bytes < kMinBytes) return nullptr;
    const std::lock_guard lock(mutex_);
    limit_ = std::max(limit_, in_use + bytes);
    const auto found = blocks_.find(bytes);
    if (found != blocks_.end()) {
      void* block = found->second;
      blocks_.erase(found);
      cached_bytes_ -= bytes;
      return block;
    }
    // The new block and the cache must fit the high-water mark: free the largest blocks.
    while (!blocks_.empty() && in_use + bytes + cached_bytes_ > limit_) {
      const auto largest = std::prev(blocks_.end());
      std::free(largest->second);
      cached_bytes_ -= largest->first;
      blocks_.erase(largest);
    }
    return nullptr;
  }

  // Keeps a freed block, or frees it where it is small or would not fit the high-water mark;
  // `in_use` is what the allocator holds without it.
  void give(void* block, std::int64_t bytes, std::int64_t in_use) {
    if (bytes >= kMinBytes) {
      const std::lock_guard lock(mutex_);
      if (in_use + cached_bytes_ + bytes <= limit_) {
        blocks_.emplace(bytes, block);
        cached_bytes_ += bytes;
        return;
      }
    }
    std::free(block);
  }

  // Frees every cached block.
  void release() {
    const std::lock_guard lock(mutex_);
    for (const auto& [bytes, block] : blocks_) std::free(block);
    blocks_.clear();
    cached_bytes_ = 0;
  }

  std::int64_t cached_bytes() const {
    const std::lock_guard lock(mutex_);
    return cached_bytes_;
  }

 private:
  mutable std::mutex mutex_;
  std::multimap<std::int64_t, void*> blocks_;
  std::int64_t cached_bytes_ = 0;
  std::int64_t limit_ = 0;
};

}  // namespace clr::cpu_impl
