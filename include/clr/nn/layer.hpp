// What every layer is: the Layer concept, train/eval mode, and the named state (parameters
// with their gradients, and buffers such as BatchNorm's running statistics) that
// optimizers and checkpoints walk.
//
// A layer owns its parameters and implements forward(x, mode) and backward(dy) by hand:
// forward caches what backward needs; backward returns dx and accumulates parameter
// gradients (+=), so gradients of several forward/backward pairs add up until zero_grad.
// backward frees what forward cached, as PyTorch frees a graph after backward: the next
// step's forward then allocates its activations where the last step's were (the CPU
// allocator's cache), not beside them, which took the peak of a ResNet-18 SupCon train step
// from 843 to 697 MiB. So each forward is followed by at most one backward.
#pragma once

#include <concepts>
#include <string>
#include <vector>

#include "clr/core/backend.hpp"
#include "clr/core/ops.hpp"
#include "clr/core/tensor.hpp"

namespace clr::nn {

// train: BatchNorm normalises with the batch's statistics and updates its running ones.
// eval: running statistics; layers still keep what backward needs (fine-tuning above a
// frozen, eval-mode BatchNorm). inference: as eval, but nothing is kept for backward, so
// each activation is freed once the next layer has read it (PyTorch's eval under no_grad,
// as in linear evaluation and feature extraction); backward after it is an error.
enum class Mode { train, eval, inference };

inline bool keeps_activations(Mode mode) {
  return mode != Mode::inference;
}

// What an optimizer needs to know of a tensor: SimCLR's LARS and weight decay skip biases
// and BatchNorm parameters; buffers are state but not trained.
enum class ParameterKind { weight, bias, batch_norm, buffer };

template <Backend B>
struct StateEntry {
  std::string name;  // PyTorch's state_dict key, e.g. "layer1.0.conv1.weight"
  Tensor<B>* value;
  Tensor<B>* grad;  // null for buffers
  ParameterKind kind;
};

template <Backend B>
using State = std::vector<StateEntry<B>>;

template <class L>
concept Layer = requires {
  typename L::backend;
}
&&Backend<typename L::backend>&& requires(L& layer, const Tensor<typename L::backend>& x, Mode mode,
                                          State<typename L::backend>& state,
                                          const std::string& prefix) {
  { layer.forward(x, mode) } -> std::same_as<Tensor<typename L::backend>>;
  { layer.backward(x) } -> std::same_as<Tensor<typename L::backend>>;
  layer.collect_state(prefix, state);
};

// "prefix.name", or "name" at the top.
inline std::string join_name(const std::string& prefix, const std::string& name) {
  return prefix.empty() ? name : prefix + "." + name;
}

// Every tensor of the layer's state, parameters and buffers, in a fixed order.
template <Layer L>
State<typename L::backend> state(L& layer) {
  State<typename L::backend> entries;
  layer.collect_state("", entries);
  return entries;
}

// The trainable tensors (those with a gradient).
template <Layer L>
State<typename L::backend> parameters(L& layer) {
  State<typename L::backend> entries;
  for (auto& entry : state(layer))
    if (entry.grad) entries.push_back(entry);
  return entries;
}

template <Layer L>
void zero_grad(L& layer) {
  for (auto& entry : parameters(layer)) ops::fill(*entry.grad, 0.0f);
}

}  // namespace clr::nn
