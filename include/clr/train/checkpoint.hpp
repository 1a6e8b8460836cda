// Training checkpoints: the model's state (parameters and BatchNorm statistics, under
// PyTorch's names), the optimizer's (under "optimizer."), the epoch and free-form metadata
// (the model configuration, the flags) in one clr checkpoint file — written to a temporary
// file and renamed, checksummed, so a crash leaves the previous checkpoint intact.
//
// The data order and every augmentation are functions of (seed, epoch, image), so
// restoring model and optimizer at an epoch boundary continues the run exactly.
#pragma once

#include <filesystem>
#include <exception>
#include <map>
#include <span>
#include <string>

#include "clr/core/checkpoint_file.hpp"
#include "clr/core/error.hpp"
#include "clr/dist/communicator.hpp"
#include "clr/nn/state_io.hpp"
#include "clr/optim/optimizer.hpp"

namespace clr::train {

// Tensors under this prefix are the optimizer's; the rest are the model's.
inline constexpr const char* kOptimizerPrefix = "optimizer";

template <nn::Layer Model, Backend B = typename Model::backend>
void save_training_checkpoint(const std::filesystem::path& path, Model& model,
                              const optim::Optimizer<B>& optimizer, int epoch,
                              const std::map<std::string, std::string>& metadata = {}) {
  CheckpointContents contents = nn::state_contents(model);
  optimizer.save_state(contents, kOptimizerPrefix);
  for (const auto& [key, value] : metadata) contents.metadata[key] = value;
  contents.metadata["epoch"] = std::to_string(epoch);
  write_checkpoint(path.string(), contents);
}

// Data-parallel: the replicas are equal, so rank 0 alone writes; every rank returns once
// the file is complete (or throws, on every rank, if rank 0 could not write it), so they
// may all read it right away. Resume: every rank loads the same file with
// load_training_checkpoint, with the same world size (the loader's shards depend on it).
template <nn::Layer Model, dist::Communicator Comm, Backend B = typename Model::backend>
void save_training_checkpoint(const std::filesystem::path& path, Model& model,
                              const optim::Optimizer<B>& optimizer, int epoch,
                              const std::map<std::string, std::string>& metadata, Comm& comm) {
  std::string failure;
  if (comm.rank() == 0) {
    try {
      save_training_checkpoint(path, model, optimizer, epoch, metadata);
    } catch (const std::exception& error) {
      failure = error.what();
    }
  }
  double failed[] = {failure.empty() ? 0.0 : 1.0};
  dist::all_reduce_host(comm, std::span<double>(failed), dist::ReduceOp::sum);
  if (!failure.empty()) throw Error(failure);
  require(failed[0] == 0.0, "checkpoint ", path.string(), ": rank 0 could not write it");
}

// The model's part of a checkpoint: every tensor but the optimizer's (what nn::load_state
// takes).
inline CheckpointContents model_part(const CheckpointContents& contents) {
  CheckpointContents model;
  model.metadata = contents.metadata;
  const std::string prefix = std::string(kOptimizerPrefix) + ".";
  for (const auto& entry : contents.tensors)
    if (entry.first.rfind(prefix, 0) != 0) model.tensors.push_back(entry);
  return model;
}

inline std::string metadata_value(const CheckpointContents& contents, const std::string& key,
                                  const std::string& origin) {
  const auto it = contents.metadata.find(key);
  require(it != contents.metadata.end(), "checkpoint ", origin, " does not record '", key, "'");
  return it->second;
}

// Restores model and optimizer from a training checkpoint; returns the epoch it was saved
// at. Nothing is changed unless the whole file is sound and fits both.
template <nn::Layer Model, Backend B = typename Model::backend>
int load_training_checkpoint(const std::filesystem::path& path, Model& model,
                             optim::Optimizer<B>& optimizer) {
  const CheckpointContents contents = read_checkpoint(path.string());
  const std::string epoch_text = metadata_value(contents, "epoch", path.string());
  int epoch = 0;
  try {
    epoch = std::stoi(epoch_text);
  } catch (const std::exception&) {
    throw Error("checkpoint " + path.string() + " records epoch '" + epoch_text +
                "', expected a number");
  }
  // Each load checks everything before it changes anything; should the optimizer's fail
  // after the model's succeeded, the model goes back to what it was.
  const CheckpointContents previous = nn::state_contents(model);
  nn::load_state(model, model_part(contents), path.string());
  try {
    optimizer.load_state(contents, path.string(), kOptimizerPrefix);
  } catch (...) {
    nn::load_state(model, previous, "the model's previous state");
    throw;
  }
  return epoch;
}

}  // namespace clr::train
