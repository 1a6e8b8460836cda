// The input side of t-SNE (van der Maaten 2014, "Accelerating t-SNE using tree-based
// algorithms", section 4.1): optional PCA to a few dozen dimensions, the exact k nearest
// neighbours of every point (k = 3·perplexity), per-point Gaussian bandwidths found by
// binary search so that each conditional distribution p_{j|i} has the requested
// perplexity, and the symmetric sparse P with p_ij = (p_{j|i} + p_{i|j}) / 2N.
//
// Distances are squared Euclidean, as in the t-SNE paper and scikit-learn (bhtsne uses
// unsquared ones, which changes the bandwidths but not the method).
#pragma once

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <utility>
#include <vector>

#include "clr/core/error.hpp"

namespace clr::viz {

using RowMatrixF = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// A sparse matrix in compressed rows: row i's entries are columns[offsets[i] ..
// offsets[i+1]), ascending, with their values.
struct SparseRows {
  std::vector<std::int64_t> offsets{0};
  std::vector<int> columns;
  std::vector<double> values;
  std::int64_t rows() const { return static_cast<std::int64_t>(offsets.size()) - 1; }
};

// Projects the rows of x [n, d] on their `dims` leading principal components (centred).
// Each component's sign is fixed (largest |coefficient| positive), so the result does not
// depend on the eigensolver's arbitrary signs.
inline RowMatrixF pca(const RowMatrixF& x, int dims) {
  require(dims >= 1 && dims <= x.cols(), "viz::pca: dims must be in [1, ", x.cols(), "], got ",
          dims);
  const Eigen::RowVectorXd mean = x.cast<double>().colwise().mean();
  const Eigen::MatrixXd centred = x.cast<double>().rowwise() - mean;
  const Eigen::MatrixXd covariance = centred.transpose() * centred;  // [d, d], unnormalised
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> solver(covariance);
  require(solver.info() == Eigen::Success, "viz::pca: the eigensolver did not converge");
  // Eigen sorts eigenvalues ascending: the leading components are the last columns.
  Eigen::MatrixXd basis = solver.eigenvectors().rightCols(dims).rowwise().reverse();
  for (int c = 0; c < dims; ++c) {
    Eigen::Index at = 0;
    basis.col(c).cwiseAbs().maxCoeff(&at);
    if (basis(at, c) < 0) basis.col(c) *= -1;
  }
  return (centred * basis).cast<float>();
}

struct Neighbors {
  int k = 0;
  std::vector<int> index;         // [n, k], nearest first
  std::vector<double> distance2;  // [n, k], squared Euclidean
};

// The exact k nearest neighbours of every row of x [n, d] (itself excluded), by blocks of
// |a|^2 + |b|^2 - 2 a.b through Eigen's GEMM. Ties go to the lower index, so the result is
// the same for any number of threads.
inline Neighbors exact_neighbors(const RowMatrixF& x, int k) {
  const auto n = static_cast<int>(x.rows());
  require(k >= 1 && k < n, "viz::exact_neighbors: k must be in [1, ", n - 1, "] for ", n,
          " points, got ", k);
  Neighbors result{k, std::vector<int>(static_cast<std::size_t>(n) * k),
                   std::vector<double>(static_cast<std::size_t>(n) * k)};
  const Eigen::VectorXf norms = x.rowwise().squaredNorm();
  constexpr int kBlock = 256;
  const int blocks = (n + kBlock - 1) / kBlock;
#pragma omp parallel for schedule(dynamic, 1)
  for (int b = 0; b < blocks; ++b) {
    const int begin = b * kBlock, rows = std::min(kBlock, n - begin);
    // [rows, n]; inside a parallel region Eigen's GEMM runs on this thread alone.
    const Eigen::MatrixXf dots = x.middleRows(begin, rows) * x.transpose();
    std::vector<std::pair<float, int>> candidates(n);
    for (int r = 0; r < rows; ++r) {
      const int i = begin + r;
      for (int j = 0; j < n; ++j)
        candidates[j] = {std::max(0.0f, norms[i] + norms[j] - 2 * dots(r, j)), j};
      candidates[i].first = std::numeric_limits<float>::infinity();  // not its own neighbour
      std::partial_sort(candidates.begin(), candidates.begin() + k, candidates.end());
      for (int m = 0; m < k; ++m) {
        const int j = candidates[m].second;
        result.index[static_cast<std::size_t>(i) * k + m] = j;
        // Recomputed directly: the GEMM form loses digits for near points.
        result.distance2[static_cast<std::size_t>(i) * k + m] =
            (x.row(i) - x.row(j)).cast<double>().squaredNorm();
      }
    }
  }
  return result;
}

// p_{j|i} over each point's neighbours, each row with perplexity 2^H = `perplexity` (H the
// Shannon entropy in bits), found by bisection on the Gaussian's precision beta = 1/2σ².
inline SparseRows conditional_affinities(const Neighbors& neighbors, double perplexity) {
  const int k = neighbors.k;
  const auto n = static_cast<std::int64_t>(neighbors.index.size() / std::max(1, k));
  require(perplexity > 1 && perplexity <= k, "viz::conditional_affinities: perplexity ", perplexity,
          " must be in (1, k = ", k, "]");
  // Built whole rather than resized from the default {0}: GCC 12 misreads that resize as
  // writing past the one-element array (-Warray-bounds).
  SparseRows p{std::vector<std::int64_t>(n + 1), std::vector<int>(static_cast<std::size_t>(n) * k),
               std::vector<double>(static_cast<std::size_t>(n) * k)};
  const double target = std::log(perplexity);  // in nats
#pragma omp parallel for schedule(static)
  for (std::int64_t i = 0; i < n; ++i) {
    const double* d = &neighbors.distance2[i * k];
    double* row = &p.values[i * k];
    // Distances relative to the nearest: exp() of the shifted values cannot underflow to
    // an all-zero row however far the point is from everything.
    const double nearest = d[0];
    double beta = 1.0, low = 0.0, high = std::numeric_limits<double>::infinity();
    const double scale = *std::max_element(d, d + k) - nearest;
    if (scale > 0) beta = 1.0 / scale;
    for (int step = 0; step < 200; ++step) {
      double sum = 0.0, weighted = 0.0;
      for (int m = 0; m < k; ++m) {
        row[m] = std::exp(-beta * (d[m] - nearest));
        sum += row[m];
        weighted += row[m] * (d[m] - nearest);
      }
      const double entropy = std::log(sum) + beta * weighted / sum;  // nats
      for (int m = 0; m < k; ++m) row[m] /= sum;
      if (std::fabs(entropy - target) < 1e-10) break;
      if (entropy > target) {  // too flat: sharpen
        low = beta;
        beta = std::isinf(high) ? beta * 2 : (beta + high) / 2;
      } else {
        high = beta;
        beta = (beta + low) / 2;
      }
    }
    // Ascending columns, as SparseRows promises.
    std::vector<std::pair<int, double>> entries(k);
    for (int m = 0; m < k; ++m) entries[m] = {neighbors.index[i * k + m], row[m]};
    std::sort(entries.begin(), entries.end());
    for (int m = 0; m < k; ++m) {
      p.columns[i * k + m] = entries[m].first;
      row[m] = entries[m].second;
    }
  }
  for (std::int64_t i = 0; i <= n; ++i) p.offsets[i] = i * k;
  return p;
}

// P = (P_cond + P_condᵀ) / 2N: symmetric, summing to 1.
inline SparseRows symmetrize(const SparseRows& conditional) {
  const std::int64_t n = conditional.rows();
  std::vector<std::vector<std::pair<int, double>>> rows(n);
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t e = conditional.offsets[i]; e < conditional.offsets[i + 1]; ++e) {
      const int j = conditional.columns[e];
      const double v = conditional.values[e] / (2.0 * n);
      rows[i].emplace_back(j, v);
      rows[j].emplace_back(static_cast<int>(i), v);
    }
  SparseRows p;
  p.offsets.assign(1, 0);
  for (auto& row : rows) {
    std::sort(row.begin(), row.end());
    for (std::size_t e = 0; e < row.size(); ++e) {
      if (e > 0 && row[e].first == row[e - 1].first) {
        p.values.back() += row[e].second;  // j among i's neighbours and i among j's
      } else {
        p.columns.push_back(row[e].first);
        p.values.push_back(row[e].second);
      }
    }
    p.offsets.push_back(static_cast<std::int64_t>(p.columns.size()));
  }
  return p;
}

}  // namespace clr::viz
