#include <doctest/doctest.h>

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

TEST_CASE("cpu: freed large blocks are reused by size, within the peak in use, and released") {
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
  // Another size: the cached block and the new one would exceed the most ever in use
  // (held + large), so the cached block is freed first.
  void* bigger = Memory::allocate(large + 4096);
  CHECK(Memory::cache().cached_bytes() == 0);
  Memory::deallocate(bigger, large + 4096);
  CHECK(Memory::cache().cached_bytes() == large + 4096);
  // Two in use at once raise the high-water mark: both are kept when freed.
  void* a = Memory::allocate(large);
  void* b = Memory::allocate(large);
  Memory::deallocate(a, large);
  Memory::deallocate(b, large);
  CHECK(Memory::cache().cached_bytes() <= held + 2 * large + 4096);
  CHECK(Memory::cache().cached_bytes() >= 2 * large);
  Memory::release_cached();
  CHECK(Memory::cache().cached_bytes() == 0);
}
