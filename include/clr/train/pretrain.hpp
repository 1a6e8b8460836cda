// One epoch of contrastive pretraining (SupContrast's main_supcon.py `train`): each batch
// of n views per image goes through the model (encoder + projection head + L2
// normalisation), the loss (SupCon with labels, SimCLR without), backward, and an
// optimizer step at the learning rate the schedule gives for this step.
//
// The loader yields the views sample-major (an image's views adjacent), so the model's
// output [bsz·n_views, dim] is the loss's [bsz, n_views, dim] without a copy.
//
// Data-parallel: given a communicator (dist/), each rank runs the same loop on its shard
// (the loader's rank / world_size) and the gradients are all-reduced between backward and
// the step — averaged, or summed when the loss sees the global batch (dist::CrossReplica);
// rank 0's BatchNorm buffers are then broadcast. The epoch's loss and accuracy are the
// ranks' mean, images_per_second their sum. Without one (dist::Local), nothing travels.
#pragma once

#include <chrono>
#include <cmath>
#include <functional>
#include <span>
#include <string>

#include "clr/core/error.hpp"
#include "clr/core/tensor.hpp"
#include "clr/dist/communicator.hpp"
#include "clr/dist/data_parallel.hpp"
#include "clr/dist/local.hpp"
#include "clr/nn/layer.hpp"
#include "clr/optim/optimizer.hpp"
#include "clr/train/progress.hpp"
#include "clr/train/representation_stats.hpp"

namespace clr::train {

struct EpochStats {
  double loss = 0.0;                  // mean over the epoch's batches
  double contrastive_accuracy = 0.0;  // mean over the batches (see representation_stats.hpp)
  double spread = 0.0;                // of the last batch's projections
  double images_per_second = 0.0;
  double seconds = 0.0;
  double data_wait_seconds = 0.0;  // blocked on the loader: > 0 means augmentation lags
  int batches = 0;
};

// The learning rate of step `batch` (0-based) of `epoch` (1-based, as SupContrast counts).
using LearningRate = std::function<double(int epoch, int batch, int batches_per_epoch)>;

struct PretrainSettings {
  int epochs = 1;
  bool supervised = true;  // SupCon with the batch's labels; false: SimCLR
  LearningRate learning_rate;
};

// Epoch `epoch` (1-based) of `settings.epochs` on this rank of `comm`. Throws clr::Error
// when the loss stops being finite.
template <class Model, class Loss, class Loader, dist::Communicator Comm,
          Backend B = typename Model::backend>
requires dist::CommunicatorFor<Comm, B> EpochStats
pretrain_epoch(Model& model, Loss& loss, optim::Optimizer<B>& optimizer, Loader& loader, int epoch,
               const PretrainSettings& settings, Progress& progress, Comm& comm) {
  dist::DataParallel<Comm> parallel(nn::state(model), comm);
  const int batches = static_cast<int>(loader.num_batches());
  const int views = loader.options().n_views;
  const bool supervised = settings.supervised;
  EpochStats stats;
  progress.start_epoch(epoch, settings.epochs, batches);
  loader.begin_epoch(epoch);
  int index = 0;
  using Clock = std::chrono::steady_clock;
  auto next = [&] {
    const auto asked = Clock::now();
    auto batch = loader.next();
    stats.data_wait_seconds += std::chrono::duration<double>(Clock::now() - asked).count();
    return batch;
  };
  while (auto batch = next()) {
    const int bsz = batch->size();
    const double lr = settings.learning_rate(epoch, index, batches);
    optimizer.set_lr(lr);
    optimizer.zero_grad();
    const Tensor<B> x = batch->images.template to<B>();            // [bsz·views, C, H, W]
    const Tensor<B> z = model.forward(x, nn::Mode::train);         // [bsz·views, dim]
    const Tensor<B> features = z.reshape({bsz, views, z.dim(1)});  // [bsz, views, dim]
    const std::span<const int> labels(batch->labels);
    const float value = supervised ? loss.forward(features, labels) : loss.forward(features);
    require(std::isfinite(value), "pretrain: the loss is ", value, " at epoch ", epoch, ", batch ",
            index + 1, " (lr ", lr, "): lower --learning_rate or add --warm");
    model.backward(loss.backward().reshape(z.shape()));
    parallel.reduce_gradients(dist::gradient_reduction<Loss>());
    optimizer.step();
    parallel.sync_buffers();

    stats.loss += value;
    stats.contrastive_accuracy +=
        supervised ? contrastive_accuracy(features, labels) : contrastive_accuracy(features);
    if (index + 1 == batches) stats.spread = feature_spread(z);
    progress.batch(index, bsz, value, lr);
    ++index;
  }
  stats.batches = index;
  if (index > 0) {
    stats.loss /= index;
    stats.contrastive_accuracy /= index;
  }
  stats.seconds = progress.seconds();
  stats.images_per_second = progress.images_per_second();
  double across[] = {stats.loss, stats.contrastive_accuracy, stats.images_per_second};
  dist::all_reduce_host(comm, std::span<double>(across, 2), dist::ReduceOp::mean);
  dist::all_reduce_host(comm, std::span<double>(across + 2, 1), dist::ReduceOp::sum);
  stats.loss = across[0];
  stats.contrastive_accuracy = across[1];
  stats.images_per_second = across[2];
  return stats;
}

// One process.
template <class Model, class Loss, class Loader, Backend B = typename Model::backend>
EpochStats pretrain_epoch(Model& model, Loss& loss, optim::Optimizer<B>& optimizer, Loader& loader,
                          int epoch, const PretrainSettings& settings, Progress& progress) {
  dist::Local<B> local;
  return pretrain_epoch(model, loss, optimizer, loader, epoch, settings, progress, local);
}

}  // namespace clr::train
