// t-SNE: the calibrated affinities have the requested perplexity, the Barnes-Hut gradient
// matches an independent O(N²) gradient (and that one the finite differences of the KL
// divergence), well-separated clusters stay separated in the map, and a seed fixes the map.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "clr/core/rng.hpp"
#include "clr/viz/tsne.hpp"

namespace {

using clr::viz::Point;
using clr::viz::RowMatrixF;
using clr::viz::SparseRows;

// `clusters` Gaussian blobs of `per` points in `dim` dimensions, centres 8σ·√2 apart or more.
RowMatrixF blobs(int clusters, int per, int dim, std::uint64_t seed, std::vector<int>& labels) {
  clr::Rng rng(seed);
  RowMatrixF x(clusters * per, dim);
  labels.clear();
  for (int c = 0; c < clusters; ++c)
    for (int i = 0; i < per; ++i) {
      for (int j = 0; j < dim; ++j) x(c * per + i, j) = rng.normal() + (j == c ? 12.0f : 0.0f);
      labels.push_back(c);
    }
  return x;
}

// Fraction of each point's k nearest map neighbours that share its label, averaged.
double knn_purity(const std::vector<Point>& y, const std::vector<int>& labels, int k) {
  const auto n = static_cast<int>(y.size());
  double total = 0;
  std::vector<std::pair<double, int>> d(n);
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < n; ++j)
      d[j] = {j == i ? INFINITY : std::hypot(y[i].x - y[j].x, y[i].y - y[j].y), j};
    std::partial_sort(d.begin(), d.begin() + k, d.end());
    int same = 0;
    for (int m = 0; m < k; ++m) same += labels[d[m].second] == labels[i];
    total += static_cast<double>(same) / k;
  }
  return total / n;
}

// Dense P from the sparse one, for the reference gradient.
std::vector<double> dense(const SparseRows& p) {
  const auto n = p.rows();
  std::vector<double> d(n * n, 0.0);
  for (std::int64_t i = 0; i < n; ++i)
    for (auto e = p.offsets[i]; e < p.offsets[i + 1]; ++e) d[i * n + p.columns[e]] = p.values[e];
  return d;
}

// The textbook gradient, every pair summed directly (van der Maaten & Hinton 2008, eq. 5).
std::vector<Point> exact_gradient(const std::vector<double>& p, const std::vector<Point>& y) {
  const auto n = static_cast<std::int64_t>(y.size());
  double z = 0;
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t j = 0; j < n; ++j)
      if (i != j) z += 1 / (1 + std::pow(y[i].x - y[j].x, 2) + std::pow(y[i].y - y[j].y, 2));
  std::vector<Point> g(n);
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t j = 0; j < n; ++j) {
      if (i == j) continue;
      const double dx = y[i].x - y[j].x, dy = y[i].y - y[j].y, w = 1 / (1 + dx * dx + dy * dy);
      g[i].x += 4 * (p[i * n + j] - w / z) * w * dx;
      g[i].y += 4 * (p[i * n + j] - w / z) * w * dy;
    }
  return g;
}

double exact_kl(const std::vector<double>& p, const std::vector<Point>& y) {
  const auto n = static_cast<std::int64_t>(y.size());
  double z = 0, kl = 0;
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t j = 0; j < n; ++j)
      if (i != j) z += 1 / (1 + std::pow(y[i].x - y[j].x, 2) + std::pow(y[i].y - y[j].y, 2));
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t j = 0; j < n; ++j) {
      if (i == j || p[i * n + j] == 0) continue;
      const double w = 1 / (1 + std::pow(y[i].x - y[j].x, 2) + std::pow(y[i].y - y[j].y, 2));
      kl += p[i * n + j] * std::log(p[i * n + j] / (w / z));
    }
  return kl;
}

std::vector<Point> random_map(int n, double spread, std::uint64_t seed) {
  clr::Rng rng(seed);
  std::vector<Point> y(n);
  for (auto& p : y) p = {spread * rng.normal(), spread * rng.normal()};
  return y;
}

