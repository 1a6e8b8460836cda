// kNN monitor: classifies each query by the temperature-weighted votes of its k most
// cosine-similar samples in a bank of labelled features (Wu et al. 2018, "Unsupervised
// feature learning via non-parametric instance discrimination", the monitor most SimCLR /
// MoCo repositories print each epoch): weight exp(s / T) per neighbour, k = 200, T = 0.1.
// It needs no training, so it tracks representation quality during pretraining.
#pragma once

#include <algorithm>
#include <cmath>
#include <numeric>
#include <span>
#include <vector>

#include "clr/core/error.hpp"
#include "clr/core/ops.hpp"
#include "clr/core/tensor.hpp"

namespace clr::train {

struct KnnOptions {
  int k = 200;
  float temperature = 0.1f;
  int query_chunk = 256;  // rows of the similarity matrix held at once
};

// The fraction of queries [m, dim] whose predicted class equals their label; bank
// [n, dim] with labels in [0, classes). Rows need not be normalised: cosine similarity is
// taken.
template <Backend B>
double knn_accuracy(const Tensor<B>& bank, std::span<const int> bank_labels,
                    const Tensor<B>& queries, std::span<const int> query_labels, int classes,
                    KnnOptions options = {}) {
  require(bank.rank() == 2 && queries.rank() == 2 && bank.dim(1) == queries.dim(1),
          "knn_accuracy: bank ", bank.shape(), " and queries ", queries.shape(),
          " must be [n, dim] and [m, dim]");
  require(static_cast<int>(bank_labels.size()) == bank.dim(0) &&
              static_cast<int>(query_labels.size()) == queries.dim(0),
          "knn_accuracy: ", bank_labels.size(), " bank labels for ", bank.dim(0), " rows, ",
          query_labels.size(), " query labels for ", queries.dim(0));
  require(options.k >= 1 && options.temperature > 0 && classes >= 1 && options.query_chunk >= 1,
          "knn_accuracy: need k >= 1, temperature > 0, classes >= 1; got k = ", options.k,
          ", temperature = ", options.temperature, ", classes = ", classes);
  const int n = bank.dim(0), m = queries.dim(0), dim = bank.dim(1);
  if (m == 0) return 0.0;
  require(n > 0, "knn_accuracy: the bank is empty");
  Tensor<B> bank_norms, query_norms;
  const Tensor<B> bank_unit = ops::l2_normalize_rows(bank, bank_norms);
  const Tensor<B> query_unit = ops::l2_normalize_rows(queries, query_norms);
  const int k = std::min(options.k, n);

  int correct = 0;
  std::vector<int> order(n);
  std::vector<double> votes(classes);
  for (int start = 0; start < m; start += options.query_chunk) {
    const int rows = std::min(options.query_chunk, m - start);
    Tensor<B> similarity = Tensor<B>::uninitialized({rows, n});
    const ConstMatrixRef chunk{query_unit.data() + static_cast<long>(start) * dim, rows, dim, dim,
                               false};
    ops::gemm<B>(chunk, bank_unit.matrix().t(), similarity.matrix());
    const std::vector<float> s = similarity.to_vector();
    for (int r = 0; r < rows; ++r) {
      const float* row = s.data() + static_cast<long>(r) * n;
      std::iota(order.begin(), order.end(), 0);
      std::nth_element(order.begin(), order.begin() + (k - 1), order.end(), [&](int a, int b) {
        return row[a] > row[b] || (row[a] == row[b] && a < b);
      });
      std::fill(votes.begin(), votes.end(), 0.0);
      for (int j = 0; j < k; ++j) {
        const int label = bank_labels[order[j]];
        require(label >= 0 && label < classes, "knn_accuracy: bank label ", label,
                " is outside [0, ", classes, ")");
        votes[label] += std::exp(row[order[j]] / options.temperature);
      }
      const int predicted =
          static_cast<int>(std::max_element(votes.begin(), votes.end()) - votes.begin());
      correct += predicted == query_labels[start + r];
    }
  }
  return static_cast<double>(correct) / m;
}

}  // namespace clr::train
