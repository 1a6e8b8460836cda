// CrossEntropy: softmax cross entropy of logits [n, classes] against integer labels, the
// mean over the batch (PyTorch's nn.CrossEntropyLoss), as the linear evaluation and the
// supervised baseline of SupContrast train with; and top-k accuracy of logits.
//
//   loss = mean_i (log sum_c exp(z_ic) - z_i,label_i),   dz = (softmax(z) - onehot) / n
//
// The softmax runs on the backend (row max subtracted, so no overflow); the per-row label
// terms are picked on the host: a classifier's logits are small beside the encoder's work.
#pragma once

#include <algorithm>
#include <cmath>
#include <span>
#include <vector>

#include "clr/core/error.hpp"
#include "clr/core/tensor.hpp"

namespace clr::loss {

template <Backend B>
class CrossEntropy {
 public:
  // Mean loss over the rows; labels in [0, classes).
  float forward(const Tensor<B>& logits, std::span<const int> labels) {
    require(logits.rank() == 2, "CrossEntropy: logits must be [n, classes], got shape ",
            logits.shape());
    const int n = logits.dim(0), classes = logits.dim(1);
    require(static_cast<int>(labels.size()) == n, "CrossEntropy: ", labels.size(), " labels for ",
            n, " rows of logits");
    require(n > 0 && classes > 0, "CrossEntropy: empty logits ", logits.shape());
    for (int i = 0; i < n; ++i)
      require(labels[i] >= 0 && labels[i] < classes, "CrossEntropy: label ", labels[i], " of row ",
              i, " is outside [0, ", classes, ")");
    Tensor<B> probabilities = logits.clone();
    Tensor<B> log_sum_exp = Tensor<B>::uninitialized({n});
    B::softmax_rows(probabilities.data(), n, classes, classes, log_sum_exp.data());
    const std::vector<float> z = logits.to_vector(), lse = log_sum_exp.to_vector();
    std::vector<float> gradient = probabilities.to_vector();
    double total = 0.0;
    for (int i = 0; i < n; ++i) {
      const long at = static_cast<long>(i) * classes + labels[i];
      total += static_cast<double>(lse[i]) - z[at];
      gradient[at] -= 1.0f;
    }
    for (float& g : gradient) g /= static_cast<float>(n);
    gradient_ = Tensor<B>::from(gradient, logits.shape());
    const auto value = static_cast<float>(total / n);
    require(std::isfinite(value), "CrossEntropy: the loss is not finite (", value,
            "); are the logits finite?");
    return value;
  }

  // d loss / d logits [n, classes] of the last forward.
  Tensor<B> backward() const {
    require(!gradient_.empty(), "CrossEntropy::backward: call forward first");
    return gradient_;
  }

 private:
  Tensor<B> gradient_;
};

// How many rows have their label among their k largest logits. Equal logits rank by class
// index, lower first, so that a constant row is not counted correct for every label.
template <Backend B>
int top_k_correct(const Tensor<B>& logits, std::span<const int> labels, int k) {
  require(logits.rank() == 2 && static_cast<int>(labels.size()) == logits.dim(0),
          "top_k_correct: logits ", logits.shape(), " and ", labels.size(), " labels");
  require(k >= 1, "top_k_correct: k must be >= 1, got ", k);
  const int n = logits.dim(0), classes = logits.dim(1);
  const std::vector<float> z = logits.to_vector();
  int correct = 0;
  for (int i = 0; i < n; ++i) {
    const float* row = z.data() + static_cast<long>(i) * classes;
    const int label = labels[i];
    if (label < 0 || label >= classes) continue;
    int ahead = 0;
    for (int c = 0; c < classes; ++c)
      ahead += row[c] > row[label] || (row[c] == row[label] && c < label);
    correct += ahead < k;
  }
  return correct;
}

}  // namespace clr::loss
