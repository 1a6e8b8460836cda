// SGD, AdamW and LARS against the reference trajectories of fixtures/make_fixtures.py:
// torch.optim.SGD / torch.optim.AdamW (float32) and a numpy transcription of simclr's
// LARSOptimizer, five steps with changing learning rates, then the optimizer's state.
#include <doctest/doctest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "optim/optim_test_util.hpp"
#include "support/backends.hpp"

using clr::testing::Json;
using namespace clr::optim;

namespace {

// One rounding of float32 per operation apart from the reference, over five steps.
constexpr double kTolerance = 2e-6;

template <clr::Backend B>
std::unique_ptr<Optimizer<B>> make_optimizer(const Json& c, const clr::nn::State<B>& params) {
  const Json& o = c["options"];
  auto flag = [&](const char* key) { return o.has(key) && o[key].boolean(); };
  const std::string kind = c["kind"].string();
  const double lr = c["lrs"].numbers<double>()[0];
  if (kind == "sgd")
    return std::make_unique<SGD<B>>(params,
                                    SGDOptions{.lr = lr,
                                               .momentum = o["momentum"].number(),
                                               .dampening = o["dampening"].number(),
                                               .weight_decay = o["weight_decay"].number(),
                                               .nesterov = flag("nesterov"),
                                               .exclude_bias_and_bn_from_weight_decay =
                                                   flag("exclude_bias_and_bn_from_weight_decay")});
  if (kind == "adamw")
    return std::make_unique<AdamW<B>>(
        params, AdamWOptions{.lr = lr,
                             .beta1 = o["beta1"].number(),
                             .beta2 = o["beta2"].number(),
                             .eps = o["eps"].number(),
                             .weight_decay = o["weight_decay"].number(),
                             .exclude_bias_and_bn_from_weight_decay =
                                 flag("exclude_bias_and_bn_from_weight_decay")});
  return std::make_unique<LARS<B>>(params,
                                   LARSOptions{.lr = lr,
                                               .momentum = o["momentum"].number(),
                                               .weight_decay = o["weight_decay"].number(),
                                               .eeta = o["eeta"].number(),
                                               .nesterov = flag("nesterov"),
                                               .exclude_bias_and_bn = flag("exclude_bias_and_bn")});
}

template <clr::Backend B>
void check_trajectory(const Json& c) {
  CAPTURE(c["kind"].string());
  CAPTURE(c["name"].string());
  auto set = clr::testing::fixture_parameters<B>(c);
  auto optimizer = make_optimizer<B>(c, set.entries);
  auto* lars = dynamic_cast<LARS<B>*>(optimizer.get());
  const auto lrs = c["lrs"].numbers<double>();
  const auto& steps = c["expected"].array();
  REQUIRE(steps.size() == lrs.size());
  for (std::size_t step = 0; step < steps.size(); ++step) {
    CAPTURE(step);
    for (std::size_t i = 0; i < set.entries.size(); ++i)
      set.set_grad(i, c["grads"].array()[step].array()[i].numbers<float>());
    if (lars) {
      const auto ratios = c["trust_ratios"].array()[step].numbers<double>();
      for (std::size_t i = 0; i < set.entries.size(); ++i)
        CHECK(lars->trust_ratio(i) == doctest::Approx(ratios[i]).epsilon(1e-6));
    }
    optimizer->set_lr(lrs[step]);
    optimizer->step();
    CHECK(optimizer->steps() == static_cast<std::int64_t>(step + 1));
    for (std::size_t i = 0; i < set.entries.size(); ++i) {
      CAPTURE(set.entries[i].name);
      CHECK(clr::testing::worst_error(set.value(i), steps[step].array()[i].numbers<double>()) <=
            kTolerance);
    }
  }
  // The state tensors, by the names a checkpoint gives them.
  clr::nn::State<B> state;
  optimizer->collect_state("optimizer", state);
  std::map<std::string, std::vector<float>> by_name;
  for (const auto& entry : state) {
    CHECK(entry.grad == nullptr);
    CHECK(entry.kind == clr::nn::ParameterKind::buffer);
    by_name[entry.name] = entry.value->to_vector();
  }
  std::size_t expected_count = 0;
  for (const auto& slot : c["state"].object())
    for (const auto& tensor : slot.second.object()) {
      const std::string name = "optimizer." + slot.first + "." + tensor.first;
      const Json& values = tensor.second;
      CAPTURE(name);
      REQUIRE(by_name.count(name) == 1);
      CHECK(clr::testing::worst_error(by_name[name], values.numbers<double>()) <= kTolerance);
      ++expected_count;
    }
  CHECK(state.size() == expected_count);
}

}  // namespace

TEST_CASE_TEMPLATE("SGD follows torch.optim.SGD: momentum, dampening, nesterov, weight decay", B,
                   CLR_TEST_BACKENDS) {
  CLR_SKIP_WITHOUT_DEVICE(B);
  const auto cases = clr::testing::optim_fixtures("sgd.json");
  REQUIRE(cases.size() == 5);
  for (const Json& c : cases) check_trajectory<B>(c);
}

TEST_CASE_TEMPLATE("AdamW follows torch.optim.AdamW: bias correction, decoupled decay", B,
                   CLR_TEST_BACKENDS) {
  CLR_SKIP_WITHOUT_DEVICE(B);
  const auto cases = clr::testing::optim_fixtures("adamw.json");
  REQUIRE(cases.size() == 2);
  for (const Json& c : cases) check_trajectory<B>(c);
}

TEST_CASE_TEMPLATE("LARS follows simclr's LARSOptimizer: trust ratios, exclusions, nesterov", B,
                   CLR_TEST_BACKENDS) {
  CLR_SKIP_WITHOUT_DEVICE(B);
  const auto cases = clr::testing::optim_fixtures("lars.json");
  REQUIRE(cases.size() == 4);
  for (const Json& c : cases) check_trajectory<B>(c);
}
