// Barnes-Hut t-SNE (van der Maaten 2014) of a float matrix [N, D]: 2-D coordinates whose
// neighbourhoods mirror those of the rows — the map behind SupContrast's t-SNE figures.
//
//   viz::TsneSettings settings;              // perplexity 30, theta 0.5, 1000 iterations
//   std::vector<viz::Point> map = viz::tsne(features, settings);   // features: [N, D]
//
// The recipe is bhtsne's (van der Maaten's reference code) with scikit-learn's defaults:
// optional PCA to 50 dimensions, exact kNN with k = 3·perplexity, P calibrated per point
// (affinities.hpp); the map starts at N(0, 1e-4²), early exaggeration 12 for 250
// iterations with momentum 0.5, then momentum 0.8; per-coordinate gains (delta-bar-delta:
// +0.2 where the step reverses, ×0.8 where it continues, at least 0.01); the map re-centred
// every step. The learning rate defaults to scikit-learn's "auto" (≥ 1.2),
// max(N / early_exaggeration / 4, 50), from Belkina et al. 2019 (N / 12, for a gradient
// without the factor 4 that this one, like scikit-learn's, includes).
//
// Deterministic for a given seed, whatever the number of OpenMP threads: every per-point
// sum is formed by one thread in a fixed order and the totals are added serially.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <vector>

#include "clr/core/error.hpp"
#include "clr/core/rng.hpp"
#include "clr/viz/affinities.hpp"
#include "clr/viz/canvas.hpp"
#include "clr/viz/quadtree.hpp"

