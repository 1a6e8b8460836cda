#include <doctest/doctest.h>

#include <cstdlib>
#include <thread>
#include <vector>

#include "support/backends.hpp"

using clr::Error;
using clr::Shape;
using clr::Tensor;

TEST_CASE("Shape: rank, extents and errors") {
  const Shape shape{2, 3, 4};
  CHECK(shape.rank() == 3);
  CHECK(shape.numel() == 24);
  CHECK(shape.row_size() == 12);
  CHECK(shape.str() == "[2, 3, 4]");
  CHECK(Shape{5}.row_size() == 1);
  CHECK_THROWS_WITH_AS(Shape({1, 2, 3, 4, 5}), doctest::Contains("rank must be 1 to 4"), Error);
  CHECK_THROWS_WITH_AS(Shape({2, -1}), doctest::Contains("got -1 in dimension 1"), Error);
}

TEST_CASE_TEMPLATE("Tensor: from, to_vector and to<cpu> round-trip values", B, CLR_TEST_BACKENDS) {
  CLR_SKIP_WITHOUT_DEVICE(B);
  const std::vector<float> values = {1, 2, 3, 4, 5, 6};
  const auto tensor = Tensor<B>::from(values, {2, 3});
  CHECK(tensor.shape() == Shape{2, 3});
  CHECK(tensor.to_vector() == values);
  CHECK(tensor.template to<clr::cpu>().to_vector() == values);
  CHECK(Tensor<B>(Shape{3, 2}).to_vector() == std::vector<float>(6, 0.0f));
  CHECK_THROWS_WITH_AS(Tensor<B>::from(values, {4, 2}),
                       doctest::Contains("6 values given for shape [4, 2]"), Error);
}

TEST_CASE_TEMPLATE("Tensor: reshape is a view, clone is a copy", B, CLR_TEST_BACKENDS) {
  CLR_SKIP_WITHOUT_DEVICE(B);
  auto tensor = Tensor<B>::from(std::vector<float>{1, 2, 3, 4, 5, 6}, {2, 3});
  auto view = tensor.reshape({3, 2});
  auto copy = tensor.clone();
  CHECK(view.data() == tensor.data());
  CHECK(copy.data() != tensor.data());
  clr::ops::scale(view, 2.0f);
  CHECK(tensor.to_vector() == std::vector<float>{2, 4, 6, 8, 10, 12});
  CHECK(copy.to_vector() == std::vector<float>{1, 2, 3, 4, 5, 6});
  CHECK_THROWS_WITH_AS(tensor.reshape({4, 2}), doctest::Contains("cannot view [2, 3]"), Error);
}

TEST_CASE_TEMPLATE("Tensor: memory is counted and returned", B, CLR_TEST_BACKENDS) {
  CLR_SKIP_WITHOUT_DEVICE(B);
  const auto before = B::memory().stats().current_bytes;
  {
    Tensor<B> tensor({256, 4});
    CHECK(B::memory().stats().current_bytes == before + 256 * 4 * 4);
    CHECK(B::memory().stats().peak_bytes >= before + 256 * 4 * 4);
  }
  CHECK(B::memory().stats().current_bytes == before);
}

TEST_CASE("cpu: freed large blocks are reused by size and released") {
  using clr::cpu_impl::BlockCache;
  using clr::cpu_impl::Memory;
  Memory::release_cached();
  const std::int64_t large = 4 * BlockCache::kMinBytes, small = BlockCache::kMinBytes / 4;
  const auto held = clr::cpu::memory().stats().current_bytes;
  void* first = Memory::allocate(large);
  Memory::deallocate(first, large);
  CHECK(Memory::cache().cached_bytes() == large);
  CHECK(clr::cpu::memory().stats().current_bytes == held);  // cached is not in use
  void* again = Memory::allocate(large);
  CHECK(again == first);
  CHECK(Memory::cache().cached_bytes() == 0);
  Memory::deallocate(again, large);
  Memory::deallocate(Memory::allocate(small), small);  // small blocks are not kept
  CHECK(Memory::cache().cached_bytes() == large);
  Memory::release_cached();
  CHECK(Memory::cache().cached_bytes() == 0);
}

TEST_CASE("cpu: the block cache stays within twice the most ever in use, oldest freed first") {
  using clr::cpu_impl::BlockCache;
  static_assert(BlockCache::kFootprint == 2);
  const std::int64_t large = 4 * BlockCache::kMinBytes;
  auto block = [](std::int64_t bytes) { return std::malloc(static_cast<std::size_t>(bytes)); };
  BlockCache cache;
  CHECK(cache.take(large, 0) == nullptr);  // the most in use: large; the bound: 2 large
  void* a = block(large);
  void* b = block(large);
  cache.give(a, large, 0);
  cache.give(b, large, 0);
  CHECK(cache.cached_bytes() == 2 * large);
  CHECK(cache.take(large, 0) == b);  // of equal blocks, the one freed last
  cache.give(b, large, 0);
  // A miss frees nothing; keeping c would pass the bound (now 2 large + 8192), so the
  // oldest block, a, goes.
  CHECK(cache.take(large + 4096, 0) == nullptr);
  CHECK(cache.cached_bytes() == 2 * large);
  void* c = block(large + 4096);
  cache.give(c, large + 4096, 0);
  CHECK(cache.cached_bytes() == 2 * large + 4096);
  CHECK(cache.take(large, 0) == b);
  CHECK(cache.take(large, 0) == nullptr);  // a was freed
  cache.give(b, large, 0);
  // What is in use counts: with large + 8192 in use, one large block fits beside it, so c
  // and then b (the older first) make room for d.
  void* d = block(large);
  cache.give(d, large, large + 8192);
  CHECK(cache.cached_bytes() == large);
  CHECK(cache.take(large, 0) == d);
  CHECK(cache.take(large + 4096, 0) == nullptr);
  cache.give(d, large, 0);
  // A block that alone would pass the bound is not kept.
  cache.give(block(4 * large), 4 * large, 0);
  CHECK(cache.cached_bytes() == large);
  cache.release();
  CHECK(cache.cached_bytes() == 0);
  CHECK(cache.take(large, 0) == nullptr);
}

// A block goes back to the thread that freed it: memory is faster to the thread that wrote it
// first (block_cache.hpp), so another thread's blocks are a miss, not a hit.
TEST_CASE("cpu: the block cache hands a block back only to the thread that freed it") {
  using clr::cpu_impl::BlockCache;
  const std::int64_t large = 4 * BlockCache::kMinBytes;
  BlockCache cache;
  CHECK(cache.take(large, 0) == nullptr);
  void* mine = std::malloc(static_cast<std::size_t>(large));
  void* theirs = std::malloc(static_cast<std::size_t>(large));
  cache.give(mine, large, 0);
  std::thread([&] { cache.give(theirs, large, 0); }).join();  // freed last
  CHECK(cache.cached_bytes() == 2 * large);
  CHECK(cache.take(large, 0) == mine);  // not the one freed last, another thread's
  CHECK(cache.take(large, 0) == nullptr);
  void* taken = nullptr;
  void* missed = &taken;
  std::thread([&] {
    taken = cache.take(large, 0);
    missed = cache.take(large, 0);
  }).join();
  CHECK(taken == theirs);
  CHECK(missed == nullptr);
  CHECK(cache.cached_bytes() == 0);
  std::free(mine);
  std::free(theirs);
}
