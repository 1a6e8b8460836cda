// What a contrastive batch says about the representation while it trains:
//  - contrastive accuracy: how often an anchor's most similar other sample is one of its
//    positives (the same image's other view, or, with labels, any sample of its class) —
//    simclr's "contrast_acc", generalised to n views and labels;
//  - spread: the mean over dimensions of the per-dimension standard deviation of the
//    L2-normalised features. A collapsed encoder maps everything to one point: spread → 0
//    (and the SupCon loss sticks at (T/base_T)·ln(N−1)). A healthy 128-d projection sits
//    near 1/sqrt(128) ≈ 0.09.
#pragma once

#include <algorithm>
#include <cmath>
#include <span>
#include <string>
#include <vector>

#include "clr/core/error.hpp"
#include "clr/core/ops.hpp"
#include "clr/core/tensor.hpp"

namespace clr::train {

// features [bsz, n_views, dim], rows L2-normalised; labels [bsz] or empty (SimCLR: the
// positives are the other views of the same image).
template <Backend B>
double contrastive_accuracy(const Tensor<B>& features, std::span<const int> labels = {}) {
  require(features.rank() == 3, "contrastive_accuracy: features must be [bsz, n_views, dim], got ",
          features.shape());
  const int bsz = features.dim(0), views = features.dim(1), dim = features.dim(2);
  const int rows = bsz * views;
  require(labels.empty() || static_cast<int>(labels.size()) == bsz,
          "contrastive_accuracy: ", labels.size(), " labels for a batch of ", bsz);
  if (rows < 2) return 0.0;
  const ConstMatrixRef f{features.data(), rows, dim, dim, false};
  Tensor<B> similarity = Tensor<B>::uninitialized({rows, rows});
  ops::gemm<B>(f, f.t(), similarity.matrix());
  const std::vector<float> s = similarity.to_vector();
  auto group = [&](int row) { return labels.empty() ? row / views : labels[row / views]; };
  int correct = 0;
  for (int i = 0; i < rows; ++i) {
    int best = -1;
    for (int j = 0; j < rows; ++j)
      if (j != i &&
          (best < 0 || s[static_cast<long>(i) * rows + j] > s[static_cast<long>(i) * rows + best]))
        best = j;
    correct += group(best) == group(i);
  }
  return static_cast<double>(correct) / rows;
}

// Mean per-dimension standard deviation of the rows of features viewed as [n, dim].
template <Backend B>
double feature_spread(const Tensor<B>& features) {
  require(features.rank() >= 2, "feature_spread: features must be [n, ..., dim], got ",
          features.shape());
  const int dim = features.dim(features.rank() - 1);
  const std::vector<float> values = features.to_vector();
  const long n = static_cast<long>(values.size()) / dim;
  if (n < 2) return 0.0;
  std::vector<double> mean(dim, 0.0), square(dim, 0.0);
  for (long i = 0; i < n; ++i)
    for (int d = 0; d < dim; ++d) {
      const double v = values[i * dim + d];
      mean[d] += v;
      square[d] += v * v;
    }
  double spread = 0.0;
  for (int d = 0; d < dim; ++d) {
    const double mu = mean[d] / n;
    spread += std::sqrt(std::max(0.0, square[d] / n - mu * mu));
  }
  return spread / dim;
}

// Below this spread the features have collapsed: (nearly) every image maps to one point.
inline constexpr double kCollapsedSpread = 1e-3;

inline std::string collapse_advice(double spread, double learning_rate, int batch_size) {
  return "the features have collapsed (mean per-dimension std " + std::to_string(spread) + " < " +
         std::to_string(kCollapsedSpread) + "): every image maps to the same point. " +
         "The learning rate " + std::to_string(learning_rate) + " is too high for batch " +
         std::to_string(batch_size) +
         "; SupContrast's rates are for batch 1024 — scale them with the batch (e.g. 0.5 * " +
         std::to_string(batch_size) + " / 1024) or add --warm";
}

}  // namespace clr::train
