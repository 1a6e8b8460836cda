// Shape: the extents of a tensor of rank 1 to 4, row-major.
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <ostream>
#include <sstream>
#include <string>

#include "clr/core/error.hpp"

namespace clr {

class Shape {
 public:
  static constexpr int kMaxRank = 4;

  Shape() = default;
  // Extents are plain ints, as in `Tensor<cpu>::from(values, {bsz, n_views, dim})`.
  Shape(std::initializer_list<int> extents) {
    require(extents.size() >= 1 && extents.size() <= kMaxRank, "Shape: rank must be 1 to ",
            kMaxRank, ", got ", extents.size());
    for (int extent : extents) {
      require(extent >= 0, "Shape: extents must be >= 0, got ", extent, " in dimension ", rank_);
      extents_[rank_++] = extent;
    }
  }

  int rank() const { return rank_; }
  int operator[](int axis) const { return extents_[axis]; }
  std::int64_t numel() const {
    if (rank_ == 0) return 0;
    std::int64_t n = 1;
    for (int axis = 0; axis < rank_; ++axis) n *= extents_[axis];
    return n;
  }
  // Product of the extents after the first: the row length when viewed as a matrix.
  std::int64_t row_size() const { return rank_ <= 1 ? 1 : numel() / extents_[0]; }

  bool operator==(const Shape& other) const {
    if (rank_ != other.rank_) return false;
    for (int axis = 0; axis < rank_; ++axis)
      if (extents_[axis] != other.extents_[axis]) return false;
    return true;
  }

  std::string str() const {
    std::ostringstream out;
    out << *this;
    return out.str();
  }

  friend std::ostream& operator<<(std::ostream& out, const Shape& shape) {
    out << '[';
    for (int axis = 0; axis < shape.rank_; ++axis) out << (axis ? ", " : "") << shape[axis];
    return out << ']';
  }

 private:
  std::array<int, kMaxRank> extents_{};
  int rank_ = 0;
};

}  // namespace clr
