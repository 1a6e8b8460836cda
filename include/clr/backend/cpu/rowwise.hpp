// The CPU backend's row-wise kernels: softmax, softmax statistics and L2 normalisation of
// the rows of a [rows, cols] block. Rows are independent, so they are spread over OpenMP
// threads; within a row Eigen's array expressions vectorise exp and log.
#pragma once

#include <Eigen/Core>
#include <cmath>
#include <limits>
#include <vector>

namespace clr::cpu_impl {

struct RowKernels {
  using Row = Eigen::Map<Eigen::ArrayXf>;
  using ConstRow = Eigen::Map<const Eigen::ArrayXf>;

  // x <- softmax(x) per row; log_sum_exp[i] = log sum_j exp(x_ij) when not null.
  static void softmax_rows(float* x, int rows, int cols, int ld, float* log_sum_exp) {
#pragma omp parallel for schedule(static)
    for (int i = 0; i < rows; ++i) {
      Row row(x + static_cast<long>(i) * ld, cols);
      const float max = row.maxCoeff();
      row = (row - max).exp();
      const float total = row.sum();
      row /= total;
      if (log_sum_exp) log_sum_exp[i] = max + std::log(total);
    }
  }

  // Per row of x[i * row_ld + j * col_stride], j < cols: the argmax and the entropy of the
  // softmax, -sum p log(p + 1e-8) as google-research/simclr's metric writes it.
  static void softmax_stats_rows(const float* x, int rows, int cols, int row_ld, int col_stride,
                                 int* argmax, float* entropy) {
#pragma omp parallel
    {
      std::vector<float> gathered(cols);  // strided columns made contiguous for vector exp/log
#pragma omp for schedule(static)
      for (int i = 0; i < rows; ++i) {
        const float* source = x + static_cast<long>(i) * row_ld;
        for (int j = 0; j < cols; ++j) gathered[j] = source[static_cast<long>(j) * col_stride];
        Row row(gathered.data(), cols);
        Eigen::Index best = 0;
        const float max = row.maxCoeff(&best);
        row = (row - max).exp();
        row /= row.sum();
        argmax[i] = static_cast<int>(best);
        entropy[i] = -(row * (row + 1e-8f).log()).sum();
      }
    }
  }

  // y = x / max(|x|, 1e-6) per row, as tf.math.l2_normalize (rsqrt of max(sum x^2, 1e-12)).
  static void l2_normalize_rows(const float* x, float* y, float* norms, int rows, int dim) {
#pragma omp parallel for schedule(static)
    for (int i = 0; i < rows; ++i) {
      ConstRow in(x + static_cast<long>(i) * dim, dim);
      const float norm = std::sqrt(std::max(in.square().sum(), 1e-12f));
      Row(y + static_cast<long>(i) * dim, dim) = in / norm;
      norms[i] = norm;
    }
  }

  // dx = (dy - y <y, dy>) / norm; where the norm was clamped the map is x / 1e-6, linear.
  static void l2_normalize_rows_backward(const float* y, const float* dy, const float* norms,
                                         float* dx, int rows, int dim) {
#pragma omp parallel for schedule(static)
    for (int i = 0; i < rows; ++i) {
      ConstRow out(y + static_cast<long>(i) * dim, dim);
      ConstRow grad_out(dy + static_cast<long>(i) * dim, dim);
      Row grad_in(dx + static_cast<long>(i) * dim, dim);
      const float norm = norms[i];
      if (norm > 1e-6f) {
        grad_in = (grad_out - out * (out * grad_out).sum()) / norm;
      } else {
        grad_in = grad_out / norm;
      }
    }
  }
};

}  // namespace clr::cpu_impl
