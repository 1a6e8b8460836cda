// Optimizer state in checkpoints: saved, written, read and loaded into a fresh optimizer, the
// next steps are the same bits as those of the optimizer that never stopped; damaged or
// mismatched state raises clr::Error and changes nothing.
#include <doctest/doctest.h>

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "optim/optim_test_util.hpp"
#include "support/backends.hpp"
#include "support/random.hpp"

using clr::CheckpointContents;
using clr::Shape;
using clr::nn::ParameterKind;
using clr::testing::ParameterSet;
using namespace clr::optim;

namespace {

template <clr::Backend B>
ParameterSet<B> small_model(std::uint64_t seed) {
  ParameterSet<B> set;
  set.add("conv.weight", ParameterKind::weight, clr::testing::normal_values(24, seed),
          Shape{2, 3, 2, 2});
  set.add("bn.weight", ParameterKind::batch_norm, clr::testing::normal_values(2, seed + 1),
          Shape{2});
  set.add("fc.bias", ParameterKind::bias, clr::testing::normal_values(3, seed + 2), Shape{3});
  return set;
}

template <clr::Backend B>
ParameterSet<B> copy_of(const ParameterSet<B>& model) {
  ParameterSet<B> copy;
  for (std::size_t i = 0; i < model.entries.size(); ++i)
    copy.add(model.entries[i].name, model.entries[i].kind, model.value(i),
             model.entries[i].value->shape());
  return copy;
}

// Gradients and a learning rate that depend on the step only, as a deterministic run's.
template <clr::Backend B>
void train(Optimizer<B>& optimizer, ParameterSet<B>& model, int first, int last) {
  for (int step = first; step < last; ++step) {
    for (std::size_t i = 0; i < model.entries.size(); ++i)
      model.set_grad(
          i, clr::testing::normal_values(model.entries[i].value->numel(), 100 + 10 * step + i));
    optimizer.set_lr(0.1 / (1 + step));
    optimizer.step();
  }
}

std::filesystem::path scratch(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() / "clr_test_optim_state";
  std::filesystem::create_directories(dir);
  return dir / name;
}

template <clr::Backend B>
std::unique_ptr<Optimizer<B>> make(const std::string& type, const clr::nn::State<B>& params) {
  if (type == "SGD") return std::make_unique<SGD<B>>(params, SGDOptions{.nesterov = true});
  if (type == "LARS") return std::make_unique<LARS<B>>(params, LARSOptions{.weight_decay = 1e-3});
  return std::make_unique<AdamW<B>>(params);
}

}  // namespace

TEST_CASE_TEMPLATE("optimizer state: save, write, read, load, and the run continues bit for bit", B,
                   CLR_TEST_BACKENDS) {
  CLR_SKIP_WITHOUT_DEVICE(B);
  for (const std::string type : {"SGD", "LARS", "AdamW"}) {
    CAPTURE(type);
    auto model = small_model<B>(1);
    auto optimizer = make<B>(type, model.entries);
    train(*optimizer, model, 0, 3);

    // The checkpoint holds the model (as nn::state_contents would) and the optimizer.
    CheckpointContents contents;
    for (const auto& entry : model.entries)
      contents.tensors.emplace_back(
          entry.name, clr::HostTensor{entry.value->shape(), entry.value->to_vector()});
    optimizer->save_state(contents);
    CHECK(contents.metadata.at("optimizer.type") == type);
    CHECK(contents.metadata.at("optimizer.steps") == "3");
    const auto path = scratch(type + "_" + B::name + ".clr");
    clr::write_checkpoint(path.string(), contents);

    auto resumed_model = copy_of(model);
    auto resumed = make<B>(type, resumed_model.entries);
    resumed->set_lr(0.7);
    resumed->load_state(clr::read_checkpoint(path.string()), path.string());
    CHECK(resumed->steps() == 3);
    CHECK(resumed->lr() == optimizer->lr());  // the exact double, through its decimal text

    // A fresh optimizer is a different run (SGD's buffer restarts, AdamW's corrections):
    // what makes the comparison below mean something.
    auto restarted_model = copy_of(model);
    auto restarted = make<B>(type, restarted_model.entries);

    train(*optimizer, model, 3, 6);
    train(*resumed, resumed_model, 3, 6);
    train(*restarted, restarted_model, 3, 6);
    for (std::size_t i = 0; i < model.entries.size(); ++i) {
      CAPTURE(model.entries[i].name);
      CHECK(resumed_model.value(i) == model.value(i));
      CHECK(restarted_model.value(i) != model.value(i));
    }
    clr::nn::State<B> state, resumed_state;
    optimizer->collect_state("optimizer", state);
    resumed->collect_state("optimizer", resumed_state);
    REQUIRE(state.size() == resumed_state.size());
    for (std::size_t i = 0; i < state.size(); ++i) {
      CHECK(resumed_state[i].name == state[i].name);
      CHECK(resumed_state[i].value->to_vector() == state[i].value->to_vector());
    }
  }
}