namespace clr::viz {

struct TsneSettings {
  double perplexity = 30.0;
  double theta = 0.5;  // Barnes-Hut accuracy; 0 = exact (O(N²))
  int iterations = 1000;
  double early_exaggeration = 12.0;
  int exaggeration_iterations = 250;
  double momentum = 0.5, final_momentum = 0.8;  // switched with the exaggeration
  double learning_rate = 0.0;                   // 0: max(N / early_exaggeration / 4, 50)
  int pca_dims = 50;                            // 0, or >= D: no PCA
  std::uint64_t seed = 0;
  // Called every 50 iterations and after the last with (iteration, KL divergence of the
  // current map); nothing when empty. The KL costs about one gradient evaluation.
  std::function<void(int, double)> progress{};
};

// ∂KL(P‖Q)/∂y_i = 4 Σ_j (α p_ij − q_ij) w_ij (y_i − y_j), w_ij = 1/(1 + |y_i − y_j|²),
// q_ij = w_ij / Z, with α the exaggeration: the attraction over P's nonzeros exactly, the
// repulsion through the quadtree. Returns Z.
inline double tsne_gradient(const SparseRows& p, const std::vector<Point>& y, double theta,
                            double exaggeration, std::vector<Point>& gradient) {
  const auto n = static_cast<std::int64_t>(y.size());
  require(p.rows() == n, "viz::tsne_gradient: P has ", p.rows(), " rows for ", n, " points");
  gradient.assign(n, Point{});
  const QuadTree tree(y);
  std::vector<double> z_parts(n);
  std::vector<Point> repulsion(n);
#pragma omp parallel for schedule(dynamic, 64)
  for (std::int64_t i = 0; i < n; ++i) {
    double ax = 0, ay = 0;
    for (std::int64_t e = p.offsets[i]; e < p.offsets[i + 1]; ++e) {
      const Point& yj = y[p.columns[e]];
      const double dx = y[i].x - yj.x, dy = y[i].y - yj.y;
      const double pw = p.values[e] / (1.0 + dx * dx + dy * dy);
      ax += pw * dx, ay += pw * dy;
    }
    gradient[i] = {ax, ay};
    double rx = 0, ry = 0;
    z_parts[i] = tree.repulsion(static_cast<int>(i), theta, rx, ry);
    repulsion[i] = {rx, ry};
  }
  double z = 0;
  for (double part : z_parts) z += part;
  z = std::max(z, 1e-300);
  for (std::int64_t i = 0; i < n; ++i)
    gradient[i] = {4 * (exaggeration * gradient[i].x - repulsion[i].x / z),
                   4 * (exaggeration * gradient[i].y - repulsion[i].y / z)};
  return z;
}

// KL(P‖Q) = Σ p_ij log(p_ij / q_ij) over P's nonzeros, Z from the quadtree.
inline double tsne_kl_divergence(const SparseRows& p, const std::vector<Point>& y, double theta) {
  const auto n = static_cast<std::int64_t>(y.size());
  const QuadTree tree(y);
  std::vector<double> z_parts(n), kl_parts(n);
#pragma omp parallel for schedule(dynamic, 64)
  for (std::int64_t i = 0; i < n; ++i) {
    double fx = 0, fy = 0, kl = 0;
    z_parts[i] = tree.repulsion(static_cast<int>(i), theta, fx, fy);
    for (std::int64_t e = p.offsets[i]; e < p.offsets[i + 1]; ++e) {
      const Point& yj = y[p.columns[e]];
      const double dx = y[i].x - yj.x, dy = y[i].y - yj.y;
      if (p.values[e] > 0) kl += p.values[e] * std::log(p.values[e] * (1 + dx * dx + dy * dy));
    }
    kl_parts[i] = kl;
  }
  double z = 0, kl = 0;
  for (std::int64_t i = 0; i < n; ++i) z += z_parts[i], kl += kl_parts[i];
  return kl + std::log(z);  // Σ p = 1, so Σ p log(Z) = log Z
}

// The joint affinities P of the rows of x [N, D], as tsne() computes them.
inline SparseRows tsne_affinities(const RowMatrixF& x, const TsneSettings& settings) {
  const auto n = static_cast<int>(x.rows());
  const int k = std::min(n - 1, static_cast<int>(3 * settings.perplexity));
  require(n >= 4 && settings.perplexity > 1 && settings.perplexity <= k, "viz::tsne: perplexity ",
          settings.perplexity, " needs more than 3x as many points; got ", n,
          " points (use a perplexity below ", std::max(1, (n - 1) / 3), ")");
  for (Eigen::Index i = 0; i < x.size(); ++i)
    require(std::isfinite(x.data()[i]), "viz::tsne: the input holds a non-finite value at row ",
            i / std::max<Eigen::Index>(1, x.cols()), ", column ",
            i % std::max<Eigen::Index>(1, x.cols()));
  const bool reduce = settings.pca_dims > 0 && settings.pca_dims < x.cols();
  const Neighbors neighbors = exact_neighbors(reduce ? pca(x, settings.pca_dims) : x, k);
  return symmetrize(conditional_affinities(neighbors, settings.perplexity));
}

// Runs the optimisation from the affinities P (N = P's rows).
inline std::vector<Point> tsne_embed(const SparseRows& p, const TsneSettings& settings) {
  const std::int64_t n = p.rows();
  require(settings.iterations >= 1 && settings.theta >= 0 && settings.early_exaggeration >= 1 &&
              settings.exaggeration_iterations >= 0 && settings.learning_rate >= 0,
          "viz::tsne: iterations >= 1, theta >= 0, early_exaggeration >= 1 and learning_rate "
          ">= 0 expected, got ",
          settings.iterations, ", ", settings.theta, ", ", settings.early_exaggeration, ", ",
          settings.learning_rate);
  const double learning_rate =
      settings.learning_rate > 0
          ? settings.learning_rate
          : std::max(static_cast<double>(n) / settings.early_exaggeration / 4, 50.0);
  Rng rng(settings.seed);
  std::vector<Point> y(n), update(n), gains(n, Point{1, 1}), gradient;
  for (Point& yi : y) {
    yi.x = 1e-4 * rng.normal();
    yi.y = 1e-4 * rng.normal();
  }
  const auto step = [&](double& coordinate, double& velocity, double& gain, double g,
                        double momentum) {
    gain = velocity * g < 0 ? gain + 0.2 : gain * 0.8;  // delta-bar-delta, as scikit-learn
    gain = std::max(gain, 0.01);
    velocity = momentum * velocity - learning_rate * gain * g;
    coordinate += velocity;
  };
  for (int it = 0; it < settings.iterations; ++it) {
    const bool early = it < settings.exaggeration_iterations;
    const double momentum = early ? settings.momentum : settings.final_momentum;
    tsne_gradient(p, y, settings.theta, early ? settings.early_exaggeration : 1.0, gradient);
    double mx = 0, my = 0;
    for (std::int64_t i = 0; i < n; ++i) {
      step(y[i].x, update[i].x, gains[i].x, gradient[i].x, momentum);
      step(y[i].y, update[i].y, gains[i].y, gradient[i].y, momentum);
      mx += y[i].x, my += y[i].y;
    }
    mx /= n, my /= n;
    for (Point& yi : y) yi.x -= mx, yi.y -= my;
    if (settings.progress && ((it + 1) % 50 == 0 || it + 1 == settings.iterations))
      settings.progress(it + 1, tsne_kl_divergence(p, y, settings.theta));
  }
  return y;
}

// t-SNE of the rows of x [N, D].
inline std::vector<Point> tsne(const RowMatrixF& x, const TsneSettings& settings = {}) {
  return tsne_embed(tsne_affinities(x, settings), settings);
}

}  // namespace clr::viz
