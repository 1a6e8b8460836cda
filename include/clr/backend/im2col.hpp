// The contract of im2col / col2im, shared by every backend: the lowering of a 2-D
// convolution of one image to a GEMM.
//
// For one image x [channels, height, width] and a kernel [kernel_h, kernel_w] with
// padding and stride, out_h = (height + 2 pad_h - kernel_h) / stride_h + 1 (likewise
// out_w), and
//   columns[(c * kernel_h + ki) * kernel_w + kj][oh * out_w + ow]
//     = x[c][oh * stride_h - pad_h + ki][ow * stride_w - pad_w + kj]   (0 outside x),
// a [channels * kernel_h * kernel_w, out_h * out_w] row-major matrix, so that a
// convolution with weights W [out_channels, channels * kernel_h * kernel_w] (PyTorch's
// [out, in, kh, kw]) is y = W columns. col2im is its adjoint: it adds every column entry
// back onto the input position it was read from (dx += ...).
#pragma once

namespace clr {

struct ConvGeometry {
  int channels = 0;
  int height = 0;
  int width = 0;
  int kernel_h = 1;
  int kernel_w = 1;
  int pad_h = 0;
  int pad_w = 0;
  int stride_h = 1;
  int stride_w = 1;

  int out_h() const { return (height + 2 * pad_h - kernel_h) / stride_h + 1; }
  int out_w() const { return (width + 2 * pad_w - kernel_w) / stride_w + 1; }
  int patch_size() const { return channels * kernel_h * kernel_w; }
};

}  // namespace clr
