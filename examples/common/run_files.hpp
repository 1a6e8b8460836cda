// What a training program writes besides its output: checkpoints holding the model, the
// optimizer's state, the epoch and the flags (atomic: temp file + rename, checksummed), and
// the reading side used by --resume, clr-linear and clr-embed.
#pragma once

#include <clr/clr.hpp>
#include <clr/optim/optimizer.hpp>
#include <filesystem>
#include <map>
#include <string>

#include "args.hpp"

namespace clr::examples {

// Tensors under this prefix are the optimizer's; the rest are the model's.
inline constexpr const char* kOptimizerPrefix = "optimizer";

template <nn::Layer Model, Backend B = typename Model::backend>
void save_training_checkpoint(const std::filesystem::path& path, Model& model,
                              const optim::Optimizer<B>& optimizer, int epoch,
                              std::map<std::string, std::string> metadata) {
  CheckpointContents contents = nn::state_contents(model);
  optimizer.save_state(contents, kOptimizerPrefix);
  for (auto& [key, value] : metadata) contents.metadata[key] = value;
  contents.metadata["epoch"] = std::to_string(epoch);
  write_checkpoint(path.string(), contents);
}

// The model's part of a checkpoint: every tensor but the optimizer's.
inline CheckpointContents model_part(const CheckpointContents& contents) {
  CheckpointContents model;
  model.metadata = contents.metadata;
  const std::string prefix = std::string(kOptimizerPrefix) + ".";
  for (const auto& entry : contents.tensors)
    if (entry.first.rfind(prefix, 0) != 0) model.tensors.push_back(entry);
  return model;
}

inline std::string metadata_value(const CheckpointContents& contents, const std::string& key,
                                  const std::string& path) {
  const auto it = contents.metadata.find(key);
  require(it != contents.metadata.end(), "checkpoint ", path, " does not record '", key, "'");
  return it->second;
}

// Every flag's value, as "arg.<name>" metadata: what the run was.
inline std::map<std::string, std::string> flags_metadata(const Args& args,
                                                         const std::vector<std::string>& names) {
  std::map<std::string, std::string> out;
  for (const auto& name : names)
    if (auto value = args.find<std::string>(name)) out["arg." + name] = *value;
  return out;
}

}  // namespace clr::examples
