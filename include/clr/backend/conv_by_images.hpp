// The batched convolution primitives (contract in clr/backend/conv2d.hpp) written once
// against a backend's im2col, col2im and GEMM, one image at a time through a single column
// buffer. A backend whose GEMM is already parallel (cuBLAS) inherits them as they are.
#pragma once

#include <cstdint>

#include "clr/backend/conv2d.hpp"

namespace clr {

template <class B>
struct ConvByImages {
  static void conv2d_forward(const Conv2dCall& call, float* y) {
    const ConvGeometry& g = call.geometry;
    const int patch = g.patch_size(), positions = static_cast<int>(call.positions());
    float* columns = static_cast<float*>(B::allocate(column_bytes(call)));
    for (int n = 0; n < call.batch; ++n) {
      B::im2col(call.x + n * call.image_size(), g, columns);
      B::gemm(false, false, call.out_channels, positions, patch, 1.0f, call.weights, patch, columns,
              positions, 0.0f, y + n * call.output_size(), positions);
    }
    B::deallocate(columns, column_bytes(call));
  }

  static void conv2d_backward(const Conv2dCall& call, const float* dy, float* weight_grad,
                              float* dx) {
    const ConvGeometry& g = call.geometry;
    const int patch = g.patch_size(), positions = static_cast<int>(call.positions());
    float* columns = static_cast<float*>(B::allocate(column_bytes(call)));
    if (dx) B::fill(dx, call.batch * call.image_size(), 0.0f);
    for (int n = 0; n < call.batch; ++n) {
      const float* dy_n = dy + n * call.output_size();
      B::im2col(call.x + n * call.image_size(), g, columns);
      B::gemm(false, true, call.out_channels, patch, positions, 1.0f, dy_n, positions, columns,
              positions, 1.0f, weight_grad, patch);
      if (!dx) continue;
      B::gemm(true, false, patch, positions, call.out_channels, 1.0f, call.weights, patch, dy_n,
              positions, 0.0f, columns, positions);
      B::col2im(columns, g, dx + n * call.image_size());
    }
    B::deallocate(columns, column_bytes(call));
  }

 private:
  static std::int64_t column_bytes(const Conv2dCall& call) {
    return std::int64_t{call.geometry.patch_size()} * call.positions() * sizeof(float);
  }
};

}  // namespace clr
