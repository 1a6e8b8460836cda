// Tensor<B>: float32, contiguous, row-major (NCHW for images), rank 1 to 4, in backend B's
// memory.
//
// Copies share storage, as in PyTorch: `reshape` and copying a Tensor make views of the
// same memory; `clone` makes an independent copy; data moves between backends only
// through `to<B2>()`.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <type_traits>
#include <vector>

#include "clr/core/backend.hpp"
#include "clr/core/error.hpp"
#include "clr/core/matrix_ref.hpp"
#include "clr/core/shape.hpp"

namespace clr {

template <Backend B>
class Tensor {
 public:
  Tensor() = default;
  // A zero-filled tensor.
  explicit Tensor(Shape shape) : Tensor(uninitialized(shape)) {
    if (numel() > 0) B::fill(data_, numel(), 0.0f);
  }

  // Memory the caller will overwrite whole before reading it.
  static Tensor uninitialized(Shape shape) {
    Tensor tensor;
    tensor.shape_ = shape;
    const std::int64_t bytes = shape.numel() * static_cast<std::int64_t>(sizeof(float));
    if (bytes > 0) {
      float* data = static_cast<float*>(B::allocate(bytes));
      tensor.storage_ =
          std::shared_ptr<float>(data, [bytes](float* p) { B::deallocate(p, bytes); });
      tensor.data_ = data;
    }
    return tensor;
  }

  // Copies host values into a new tensor of the given shape.
  static Tensor from(std::span<const float> values, Shape shape) {
    require(static_cast<std::int64_t>(values.size()) == shape.numel(),
            "Tensor::from: ", values.size(), " values given for shape ", shape, ", which holds ",
            shape.numel());
    Tensor tensor = uninitialized(shape);
    if (!values.empty()) B::copy_from_host(tensor.data_, values.data(), values.size_bytes());
    return tensor;
  }

  std::vector<float> to_vector() const {
    std::vector<float> values(numel());
    if (numel() > 0) B::copy_to_host(values.data(), data_, numel() * sizeof(float));
    return values;
  }

  template <Backend B2>
  Tensor<B2> to() const {
    if constexpr (std::is_same_v<B, B2>) {
      return *this;
    } else {
      return Tensor<B2>::from(to_vector(), shape_);
    }
  }

  Tensor clone() const {
    Tensor copy = uninitialized(shape_);
    if (numel() > 0) B::copy(copy.data_, data_, numel() * sizeof(float));
    return copy;
  }

  // A view with another shape of the same number of elements; no copy.
  Tensor reshape(Shape shape) const {
    require(shape.numel() == numel(), "Tensor::reshape: cannot view ", shape_, " (", numel(),
            " elements) as ", shape, " (", shape.numel(), " elements)");
    Tensor view = *this;
    view.shape_ = shape;
    return view;
  }

  const Shape& shape() const { return shape_; }
  int rank() const { return shape_.rank(); }
  int dim(int axis) const { return shape_[axis]; }
  std::int64_t numel() const { return shape_.numel(); }
  bool empty() const { return numel() == 0; }
  float* data() { return data_; }
  const float* data() const { return data_; }

  // The tensor as a matrix [shape[0], rest]: what GEMM and the row kernels take.
  MatrixRef matrix() {
    const int cols = static_cast<int>(shape_.row_size());
    return {data_, shape_.rank() ? shape_[0] : 0, cols, cols};
  }
  ConstMatrixRef matrix() const {
    const int cols = static_cast<int>(shape_.row_size());
    return {data_, shape_.rank() ? shape_[0] : 0, cols, cols, false};
  }

 private:
  std::shared_ptr<float> storage_;
  float* data_ = nullptr;
  Shape shape_;
};

}  // namespace clr
