// The Backend concept: what a backend tag type must provide for the library to run on it.
//
// A backend is a tag type whose static member functions are the primitives: memory,
// GEMM, elementwise maps, reductions and the row kernels. Everything above (tensors,
// layers, losses) is written once against these names; `clr::cpu` (Eigen + OpenMP) is
// the reference and `clr::cuda` (cuBLAS + kernels) the accelerator. Primitives take raw
// pointers and do not check their arguments: the checked entry points are in ops.hpp.
#pragma once

#include <concepts>
#include <cstdint>
#include <string_view>

#include "clr/backend/contrastive_block.hpp"
#include "clr/backend/contrastive_rows.hpp"
#include "clr/backend/conv2d.hpp"
#include "clr/backend/im2col.hpp"
#include "clr/core/memory_stats.hpp"

namespace clr {

// One step of AdamW's coefficients (clr/optim/adamw.hpp), each computed in double and rounded
// to float once, as PyTorch rounds the Python floats that it passes to its kernels.
struct AdamWStep {
  float decay;  // 1 - lr weight_decay
  float beta1, one_minus_beta1, beta2, one_minus_beta2, eps;
  float step_size;              // lr / (1 - beta1^t)
  float bias_correction2_sqrt;  // sqrt(1 - beta2^t)
};

template <class B>
concept Backend = requires(std::int64_t n, void* dst, const void* src, float* y, const float* x,
                           int i, int* indices, float alpha, bool flag, const ContrastiveRows& rows,
                           const ContrastiveBlock& block, const ConvGeometry& conv,
                           const Conv2dCall& conv_call, const AdamWStep& adamw) {
  { B::name } -> std::convertible_to<std::string_view>;
  // memory, in bytes; copies name the side that is not the backend's
  { B::allocate(n) } -> std::same_as<void*>;
  B::deallocate(dst, n);
  B::copy(dst, src, n);
  B::copy_from_host(dst, src, n);
  B::copy_to_host(dst, src, n);
  B::synchronize();
  { B::memory() } -> std::same_as<MemoryCounter&>;
  // elementwise maps and reductions over n floats
  B::fill(y, n, alpha);
  B::scale(y, n, alpha);    // y *= alpha
  B::axpy(y, x, n, alpha);  // y += alpha x
  { B::sum(x, n) } -> std::same_as<double>;
  // C[m,n] = alpha op(A)[m,k] op(B)[k,n] + beta C, row-major with leading dimensions
  B::gemm(flag, flag, i, i, i, alpha, x, i, x, i, alpha, y, i);
  // row-wise kernels on [rows, cols] blocks with leading dimension ld
  B::softmax_rows(y, i, i, i, y);  // in place; log-sum-exp per row out (may be null)
  B::softmax_stats_rows(x, i, i, i, i, indices, y);  // argmax and entropy per row
  B::l2_normalize_rows(x, y, y, i, i);               // y = x / |x|, norms out
  B::l2_normalize_rows_backward(x, x, x, y, i, i);   // dx from y, dy, norms
  B::contrastive_rows(rows);
  B::contrastive_block_stats(block);  // the symmetric pass's two block kernels
  B::contrastive_block_gradient(block);
  // the layers': per-channel bias and sums of [batch, channels, spatial]; ReLU
  B::add_channel_bias(y, i, i, i, x);
  B::channel_sums(x, i, i, i, y, alpha);
  B::relu(x, y, n);
  B::add_relu(x, x, y, n);
  B::relu_backward(x, x, y, n);
  // convolution: its lowering to GEMM for one image (clr/backend/im2col.hpp) and the
  // batched forward and backward (clr/backend/conv2d.hpp)
  B::im2col(x, conv, y);
  B::col2im(x, conv, y);
  B::conv2d_forward(conv_call, y);
  B::conv2d_backward(conv_call, x, y, y);
  // BatchNorm and pooling over [batch, channels, spatial] / planes
  B::channel_moments(x, i, i, i, y, y);
  B::channel_sums_dot(x, x, i, i, i, x, x, y, y);
  B::channel_affine(x, x, i, i, i, x, x, x, x, x, y);
  B::channel_affine_relu(x, x, i, i, i, x, x, y);
  B::max_pool(x, i, i, i, i, i, i, y, indices);
  B::max_pool_backward(x, indices, i, i, i, y);
  B::plane_means(x, i, i, y);
  B::plane_means_backward(x, i, i, y);
  // the optimizers' (clr/optim/): |x + alpha y|^2 in double (y may be null), and one fused
  // pass per tensor of PyTorch's SGD, SimCLR's LARS and PyTorch's AdamW updates
  { B::squared_norm(x, x, n, alpha) } -> std::same_as<double>;
  B::sgd_update(y, x, y, n, alpha, alpha, alpha, alpha, flag, flag);
  B::lars_update(y, x, y, n, alpha, alpha, alpha, flag);
  B::adamw_update(y, x, y, y, n, adamw);
};

}  // namespace clr