double relative_error(const std::vector<Point>& a, const std::vector<Point>& b) {
  double diff = 0, norm = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    diff += std::pow(a[i].x - b[i].x, 2) + std::pow(a[i].y - b[i].y, 2);
    norm += b[i].x * b[i].x + b[i].y * b[i].y;
  }
  return std::sqrt(diff / norm);
}

}  // namespace

TEST_CASE("tsne: each conditional row has the requested perplexity") {
  std::vector<int> labels;
  const RowMatrixF x = blobs(4, 60, 10, 1, labels);
  for (double perplexity : {5.0, 30.0}) {
    const auto neighbors = clr::viz::exact_neighbors(x, static_cast<int>(3 * perplexity));
    const SparseRows p = clr::viz::conditional_affinities(neighbors, perplexity);
    for (std::int64_t i = 0; i < p.rows(); ++i) {
      double sum = 0, entropy_bits = 0;
      for (auto e = p.offsets[i]; e < p.offsets[i + 1]; ++e) {
        sum += p.values[e];
        if (p.values[e] > 0) entropy_bits -= p.values[e] * std::log2(p.values[e]);
      }
      CHECK(sum == doctest::Approx(1.0).epsilon(1e-12));
      CHECK(std::fabs(entropy_bits - std::log2(perplexity)) < 1e-4);
    }
  }
}

TEST_CASE("tsne: exact neighbours agree with a brute-force search, P is symmetric and sums to 1") {
  std::vector<int> labels;
  const RowMatrixF x = blobs(3, 40, 6, 2, labels);
  const auto neighbors = clr::viz::exact_neighbors(x, 9);
  for (int i = 0; i < x.rows(); i += 7) {
    std::vector<std::pair<double, int>> d;
    for (int j = 0; j < x.rows(); ++j)
      if (j != i) d.push_back({(x.row(i) - x.row(j)).cast<double>().squaredNorm(), j});
    std::sort(d.begin(), d.end());
    for (int m = 0; m < 9; ++m) {
      CHECK(neighbors.index[i * 9 + m] == d[m].second);
      CHECK(neighbors.distance2[i * 9 + m] == doctest::Approx(d[m].first).epsilon(1e-6));
    }
  }
  const SparseRows p = clr::viz::symmetrize(clr::viz::conditional_affinities(neighbors, 3.0));
  const std::vector<double> d = dense(p);
  const auto n = p.rows();
  double total = 0;
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t j = 0; j < n; ++j) {
      total += d[i * n + j];
      CHECK(d[i * n + j] == d[j * n + i]);
    }
  CHECK(total == doctest::Approx(1.0).epsilon(1e-12));
}

TEST_CASE("tsne: the O(N²) reference gradient is the derivative of the KL divergence") {
  std::vector<int> labels;
  const RowMatrixF x = blobs(3, 20, 5, 3, labels);
  const std::vector<double> p = dense(clr::viz::tsne_affinities(x, {.perplexity = 8}));
  std::vector<Point> y = random_map(60, 1.0, 4);
  const std::vector<Point> g = exact_gradient(p, y);
  const double h = 1e-6;
  for (int i : {0, 17, 59}) {
    for (int axis = 0; axis < 2; ++axis) {
      double& c = axis ? y[i].y : y[i].x;
      const double keep = c;
      c = keep + h;
      const double up = exact_kl(p, y);
      c = keep - h;
      const double down = exact_kl(p, y);
      c = keep;
      CHECK((up - down) / (2 * h) == doctest::Approx(axis ? g[i].y : g[i].x).epsilon(1e-5));
    }
  }
}

