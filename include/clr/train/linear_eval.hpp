// Linear evaluation (SupContrast's main_linear.py): a frozen encoder, in inference mode so
// that its BatchNorm statistics stay as pretraining left them, and a linear classifier on
// its features trained with softmax cross entropy; top-1 / top-5 accuracy on the test split.
//
// The encoder is frozen, so each image's features are computed once (encode_all) and the
// classifier trains on them for many epochs in seconds. main_linear.py instead re-encodes
// randomly cropped and flipped images every epoch: 100 passes of the encoder over the
// training set for a fraction of a point of accuracy, which is not what a 2-core machine
// should spend its time on.
#pragma once

#include <algorithm>
#include <cmath>
#include <numbers>
#include <span>
#include <vector>

#include "clr/backend/cpu/cpu.hpp"
#include "clr/core/error.hpp"
#include "clr/core/rng.hpp"
#include "clr/core/tensor.hpp"
#include "clr/loss/cross_entropy.hpp"
#include "clr/nn/heads.hpp"
#include "clr/optim/sgd.hpp"
#include "clr/train/progress.hpp"

namespace clr::train {

// The encoder's features [N, dim] of images [N, C, H, W] (host memory), batch by batch in
// inference mode.
template <class Encoder, Backend B = typename Encoder::backend>
Tensor<B> encode_all(Encoder& encoder, const Tensor<cpu>& images, int batch_size = 256) {
  require(images.rank() == 4, "encode_all: images must be [N, C, H, W], got ", images.shape());
  require(batch_size >= 1, "encode_all: batch_size must be >= 1, got ", batch_size);
  const int n = images.dim(0);
  const long image_floats = images.shape().row_size();
  Tensor<B> features;
  for (int start = 0; start < n; start += batch_size) {
    const int count = std::min(batch_size, n - start);
    const Tensor<cpu> chunk = Tensor<cpu>::from(
        std::span<const float>(images.data() + start * image_floats, count * image_floats),
        {count, images.dim(1), images.dim(2), images.dim(3)});
    const Tensor<B> y = encoder.forward(chunk.template to<B>(), nn::Mode::inference);
    if (features.empty()) features = Tensor<B>::uninitialized({n, y.dim(1)});
    B::copy(features.data() + static_cast<long>(start) * y.dim(1), y.data(),
            y.numel() * static_cast<long>(sizeof(float)));
  }
  return features;
}

struct LinearEvalOptions {
  int epochs = 30;
  int batch_size = 256;
  double learning_rate = 0.1;  // main_linear.py's default, cosine-annealed to lr·0.1³
  double momentum = 0.9;
  double weight_decay = 0.0;
  std::uint64_t seed = 0;
  // Scale each feature to zero mean and unit variance over the training set (the same map
  // for the test set) before the classifier sees it: the same classifier family, better
  // conditioned for SGD, as sklearn's StandardScaler before a logistic regression.
  bool standardize = true;
};

struct LinearEvalResult {
  double top1 = 0.0, top5 = 0.0;  // on the test features, in [0, 1]; top5 only if > 5 classes
  double train_top1 = 0.0;        // of the final classifier on the training features
  double final_loss = 0.0;        // mean training loss of the last epoch
};

namespace detail {

// Rows `rows` of x [N, dim], gathered into a new [rows.size(), dim] tensor.
template <Backend B>
Tensor<B> gather_rows(const std::vector<float>& x, int dim, std::span<const int> rows) {
  std::vector<float> out(rows.size() * static_cast<std::size_t>(dim));
  for (std::size_t i = 0; i < rows.size(); ++i)
    std::copy_n(x.data() + static_cast<long>(rows[i]) * dim, dim, out.data() + i * dim);
  return Tensor<B>::from(out, {static_cast<int>(rows.size()), dim});
}

// Per-column mean and standard deviation of train [n, dim]; both sets mapped by them.
inline void standardize(std::vector<float>& train, std::vector<float>& test, int dim) {
  const std::size_t n = train.size() / dim;
  std::vector<double> mean(dim, 0.0), square(dim, 0.0);
  for (std::size_t i = 0; i < n; ++i)
    for (int d = 0; d < dim; ++d) {
      mean[d] += train[i * dim + d];
      square[d] += double(train[i * dim + d]) * train[i * dim + d];
    }
  std::vector<float> shift(dim), scale(dim);
  for (int d = 0; d < dim; ++d) {
    const double mu = mean[d] / n, var = std::max(0.0, square[d] / n - mu * mu);
    shift[d] = static_cast<float>(mu);
    scale[d] = static_cast<float>(1.0 / std::sqrt(var + 1e-8));  // constant columns stay 0
  }
  for (auto* values : {&train, &test})
    for (std::size_t i = 0; i < values->size(); ++i) {
      const int d = static_cast<int>(i % dim);
      (*values)[i] = ((*values)[i] - shift[d]) * scale[d];
    }
}

template <Backend B>
double accuracy(nn::LinearClassifier<B>& classifier, const Tensor<B>& x,
                std::span<const int> labels, int k) {
  if (x.dim(0) == 0) return 0.0;
  const Tensor<B> logits = classifier.forward(x, nn::Mode::inference);
  return static_cast<double>(loss::top_k_correct(logits, labels, k)) / x.dim(0);
}

}  // namespace detail

// Trains a linear classifier on train_features [N, dim] and evaluates it on test_features.
template <Backend B>
LinearEvalResult linear_eval(const Tensor<B>& train_features, std::span<const int> train_labels,
                             const Tensor<B>& test_features, std::span<const int> test_labels,
                             int classes, const LinearEvalOptions& options = {},
                             Progress* progress = nullptr) {
  require(train_features.rank() == 2 && test_features.rank() == 2 &&
              train_features.dim(1) == test_features.dim(1),
          "linear_eval: features must be [N, dim] alike, got ", train_features.shape(), " and ",
          test_features.shape());
  require(static_cast<int>(train_labels.size()) == train_features.dim(0) &&
              static_cast<int>(test_labels.size()) == test_features.dim(0),
          "linear_eval: ", train_labels.size(), " and ", test_labels.size(), " labels for ",
          train_features.dim(0), " and ", test_features.dim(0), " rows");
  require(options.epochs >= 1 && options.batch_size >= 1 && classes >= 2,
          "linear_eval: need epochs >= 1, batch_size >= 1, classes >= 2; got ", options.epochs,
          ", ", options.batch_size, ", ", classes);
  const int n = train_features.dim(0), dim = train_features.dim(1);
  require(n > 0, "linear_eval: no training features");
  Rng rng(options.seed);
  nn::LinearClassifier<B> classifier(dim, classes, rng);
  optim::SGD<B> sgd(nn::parameters(classifier), {.lr = options.learning_rate,
                                                 .momentum = options.momentum,
                                                 .weight_decay = options.weight_decay});
  loss::CrossEntropy<B> cross_entropy;
  std::vector<float> x = train_features.to_vector();
  std::vector<float> test_x = test_features.to_vector();
  if (options.standardize) detail::standardize(x, test_x, dim);
  const Tensor<B> train_input = Tensor<B>::from(x, train_features.shape());
  const Tensor<B> test_input = Tensor<B>::from(test_x, test_features.shape());
  std::vector<int> order(n), batch_labels;
  for (int i = 0; i < n; ++i) order[i] = i;
  const int batches = (n + options.batch_size - 1) / options.batch_size;
  const double eta_min = options.learning_rate * 1e-3;  // SupContrast: lr · lr_decay_rate³
  LinearEvalResult result;
  for (int epoch = 1; epoch <= options.epochs; ++epoch) {
    Rng shuffle = rng.split(static_cast<std::uint64_t>(epoch));
    for (int i = n - 1; i > 0; --i) std::swap(order[i], order[shuffle.uniform_int(i + 1)]);
    const double lr =
        eta_min + (options.learning_rate - eta_min) *
                      (1 + std::cos(std::numbers::pi * (epoch - 1) / options.epochs)) / 2;
    sgd.set_lr(lr);
    if (progress) progress->start_epoch(epoch, options.epochs, batches);
    double loss_sum = 0.0;
    for (int b = 0; b < batches; ++b) {
      const int first = b * options.batch_size, count = std::min(options.batch_size, n - first);
      const std::span<const int> rows(order.data() + first, count);
      batch_labels.assign(count, 0);
      for (int i = 0; i < count; ++i) batch_labels[i] = train_labels[rows[i]];
      sgd.zero_grad();
      const Tensor<B> logits =
          classifier.forward(detail::gather_rows<B>(x, dim, rows), nn::Mode::train);
      const float value = cross_entropy.forward(logits, batch_labels);
      classifier.backward(cross_entropy.backward());
      sgd.step();
      loss_sum += value;
      if (progress) progress->batch(b, count, value, lr);
    }
    result.final_loss = loss_sum / batches;
  }
  result.train_top1 = detail::accuracy(classifier, train_input, train_labels, 1);
  result.top1 = detail::accuracy(classifier, test_input, test_labels, 1);
  if (classes > 5) result.top5 = detail::accuracy(classifier, test_input, test_labels, 5);
  return result;
}

}  // namespace clr::train
