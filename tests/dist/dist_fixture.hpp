// What the dist tests share: a small model with every kind of layer that data parallelism
// touches (Conv2d + BatchNorm2d + ReLU + pooling + Linear + BatchNorm1d + L2Normalize),
// one training step driven the way pretrain_epoch drives it, synthetic global batches, and
// the flattened values that the tests compare.
#pragma once

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <span>
#include <vector>

#include "clr/clr.hpp"
#include "clr/dist/dist.hpp"

namespace clr::testing {

template <Backend B>
using DistModel = nn::Sequential<nn::Conv2d<B>, nn::BatchNorm2d<B>, nn::ReLU<B>,
                                 nn::MaxPool2d<B>, nn::GlobalAvgPool<B>, nn::Linear<B>,
                                 nn::BatchNorm1d<B>, nn::ReLU<B>, nn::Linear<B>,
                                 nn::L2Normalize<B>>;

constexpr int kChannels = 3, kSide = 6, kViews = 2, kDim = 5;

template <Backend B>
DistModel<B> make_dist_model(std::uint64_t seed) {
  Rng rng(seed);
  return DistModel<B>(nn::Conv2d<B>(kChannels, 8, 3, rng, {.padding = 1}), nn::BatchNorm2d<B>(8),
                      nn::ReLU<B>(), nn::MaxPool2d<B>(2, 2), nn::GlobalAvgPool<B>(),
                      nn::Linear<B>(8, 12, rng), nn::BatchNorm1d<B>(12), nn::ReLU<B>(),
                      nn::Linear<B>(12, kDim, rng), nn::L2Normalize<B>());
}

// `samples` images with kViews views each, sample-major, and their labels (3 classes).
struct GlobalBatch {
  std::vector<float> images;  // [samples · kViews, kChannels, kSide, kSide]
  std::vector<int> labels;    // [samples]
  int samples = 0;

  // Samples [first, first + count) as the backend's tensor and their labels.
  template <Backend B>
  Tensor<B> images_of(int first, int count) const {
    const std::size_t per = kViews * kChannels * kSide * kSide;
    return Tensor<B>::from(std::span<const float>(images).subspan(first * per, count * per),
                           {count * kViews, kChannels, kSide, kSide});
  }
  std::span<const int> labels_of(int first, int count) const {
    return std::span<const int>(labels).subspan(first, count);
  }
};

inline GlobalBatch make_global_batch(int samples, std::uint64_t seed) {
  GlobalBatch batch;
  batch.samples = samples;
  Rng rng(seed);
  batch.images.resize(static_cast<std::size_t>(samples) * kViews * kChannels * kSide * kSide);
  for (float& v : batch.images) v = rng.uniform(-1.0f, 1.0f);
  for (int i = 0; i < samples; ++i) batch.labels.push_back(static_cast<int>(rng.uniform_int(3)));
  return batch;
}

struct StepResult {
  float loss = 0.0f;
  std::vector<float> grads, params, buffers;  // after the all-reduce / after the step
};

template <Backend B>
std::vector<float> flatten(const nn::State<B>& entries, bool grads) {
  std::vector<float> all;
  for (const auto& entry : entries) {
    const auto values = (grads ? entry.grad : entry.value)->to_vector();
    all.insert(all.end(), values.begin(), values.end());
  }
  return all;
}

template <Backend B>
std::vector<float> buffers_of(DistModel<B>& model) {
  nn::State<B> buffers;
  for (auto& entry : nn::state(model))
    if (entry.grad == nullptr) buffers.push_back(entry);
  return flatten(buffers, false);
}

// One step as pretrain_epoch takes it: forward, loss, backward, gradient all-reduce, SGD
// step, BatchNorm buffers from rank 0.
template <Backend B, class Loss, class Comm>
StepResult train_step(DistModel<B>& model, optim::Optimizer<B>& sgd, Loss& loss,
                      const Tensor<B>& images, std::span<const int> labels, Comm& comm) {
  dist::DataParallel<Comm> parallel(nn::state(model), comm);
  sgd.zero_grad();
  const Tensor<B> z = model.forward(images, nn::Mode::train);
  StepResult result;
  result.loss = loss.forward(z.reshape({z.dim(0) / kViews, kViews, z.dim(1)}), labels);
  model.backward(loss.backward().reshape(z.shape()));
  parallel.reduce_gradients(dist::gradient_reduction<Loss>());
  result.grads = flatten(nn::parameters(model), true);
  sgd.step();
  parallel.sync_buffers();
  result.params = flatten(nn::parameters(model), false);
  result.buffers = buffers_of(model);
  return result;
}

inline float max_abs_difference(const std::vector<float>& a, const std::vector<float>& b) {
  REQUIRE(a.size() == b.size());
  float worst = 0.0f;
  for (std::size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::abs(a[i] - b[i]));
  return worst;
}

// max |a - b| / (1 + |b|): for values far from 1, such as running variances.
inline float max_relative_difference(const std::vector<float>& a, const std::vector<float>& b) {
  REQUIRE(a.size() == b.size());
  float worst = 0.0f;
  for (std::size_t i = 0; i < a.size(); ++i)
    worst = std::max(worst, std::abs(a[i] - b[i]) / (1.0f + std::abs(b[i])));
  return worst;
}

inline optim::SGDOptions dist_sgd() { return {.lr = 0.1, .momentum = 0.9, .weight_decay = 1e-4}; }
inline loss::SupConOptions dist_supcon() {
  return {.temperature = 0.1f, .base_temperature = 0.07f};
}

}  // namespace clr::testing