TEST_CASE("tsne: Barnes-Hut gradient, theta 0 exact, theta 0.5 within a few percent") {
  std::vector<int> labels;
  const RowMatrixF x = blobs(5, 80, 12, 5, labels);
  const SparseRows p = clr::viz::tsne_affinities(x, {.perplexity = 20});
  const std::vector<double> pd = dense(p);
  // A spread-out map (as after early exaggeration), and one with coincident points.
  std::vector<Point> y = random_map(400, 5.0, 6);
  std::vector<Point> g;
  clr::viz::tsne_gradient(p, y, 0.0, 1.0, g);
  const std::vector<Point> reference = exact_gradient(pd, y);
  for (std::size_t i = 0; i < y.size(); ++i) {
    CHECK(g[i].x == doctest::Approx(reference[i].x).epsilon(1e-6).scale(1e-12));
    CHECK(g[i].y == doctest::Approx(reference[i].y).epsilon(1e-6).scale(1e-12));
  }
  clr::viz::tsne_gradient(p, y, 0.5, 1.0, g);
  const double error = relative_error(g, reference);
  CHECK(error < 0.05);
  CHECK(error > 0.0);  // the approximation is really taken
  y[3] = y[2], y[7] = y[2];
  clr::viz::tsne_gradient(p, y, 0.0, 1.0, g);
  CHECK(relative_error(g, exact_gradient(pd, y)) < 1e-9);
  // KL through the tree equals the direct sum when theta = 0.
  CHECK(clr::viz::tsne_kl_divergence(p, y, 0.0) == doctest::Approx(exact_kl(pd, y)).epsilon(1e-9));
}

TEST_CASE("tsne: well-separated clusters stay separated; random points do not look clustered") {
  std::vector<int> labels;
  const RowMatrixF x = blobs(10, 100, 50, 7, labels);
  std::vector<double> kl;
  clr::viz::TsneSettings settings;
  settings.progress = [&kl](int, double value) { kl.push_back(value); };
  const std::vector<Point> map = clr::viz::tsne(x, settings);
  REQUIRE(map.size() == 1000);
  for (const Point& p : map) REQUIRE((std::isfinite(p.x) && std::isfinite(p.y)));
  CHECK(knn_purity(map, labels, 10) >= 0.95);
  CHECK(knn_purity(random_map(1000, 1.0, 8), labels, 10) < 0.3);  // the control
  REQUIRE(kl.size() == 20);
  CHECK(kl.back() < kl[5]);  // the optimisation lowers the divergence after exaggeration
}

TEST_CASE("tsne: the same seed gives the same map, another seed another one") {
  std::vector<int> labels;
  const RowMatrixF x = blobs(3, 50, 8, 9, labels);
  clr::viz::TsneSettings settings{.perplexity = 10, .iterations = 300, .seed = 42};
  const auto a = clr::viz::tsne(x, settings), b = clr::viz::tsne(x, settings);
  settings.seed = 43;
  const auto c = clr::viz::tsne(x, settings);
  bool same = true, differs = false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    same = same && a[i].x == b[i].x && a[i].y == b[i].y;
    differs = differs || a[i].x != c[i].x;
  }
  CHECK(same);
  CHECK(differs);
}

TEST_CASE("tsne: PCA keeps the leading directions, bad input is a clr::Error") {
  clr::Rng rng(10);
  RowMatrixF x(200, 5);
  for (int i = 0; i < 200; ++i)
    for (int j = 0; j < 5; ++j) x(i, j) = rng.normal() * (j == 3 ? 10.0f : j == 1 ? 3.0f : 0.1f);
  const RowMatrixF z = clr::viz::pca(x, 2);
  // Component 1 is coordinate 3 (variance 100), component 2 coordinate 1 (variance 9).
  const Eigen::VectorXf c3 = x.col(3).array() - x.col(3).mean();
  const Eigen::VectorXf c1 = x.col(1).array() - x.col(1).mean();
  CHECK(std::fabs(z.col(0).dot(c3)) / (z.col(0).norm() * c3.norm()) > 0.999);
  CHECK(std::fabs(z.col(1).dot(c1)) / (z.col(1).norm() * c1.norm()) > 0.99);
  CHECK_THROWS_AS(clr::viz::tsne(RowMatrixF::Zero(20, 3)), clr::Error);  // perplexity 30 > 19/3
  RowMatrixF bad = x;
  bad(5, 2) = NAN;
  CHECK_THROWS_WITH_AS(clr::viz::tsne(bad), doctest::Contains("row 5, column 2"), clr::Error);
}
