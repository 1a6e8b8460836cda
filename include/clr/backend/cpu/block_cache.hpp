// Freed large blocks of the CPU allocator, kept for the next allocation of the same size.
// A training step allocates the same activations, gradients and workspaces every step;
// handed back to the C library, the large ones go back to the kernel (munmap, or a trimmed
// heap) and come back as fresh pages that fault on first touch: 3–5% of a ResNet-18 train
// step's samples sat in the fault handler.
//
// Blocks are matched by exact size, as a step's sizes repeat, and by the thread that freed them; of
// equal blocks the one freed last is taken. A block goes back to the thread that used it because
// memory is faster to the thread that first wrote it: the convolutions' per-thread buffers, handed
// from one thread to the other by this cache, made F(4×4)'s group loop 1.7× slower (the same loop
// at 2.9 ms with each thread's buffers its own, 4.9 when they had been another thread's, forward at
// 16 channels on 28×28, batch 256), as if the two processors of these machines sat on different
// memory nodes of the host. In-use and cached bytes together stay within kFootprint times the most
// ever in use; past that the blocks cached longest ago are freed first (an old block is most likely
// one a changed shape left behind). A miss frees nothing. Two earlier rules missed on every step:
// in-use and cached bytes within 1× the peak emptied the cache in every forward pass, while the
// layers still held the last step's activations (~40 misses a step); cached bytes alone within 1×
// the peak dropped the deepest layers' blocks, freed first in backward and needed last in forward
// (~50 misses a step, the quarter-width step 1.18× slower).
// release() hands everything back.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <list>
#include <map>
#include <mutex>
#include <thread>

namespace clr::cpu_impl {

class BlockCache {
 public:
  // Blocks smaller than this go straight back to the C library, whose own bins serve them.
  static constexpr std::int64_t kMinBytes = std::int64_t{256} << 10;
  // In-use and cached bytes together stay within this many times the most ever in use. A
  // train step's blocks, freed and taken again in another order than they were freed, need
  // 1.24–1.33× (ResNet-18 SupCon steps at full and quarter width, clr-supcon); bounded by
  // 1× the cache dropped the deepest layers' blocks on every step, ~50 misses a step.
  static constexpr std::int64_t kFootprint = 2;

  // A cached block of exactly `bytes`, or nullptr; `in_use` is what the allocator holds
  // before this allocation.
  void* take(std::int64_t bytes, std::int64_t in_use) {
    if (bytes < kMinBytes) return nullptr;
    const std::lock_guard lock(mutex_);
    limit_ = std::max(limit_, in_use + bytes);
    // Of this thread's equal blocks the one freed last, the likeliest to be in its caches.
    const auto same = by_size_.equal_range(bytes);
    const std::thread::id thread = std::this_thread::get_id();
    auto found = same.second;
    while (found != same.first && std::prev(found)->second->thread != thread) --found;
    if (found == same.first) return nullptr;
    found = std::prev(found);
    void* block = found->second->address;
    by_age_.erase(found->second);
    by_size_.erase(found);
    cached_bytes_ -= bytes;
    return block;
  }

  // Keeps a freed block, freeing the oldest cached ones where in-use and cached bytes would
  // pass kFootprint times the most ever in use; `in_use` is what the allocator holds
  // without the block. A small block, or one that alone would pass that bound, is freed.
  void give(void* block, std::int64_t bytes, std::int64_t in_use) {
    if (bytes >= kMinBytes) {
      const std::lock_guard lock(mutex_);
      const std::int64_t bound = kFootprint * limit_ - in_use;
      if (bytes <= bound) {
        while (cached_bytes_ + bytes > bound) free_oldest();
        by_age_.push_back({block, bytes, std::this_thread::get_id(), {}});
        by_age_.back().by_size = by_size_.emplace(bytes, std::prev(by_age_.end()));
        cached_bytes_ += bytes;
        return;
      }
    }
    std::free(block);
  }

  // Frees every cached block.
  void release() {
    const std::lock_guard lock(mutex_);
    while (!by_age_.empty()) free_oldest();
  }

  std::int64_t cached_bytes() const {
    const std::lock_guard lock(mutex_);
    return cached_bytes_;
  }

 private:
  struct Block;
  using Age = std::list<Block>;  // oldest first
  struct Block {
    void* address;
    std::int64_t bytes;
    std::thread::id thread;  // that freed it
    std::multimap<std::int64_t, Age::iterator>::iterator by_size;
  };

  void free_oldest() {
    const Block& oldest = by_age_.front();
    std::free(oldest.address);
    cached_bytes_ -= oldest.bytes;
    by_size_.erase(oldest.by_size);
    by_age_.pop_front();
  }

  mutable std::mutex mutex_;
  Age by_age_;
  std::multimap<std::int64_t, Age::iterator> by_size_;
  std::int64_t cached_bytes_ = 0;
  std::int64_t limit_ = 0;  // the most ever in use at once
};

}  // namespace clr::cpu_impl