TEST_CASE_TEMPLATE("optimizer state: names per slot and parameter, none without momentum", B,
                   CLR_TEST_BACKENDS) {
  CLR_SKIP_WITHOUT_DEVICE(B);
  auto model = small_model<B>(1);
  auto names = [](Optimizer<B>& optimizer, const std::string& prefix) {
    clr::nn::State<B> state;
    optimizer.collect_state(prefix, state);
    std::vector<std::string> out;
    for (const auto& entry : state) out.push_back(entry.name);
    return out;
  };
  SGD<B> plain(model.entries, {.momentum = 0.0});
  CHECK(names(plain, "optimizer").empty());
  SGD<B> sgd(model.entries);
  CHECK(names(sgd, "optimizer") == std::vector<std::string>{"optimizer.momentum_buffer.conv.weight",
                                                            "optimizer.momentum_buffer.bn.weight",
                                                            "optimizer.momentum_buffer.fc.bias"});
  LARS<B> lars(model.entries);
  CHECK(names(lars, "opt")[1] == "opt.momentum.bn.weight");
  AdamW<B> adamw(model.entries);
  const auto adamw_names = names(adamw, "optimizer");
  REQUIRE(adamw_names.size() == 6);
  CHECK(adamw_names[0] == "optimizer.exp_avg.conv.weight");
  CHECK(adamw_names[5] == "optimizer.exp_avg_sq.fc.bias");
}

TEST_CASE_TEMPLATE("optimizer state: mismatched or damaged state raises clr::Error", B,
                   CLR_TEST_BACKENDS) {
  CLR_SKIP_WITHOUT_DEVICE(B);
  auto model = small_model<B>(1);
  AdamW<B> adamw(model.entries);
  train<B>(adamw, model, 0, 2);
  CheckpointContents good;
  adamw.save_state(good);

  SGD<B> sgd(model.entries);
  CHECK_THROWS_WITH_AS(sgd.load_state(good, "ckpt"),
                       doctest::Contains("ckpt holds the state of AdamW, not of SGD"), clr::Error);
  CHECK_THROWS_WITH_AS(adamw.load_state(good, "ckpt", "other"),
                       doctest::Contains("ckpt has no other.type"), clr::Error);

  auto damaged = [&](const std::function<void(CheckpointContents&)>& damage) {
    CheckpointContents contents = good;
    damage(contents);
    return contents;
  };
  AdamW<B> target(model.entries);
  CHECK_THROWS_WITH_AS(
      target.load_state(damaged([](auto& c) { c.tensors.erase(c.tensors.begin()); }), "ckpt"),
      doctest::Contains("ckpt has no tensor optimizer.exp_avg.conv.weight"), clr::Error);
  CHECK_THROWS_WITH_AS(
      target.load_state(damaged([](auto& c) { c.tensors[2].second.shape = Shape{4}; }), "ckpt"),
      doctest::Contains("optimizer.exp_avg.fc.bias has shape [4], the parameter has [3]"),
      clr::Error);
  CHECK_THROWS_WITH_AS(
      target.load_state(
          damaged([](auto& c) {
            c.tensors.emplace_back("optimizer.exp_avg.extra", clr::HostTensor{Shape{1}, {0.0f}});
          }),
          "ckpt"),
      doctest::Contains("holds 7 optimizer.* tensors, this optimizer has 6"), clr::Error);
  CHECK_THROWS_WITH_AS(
      target.load_state(damaged([](auto& c) { c.metadata["optimizer.steps"] = "2x"; }), "ckpt"),
      doctest::Contains("optimizer.steps is '2x', expected a number"), clr::Error);
  // Nothing was loaded by the failed attempts.
  CHECK(target.steps() == 0);
  clr::nn::State<B> state;
  target.collect_state("optimizer", state);
  for (const auto& entry : state)
    for (float v : entry.value->to_vector()) CHECK(v == 0.0f);

  // Tensors outside the prefix (the model's) are not the optimizer's business.
  CheckpointContents with_model = good;
  with_model.tensors.emplace_back("conv.weight", clr::HostTensor{Shape{1}, {1.0f}});
  target.load_state(with_model, "ckpt");
  CHECK(target.steps() == 2);
}
