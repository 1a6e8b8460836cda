// clr::optim::Optimizer<B>: what SGD, LARS and AdamW share. The parameters that
// nn::parameters(model) lists, the learning rate that a schedule sets before each step, the
// step count, the per-parameter state tensors ("slots", PyTorch's optimizer.state[p]) on the
// parameters' backend, and the saving and loading of all of it in a checkpoint, so that a
// resumed run continues with the same bits as one that never stopped.
//
// The optimizer keeps pointers to the model's tensors: the model must outlive it and stay
// where it is (loading a checkpoint into the model is fine: it replaces the tensors' storage,
// not the tensors).
#pragma once

#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "clr/core/backend.hpp"
#include "clr/core/checkpoint_file.hpp"
#include "clr/core/error.hpp"
#include "clr/core/ops.hpp"
#include "clr/core/tensor.hpp"
#include "clr/nn/layer.hpp"

namespace clr::optim {

// SimCLR's exclude_from_weight_decay (and, through it, exclude_from_layer_adaptation) is
// ['batch_normalization', 'bias'], matched against variable names; clr matches the kind.
inline bool is_bias_or_batch_norm(nn::ParameterKind kind) {
  return kind == nn::ParameterKind::bias || kind == nn::ParameterKind::batch_norm;
}

namespace detail {

inline void check_hyperparameter(const char* who, const char* name, double value, double low,
                                 double high = std::numeric_limits<double>::infinity()) {
  require(std::isfinite(value) && value >= low && value <= high, who, ": ", name, " = ", value,
          ", expected a finite value in [", low, ", ", high, "]");
}

// Shortest decimal text that reads back as the same double (std::to_chars round-trips).
inline std::string exact_text(double value) {
  char text[32];
  const auto result = std::to_chars(text, text + sizeof(text), value);
  return std::string(text, result.ptr);
}

template <class T>
T parse_number(const std::string& text, const std::string& what) {
  T value{};
  const auto result = std::from_chars(text.data(), text.data() + text.size(), value);
  require(result.ec == std::errc() && result.ptr == text.data() + text.size(), what, " is '", text,
          "', expected a number");
  return value;
}

}  // namespace detail

template <Backend B>
class Optimizer {
 public:
  virtual ~Optimizer() = default;
  Optimizer(const Optimizer&) = delete;  // copies of Tensor would share the state's storage
  Optimizer& operator=(const Optimizer&) = delete;
  Optimizer(Optimizer&&) noexcept = default;
  Optimizer& operator=(Optimizer&&) noexcept = default;

  // One update of every parameter from its gradient. Gradients are read, never changed:
  // clear them with zero_grad() before the next backward pass.
  virtual void step() = 0;

  // "SGD", "LARS" or "AdamW": what save_state records and load_state checks.
  const std::string& type() const { return type_; }
  double lr() const { return lr_; }
  void set_lr(double lr) {
    detail::check_hyperparameter(type_.c_str(), "lr", lr, 0.0);
    lr_ = lr;
  }
  // Updates applied so far (PyTorch's state['step']; AdamW's bias correction uses it).
  std::int64_t steps() const { return steps_; }
  const nn::State<B>& parameters() const { return params_; }

  void zero_grad() {
    for (auto& entry : params_) ops::fill(*entry.grad, 0.0f);
  }

  // Every state tensor, as "<prefix>.<slot>.<parameter name>" buffers (no gradient), in a
  // fixed order: slot by slot, parameters in the order given.
  void collect_state(const std::string& prefix, nn::State<B>& out) {
    for (auto& slot : slots_)
      for (std::size_t i = 0; i < params_.size(); ++i)
        out.push_back({state_name(prefix, slot.name, i), &slot.tensors[i], nullptr,
                       nn::ParameterKind::buffer});
  }

  // Appends the state tensors and, as metadata, "<prefix>.type", "<prefix>.steps" and
  // "<prefix>.lr" (exact decimal) to a checkpoint's contents.
  void save_state(CheckpointContents& out, const std::string& prefix = "optimizer") const {
    for (const auto& slot : slots_)
      for (std::size_t i = 0; i < params_.size(); ++i)
        out.tensors.emplace_back(state_name(prefix, slot.name, i),
                                 HostTensor{slot.tensors[i].shape(), slot.tensors[i].to_vector()});
    out.metadata[prefix + ".type"] = type_;
    out.metadata[prefix + ".steps"] = std::to_string(steps_);
    out.metadata[prefix + ".lr"] = detail::exact_text(lr_);
  }

