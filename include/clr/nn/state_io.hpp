// Saving and loading a layer's state (parameters and buffers such as BatchNorm's running
// statistics) in clr's checkpoint file (clr/core/checkpoint_file.hpp). Loading checks that
// the file holds exactly the layer's tensors, by name and shape.
#pragma once

#include <map>
#include <string>

#include "clr/core/checkpoint_file.hpp"
#include "clr/core/error.hpp"
#include "clr/nn/layer.hpp"

namespace clr::nn {

template <Layer L>
CheckpointContents state_contents(L& layer) {
  CheckpointContents contents;
  for (const auto& entry : state(layer))
    contents.tensors.emplace_back(entry.name,
                                  HostTensor{entry.value->shape(), entry.value->to_vector()});
  return contents;
}

template <Layer L>
void save_state(L& layer, const std::string& path,
                std::map<std::string, std::string> metadata = {}) {
  CheckpointContents contents = state_contents(layer);
  contents.metadata = std::move(metadata);
  write_checkpoint(path, contents);
}

// Copies the tensors of `contents` into the layer: every state entry must be there with
// its shape, and nothing else may be.
template <Layer L>
void load_state(L& layer, const CheckpointContents& contents, const std::string& origin) {
  using B = typename L::backend;
  std::map<std::string, const HostTensor*> by_name;
  for (const auto& [name, tensor] : contents.tensors) by_name[name] = &tensor;
  const State<B> entries = state(layer);
  for (const auto& entry : entries) {
    const auto it = by_name.find(entry.name);
    require(it != by_name.end(), "load_state: ", origin, " has no tensor ", entry.name);
    require(it->second->shape == entry.value->shape(), "load_state: ", origin, ": ", entry.name,
            " has shape ", it->second->shape, ", the model expects ", entry.value->shape());
  }
  require(by_name.size() == entries.size(), "load_state: ", origin, " holds ", by_name.size(),
          " tensors, the model has ", entries.size(), " (a different architecture?)");
  for (const auto& entry : entries) {
    const HostTensor& tensor = *by_name.at(entry.name);
    *entry.value = Tensor<B>::from(tensor.values, tensor.shape);
  }
}

template <Layer L>
CheckpointContents load_state(L& layer, const std::string& path) {
  CheckpointContents contents = read_checkpoint(path);
  load_state(layer, contents, path);
  return contents;
}

}  // namespace clr::nn
