// Host-visible declarations of the CUDA backend's kernel launchers. The definitions are
// in the *.cuh files, compiled once by nvcc through kernels.cu (the clr::cuda target adds
// it to its consumer); these declarations are plain C++, so g++ translation units call
// the kernels without seeing any CUDA syntax.
//
// Each launcher enqueues its kernels on `stream` and returns without waiting (sum waits,
// since it returns a value); it throws clr::Error when a launch is rejected. Arguments
// are not checked: the backend's callers (clr::ops, the losses) check them.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "clr/backend/contrastive_block.hpp"
#include "clr/backend/contrastive_rows.hpp"
#include "clr/backend/im2col.hpp"

namespace clr::cuda_impl::launch {

void fill(float* y, std::int64_t n, float value, cudaStream_t stream);
// c[r * ld + j] *= beta for r < rows, j < cols; beta == 0 writes zeros (C is not read),
// as GEMM's beta does.
void scale_matrix(float* c, int rows, int cols, int ld, float beta, cudaStream_t stream);
// Sum of x in double; waits for the stream.
double sum(const float* x, std::int64_t n, cudaStream_t stream);

void softmax_rows(float* x, int rows, int cols, int ld, float* log_sum_exp, cudaStream_t stream);
void softmax_stats_rows(const float* x, int rows, int cols, int row_ld, int col_stride, int* argmax,
                        float* entropy, cudaStream_t stream);
void l2_normalize_rows(const float* x, float* y, float* norms, int rows, int dim,
                       cudaStream_t stream);
void l2_normalize_rows_backward(const float* y, const float* dy, const float* norms, float* dx,
                                int rows, int dim, cudaStream_t stream);

void contrastive_rows(const ContrastiveRows& rows, cudaStream_t stream);
// The symmetric pass's statistics (the block's rows, then off the diagonal its columns: two
// launches) and its in-place H = G + G^T.
void contrastive_block_stats(const ContrastiveBlock& block, cudaStream_t stream);
void contrastive_block_gradient(const ContrastiveBlock& block, cudaStream_t stream);

// The layers': y[b, c, s] += bias[c]; out[c] = beta out[c] + sum over b, s of x[b, c, s];
// ReLU, of a sum (y = max(a + b, 0)), and its backward.
void add_channel_bias(float* y, int batch, int channels, int spatial, const float* bias,
                      cudaStream_t stream);
void channel_sums(const float* x, int batch, int channels, int spatial, float* out, float beta,
                  cudaStream_t stream);
void relu(const float* x, float* y, std::int64_t n, cudaStream_t stream);
void add_relu(const float* a, const float* b, float* y, std::int64_t n, cudaStream_t stream);
void relu_backward(const float* y, const float* dy, float* dx, std::int64_t n, cudaStream_t stream);

// The convolution's lowering of one image (contract in clr/backend/im2col.hpp): columns =
// im2col(x); dx += col2im(columns), without atomics, so the same bits on every run.
void im2col(const float* x, const ConvGeometry& g, float* columns, cudaStream_t stream);
void col2im(const float* columns, const ConvGeometry& g, float* dx, cudaStream_t stream);

// BatchNorm's and pooling's, over [batch, channels, spatial] tensors (semantics in
// clr::cpu_impl::NormPoolKernels): per-channel mean and biased variance, and the sums of a
// (gated) gradient and of its product with x, in double; y = a[c] g + b[c] z + c[c] (g = x,
// or x gated by z; z may be null, y may be x) and y = max(a[c] x + c[c], 0); max pooling with the
// winning index within each plane, and its backward dx[p, argmax] += dy by atomicAdd (the
// order of the adds to one input, under overlapping windows, may vary between runs); plane
// means and their backward dx = dy[p] / spatial.
void channel_moments(const float* x, int batch, int channels, int spatial, float* mean, float* var,
                     cudaStream_t stream);
void channel_sums_dot(const float* dy, const float* x, int batch, int channels, int spatial,
                      const float* gate_scale, const float* gate_shift, float* sums, float* dots,
                      cudaStream_t stream);
void channel_affine(const float* x, const float* z, int batch, int channels, int spatial,
                    const float* a, const float* b, const float* c, const float* gate_scale,
                    const float* gate_shift, float* y, cudaStream_t stream);
void channel_affine_relu(const float* x, const float* residual, int batch, int channels,
                         int spatial, const float* a, const float* c, float* y,
                         cudaStream_t stream);
void max_pool(const float* x, int planes, int height, int width, int kernel, int stride,
              int padding, float* y, int* argmax, cudaStream_t stream);
void max_pool_backward(const float* dy, const int* argmax, int planes, int in_size, int out_size,
                       float* dx, cudaStream_t stream);
void plane_means(const float* x, int planes, int spatial, float* y, cudaStream_t stream);
void plane_means_backward(const float* dy, int planes, int spatial, float* dx, cudaStream_t stream);

// The optimizers' (semantics in clr::cpu_impl::OptimKernels): |x + alpha y|^2 in double
// (waits for the stream; y may be null) and the fused SGD, LARS and AdamW updates. AdamW's
// coefficients are clr::AdamWStep's fields one by one: kernels.cu is not compiled as C++20,
// so it cannot include clr/core/backend.hpp.
double squared_norm(const float* x, const float* y, std::int64_t n, float alpha,
                    cudaStream_t stream);
void sgd_update(float* p, const float* g, float* buf, std::int64_t n, float lr, float weight_decay,
                float momentum, float dampening, bool nesterov, bool first_step,
                cudaStream_t stream);
void lars_update(float* p, const float* g, float* v, std::int64_t n, float scaled_lr,
                 float momentum, float weight_decay, bool nesterov, cudaStream_t stream);
void adamw_update(float* p, const float* g, float* m, float* v, std::int64_t n, float decay,
                  float beta1, float one_minus_beta1, float beta2, float one_minus_beta2, float eps,
                  float step_size, float bias_correction2_sqrt, cudaStream_t stream);

}  // namespace clr::cuda_impl::launch
