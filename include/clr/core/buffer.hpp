// Buffer<B, T>: an owning, move-only array of T in backend B's memory, for the small
// typed arrays (labels, per-row statistics) that sit beside float tensors.
#pragma once

#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "clr/core/backend.hpp"

namespace clr {

template <Backend B, class T>
class Buffer {
 public:
  Buffer() = default;
  explicit Buffer(std::int64_t size)
      : data_(size > 0 ? static_cast<T*>(B::allocate(size * sizeof(T))) : nullptr), size_(size) {}
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  Buffer(Buffer&& other) noexcept
      : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}
  Buffer& operator=(Buffer&& other) noexcept {
    std::swap(data_, other.data_);
    std::swap(size_, other.size_);
    return *this;
  }
  ~Buffer() {
    if (data_) B::deallocate(data_, size_ * sizeof(T));
  }

  static Buffer from(std::span<const T> values) {
    Buffer buffer(static_cast<std::int64_t>(values.size()));
    if (!values.empty()) B::copy_from_host(buffer.data_, values.data(), values.size_bytes());
    return buffer;
  }
  std::vector<T> to_vector() const {
    std::vector<T> values(size_);
    if (size_ > 0) B::copy_to_host(values.data(), data_, size_ * sizeof(T));
    return values;
  }
  // Keeps the allocation when it is already large enough: workspaces reused across calls.
  void ensure_size(std::int64_t size) {
    if (size > size_) *this = Buffer(size);
  }

  T* data() { return data_; }
  const T* data() const { return data_; }
  std::int64_t size() const { return size_; }

 private:
  T* data_ = nullptr;
  std::int64_t size_ = 0;
};

}  // namespace clr