  // Restores what save_state wrote. Every state tensor must be there with its shape and no
  // other "<prefix>." tensor may be; nothing changes unless all of it checks out. `origin`
  // (the file) names the source in errors.
  void load_state(const CheckpointContents& in, const std::string& origin,
                  const std::string& prefix = "optimizer") {
    auto metadata = [&](const std::string& key) -> const std::string& {
      const auto it = in.metadata.find(prefix + "." + key);
      require(it != in.metadata.end(), type_, "::load_state: ", origin, " has no ", prefix, ".",
              key, " (no optimizer state saved?)");
      return it->second;
    };
    require(metadata("type") == type_, type_, "::load_state: ", origin, " holds the state of ",
            metadata("type"), ", not of ", type_);
    const auto steps =
        detail::parse_number<std::int64_t>(metadata("steps"), origin + ": " + prefix + ".steps");
    const auto lr = detail::parse_number<double>(metadata("lr"), origin + ": " + prefix + ".lr");
    require(steps >= 0, type_, "::load_state: ", origin, ": ", prefix, ".steps is ", steps);
    detail::check_hyperparameter(type_.c_str(), "the saved lr", lr, 0.0);

    std::map<std::string, const HostTensor*> by_name;
    for (const auto& [name, tensor] : in.tensors)
      if (name.compare(0, prefix.size() + 1, prefix + ".") == 0) by_name[name] = &tensor;
    std::vector<const HostTensor*> found;
    for (const auto& slot : slots_)
      for (std::size_t i = 0; i < params_.size(); ++i) {
        const std::string name = state_name(prefix, slot.name, i);
        const auto it = by_name.find(name);
        require(it != by_name.end(), type_, "::load_state: ", origin, " has no tensor ", name);
        require(it->second->shape == slot.tensors[i].shape(), type_, "::load_state: ", origin, ": ",
                name, " has shape ", it->second->shape, ", the parameter has ",
                slot.tensors[i].shape());
        found.push_back(it->second);
      }
    require(by_name.size() == found.size(), type_, "::load_state: ", origin, " holds ",
            by_name.size(), " ", prefix, ".* tensors, this optimizer has ", found.size(),
            " (other parameters?)");

    std::size_t next = 0;
    for (auto& slot : slots_)
      for (auto& tensor : slot.tensors) {
        tensor = Tensor<B>::from(found[next]->values, found[next]->shape);
        ++next;
      }
    steps_ = steps;
    lr_ = lr;
  }

 protected:
  Optimizer(nn::State<B> parameters, double lr, std::string type)
      : params_(std::move(parameters)), type_(std::move(type)) {
    set_lr(lr);
    require(!params_.empty(), type_, ": the parameter list is empty");
    std::set<std::string> names;
    for (const auto& entry : params_) {
      require(entry.value != nullptr && entry.grad != nullptr, type_, ": ", entry.name,
              " has no gradient; pass nn::parameters(model), not nn::state(model)");
      require(entry.value->shape() == entry.grad->shape(), type_, ": ", entry.name, " has shape ",
              entry.value->shape(), " but its gradient ", entry.grad->shape());
      require(names.insert(entry.name).second, type_, ": the parameter name ", entry.name,
              " appears twice; state is saved by name");
    }
  }

  // A zero tensor per parameter, shaped like it; returns the slot's index for slot().
  std::size_t add_slot(std::string name) {
    Slot slot{std::move(name), {}};
    for (const auto& entry : params_) slot.tensors.emplace_back(entry.value->shape());
    slots_.push_back(std::move(slot));
    return slots_.size() - 1;
  }
  Tensor<B>& slot(std::size_t index, std::size_t parameter) {
    return slots_[index].tensors[parameter];
  }

  // Called by step() first: a layer may have replaced a tensor since the last step.
  void check_shapes() const {
    for (const auto& entry : params_)
      require(entry.value->shape() == entry.grad->shape(), type_, "::step: ", entry.name,
              " has shape ", entry.value->shape(), " but its gradient ", entry.grad->shape());
  }
  void count_step() { ++steps_; }

 private:
  struct Slot {
    std::string name;
    std::vector<Tensor<B>> tensors;  // one per parameter, shaped like it
  };

  std::string state_name(const std::string& prefix, const std::string& slot,
                         std::size_t parameter) const {
    return nn::join_name(prefix, slot + "." + params_[parameter].name);
  }

  nn::State<B> params_;
  std::string type_;
  double lr_ = 0.0;
  std::int64_t steps_ = 0;
  std::vector<Slot> slots_;
};

}  // namespace clr::optim
