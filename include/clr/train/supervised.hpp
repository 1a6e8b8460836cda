// One epoch of the supervised cross-entropy baseline (SupContrast's main_ce.py `train`):
// one augmented view per image through an encoder and a linear classifier, softmax cross
// entropy against the labels, backward, an optimizer step; and the top-1 / top-5 accuracy of
// such a classifier on a whole labelled set.
#pragma once

#include <algorithm>
#include <cmath>
#include <span>
#include <vector>

#include "clr/core/error.hpp"
#include "clr/core/tensor.hpp"
#include "clr/dist/communicator.hpp"
#include "clr/dist/data_parallel.hpp"
#include "clr/dist/local.hpp"
#include "clr/loss/cross_entropy.hpp"
#include "clr/nn/layer.hpp"
#include "clr/optim/optimizer.hpp"
#include "clr/train/pretrain.hpp"
#include "clr/train/progress.hpp"

namespace clr::train {

struct SupervisedStats {
  double loss = 0.0;            // mean over the epoch's batches
  double train_accuracy = 0.0;  // top-1 on the augmented training views
  double images_per_second = 0.0;
  double seconds = 0.0;
};

// `model` maps images [bsz, C, H, W] to logits [bsz, classes]; the loader yields one view
// per image. Data-parallel over `comm` as pretrain_epoch: each rank's cross entropy is its
// own batch's, so the gradients are averaged; the statistics are the ranks' (loss and
// accuracy: mean and pooled; images per second: sum).
template <class Model, class Loader, dist::Communicator Comm, Backend B = typename Model::backend>
requires dist::CommunicatorFor<Comm, B> SupervisedStats
supervised_epoch(Model& model, optim::Optimizer<B>& optimizer, Loader& loader, int epoch,
                 int epochs, const LearningRate& learning_rate, Progress& progress, Comm& comm) {
  require(loader.options().n_views == 1,
          "supervised_epoch: the loader must yield one view per "
          "image, it yields ",
          loader.options().n_views);
  const int batches = static_cast<int>(loader.num_batches());
  loss::CrossEntropy<B> cross_entropy;
  dist::DataParallel<Comm> parallel(nn::state(model), comm);
  SupervisedStats stats;
  long images = 0, correct = 0;
  progress.start_epoch(epoch, epochs, batches);
  loader.begin_epoch(epoch);
  int index = 0;
  while (auto batch = loader.next()) {
    const double lr = learning_rate(epoch, index, batches);
    optimizer.set_lr(lr);
    optimizer.zero_grad();
    const Tensor<B> logits = model.forward(batch->images.template to<B>(), nn::Mode::train);
    const std::span<const int> labels(batch->labels);
    const float value = cross_entropy.forward(logits, labels);
    model.backward(cross_entropy.backward());
    parallel.reduce_gradients(dist::ReduceOp::mean);
    optimizer.step();
    parallel.sync_buffers();
    stats.loss += value;
    correct += loss::top_k_correct(logits, labels, 1);
    images += batch->size();
    progress.batch(index, batch->size(), value, lr);
    ++index;
  }
  if (index > 0) stats.loss /= index;
  stats.seconds = progress.seconds();
  stats.images_per_second = progress.images_per_second();
  double mean[] = {stats.loss};
  double sums[] = {static_cast<double>(correct), static_cast<double>(images),
                   stats.images_per_second};
  dist::all_reduce_host(comm, std::span<double>(mean), dist::ReduceOp::mean);
  dist::all_reduce_host(comm, std::span<double>(sums), dist::ReduceOp::sum);
  stats.loss = mean[0];
  stats.train_accuracy = sums[1] > 0 ? sums[0] / sums[1] : 0.0;
  stats.images_per_second = sums[2];
  return stats;
}

// One process.
template <class Model, class Loader, Backend B = typename Model::backend>
SupervisedStats supervised_epoch(Model& model, optim::Optimizer<B>& optimizer, Loader& loader,
                                 int epoch, int epochs, const LearningRate& learning_rate,
                                 Progress& progress) {
  dist::Local<B> local;
  return supervised_epoch(model, optimizer, loader, epoch, epochs, learning_rate, progress, local);
}

struct Accuracy {
  double top1 = 0.0, top5 = 0.0;
};

// Top-1 and top-5 of `model` (images → logits) on images [N, C, H, W] in inference mode.
template <class Model, Backend B = typename Model::backend>
Accuracy classifier_accuracy(Model& model, const Tensor<cpu>& images, std::span<const int> labels,
                             int batch_size = 256) {
  require(images.rank() == 4 && images.dim(0) == static_cast<int>(labels.size()),
          "classifier_accuracy: images ", images.shape(), " and ", labels.size(), " labels");
  const int n = images.dim(0);
  const long image_floats = images.shape().row_size();
  long top1 = 0, top5 = 0;
  for (int start = 0; start < n; start += batch_size) {
    const int count = std::min(batch_size, n - start);
    const Tensor<cpu> chunk = Tensor<cpu>::from(
        std::span<const float>(images.data() + start * image_floats, count * image_floats),
        {count, images.dim(1), images.dim(2), images.dim(3)});
    const Tensor<B> logits = model.forward(chunk.template to<B>(), nn::Mode::inference);
    const auto chunk_labels = labels.subspan(start, count);
    top1 += loss::top_k_correct(logits, chunk_labels, 1);
    top5 += loss::top_k_correct(logits, chunk_labels, std::min(5, logits.dim(1)));
  }
  return {n > 0 ? static_cast<double>(top1) / n : 0.0, n > 0 ? static_cast<double>(top5) / n : 0.0};
}

}  // namespace clr::train
