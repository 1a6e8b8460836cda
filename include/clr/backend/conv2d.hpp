// The contract of the batched convolution primitives, shared by every backend:
//   conv2d_forward(call, y):            y_n = W im2col(x_n)                   for each image n
//   conv2d_backward(call, dy, dW, dx):  dW += sum_n dy_n im2col(x_n)^T,  dx_n = col2im(W^T dy_n)
// with x [batch, channels, height, width], W [out_channels, channels·kh·kw] (PyTorch's
// [out, in, kh, kw]), y and dy [batch, out_channels, out_h, out_w] (im2col and ConvGeometry
// in clr/backend/im2col.hpp). dx is overwritten, and skipped when null (a network's first
// layer needs no input gradient).
//
// A backend decides how to spread the batch: the CPU runs whole images on separate threads
// (one parallel region per layer call, not two per image), a GPU loops over images with its
// own GEMM (conv_by_images.hpp).
#pragma once

#include "clr/backend/im2col.hpp"

namespace clr {

struct Conv2dCall {
  ConvGeometry geometry;
  int batch = 0;
  int out_channels = 0;
  const float* x = nullptr;        // [batch, channels, height, width]
  const float* weights = nullptr;  // [out_channels, geometry.patch_size()]

  long image_size() const {
    return static_cast<long>(geometry.channels) * geometry.height * geometry.width;
  }
  long positions() const { return static_cast<long>(geometry.out_h()) * geometry.out_w(); }
  long output_size() const { return out_channels * positions(); }
};

}  // namespace clr
