// Fine-tuning a pretrained encoder (google-research/simclr's train_mode=finetune): a model
// for the downstream task (e.g. nn::SupCEModel: encoder + linear classifier) starts from
// the encoder of a pretraining checkpoint, and its encoder freezes the blocks up to
// fine_tune_after_block (nn::ResNet::set_fine_tune_after_block: -1 trains all, 4 only
// what sits on top of the encoder). The training itself is the supervised loop
// (train/supervised.hpp) over the parameters that remain trainable.
#pragma once

#include <map>
#include <string>

#include "clr/core/checkpoint_file.hpp"
#include "clr/core/error.hpp"
#include "clr/nn/layer.hpp"
#include "clr/nn/state_io.hpp"

namespace clr::train {

// Copies every tensor of `model` under `prefix` (e.g. "encoder") from `pretrained`, where
// it must be present under the same name with the same shape; the model's other tensors
// (a new classifier) keep their values, and the pretrained ones that the model lacks (a
// projection head) are ignored. Nothing changes unless every tensor fits. Returns how many
// tensors were copied.
template <nn::Layer Model>
int load_pretrained(Model& model, const CheckpointContents& pretrained, const std::string& prefix,
                    const std::string& origin) {
  require(!prefix.empty(), "load_pretrained: the prefix must name a part of the model");
  const std::string lead = prefix + ".";
  std::map<std::string, const HostTensor*> by_name;
  for (const auto& [name, tensor] : pretrained.tensors)
    if (name.rfind(lead, 0) == 0) by_name[name] = &tensor;
  CheckpointContents grafted = nn::state_contents(model);
  int copied = 0;
  for (auto& [name, tensor] : grafted.tensors) {
    if (name.rfind(lead, 0) != 0) continue;
    const auto it = by_name.find(name);
    require(it != by_name.end(), "load_pretrained: ", origin, " has no tensor ", name,
            " (an encoder of another architecture?)");
    require(it->second->shape == tensor.shape, "load_pretrained: ", origin, ": ", name,
            " has shape ", it->second->shape, ", the model expects ", tensor.shape);
    tensor = *it->second;
    ++copied;
  }
  require(copied > 0, "load_pretrained: the model has no tensors under '", prefix, "'");
  require(static_cast<std::size_t>(copied) == by_name.size(), "load_pretrained: ", origin,
          " holds ", by_name.size(), " tensors under '", prefix, "', the model has ", copied,
          " (a different architecture?)");
  nn::load_state(model, grafted, origin);
  return copied;
}

}  // namespace clr::train
