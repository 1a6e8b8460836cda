// The learning-rate schedules against SupContrast's adjust_learning_rate /
// warmup_learning_rate and simclr's WarmUpAndCosineDecay (fixtures/make_fixtures.py runs
// them), and on numbers worked out by hand: cosine end points and midpoint, step-decay
// milestones, the warm-up's start, end and continuity, SimCLR's batch-size scaling.
#include <doctest/doctest.h>

#include <cmath>
#include <numbers>
#include <string>
#include <vector>

#include "optim/optim_test_util.hpp"
#include "support/backends.hpp"

using clr::testing::Json;
using namespace clr::optim;

TEST_CASE("SupConSchedule matches SupContrast's adjust_learning_rate and warm-up") {
  int checked = 0;
  for (const Json& c : clr::testing::optim_fixtures("schedules.json")) {
    if (c["kind"].string() != "supcon") continue;
    CAPTURE(c["name"].string());
    const Json& o = c["options"];
    const SupConSchedule schedule{.learning_rate = o["learning_rate"].number(),
                                  .epochs = static_cast<int>(o["epochs"].number()),
                                  .lr_decay_epochs = o["lr_decay_epochs"].numbers<int>(),
                                  .lr_decay_rate = o["lr_decay_rate"].number(),
                                  .cosine = o["cosine"].boolean(),
                                  .warm = o["warm"].boolean()};
    const int batches = static_cast<int>(c["batches_per_epoch"].number());
    for (const Json& point : c["points"].array()) {
      const auto p = point.numbers<double>();
      CAPTURE(p[0]);
      CAPTURE(p[1]);
      CHECK(schedule.lr(static_cast<int>(p[0]), static_cast<int>(p[1]), batches) ==
            doctest::Approx(p[2]).epsilon(1e-13));
      ++checked;
    }
  }
  CHECK(checked == 128);
}

TEST_CASE("SimCLRSchedule matches simclr's WarmUpAndCosineDecay") {
  int checked = 0;
  for (const Json& c : clr::testing::optim_fixtures("schedules.json")) {
    if (c["kind"].string() != "simclr") continue;
    CAPTURE(c["name"].string());
    const Json& o = c["options"];
    const SimCLRSchedule schedule{
        .learning_rate = o["learning_rate"].number(),
        .learning_rate_scaling =
            o["learning_rate_scaling"].string() == "sqrt" ? LrScaling::sqrt : LrScaling::linear,
        .train_batch_size = static_cast<int>(o["train_batch_size"].number()),
        .warmup_epochs = o["warmup_epochs"].number(),
        .train_epochs = static_cast<int>(o["train_epochs"].number()),
        .train_steps = static_cast<std::int64_t>(o["train_steps"].number()),
        .num_examples = static_cast<std::int64_t>(c["num_examples"].number())};
    for (const Json& point : c["points"].array()) {
      const auto p = point.numbers<double>();
      CAPTURE(p[0]);
      CHECK(schedule.at_step(static_cast<std::int64_t>(p[0])) ==
            doctest::Approx(p[1]).epsilon(1e-13));
      ++checked;
    }
  }
  CHECK(checked == 26);
}

TEST_CASE("SupConSchedule, cosine: lr 0.5, 100 epochs, decay rate 0.1") {
  const SupConSchedule schedule{
      .learning_rate = 0.5, .epochs = 100, .lr_decay_rate = 0.1, .cosine = true};
  CHECK(schedule.eta_min() == doctest::Approx(5e-4));
  CHECK(cosine_annealing(0.5, 5e-4, 0, 100) == doctest::Approx(0.5));
  CHECK(schedule.epoch_lr(1) == doctest::Approx(0.49987676345134147));
  CHECK(schedule.epoch_lr(50) == doctest::Approx(0.25025));  // eta_min + (lr - eta_min) / 2
  CHECK(schedule.epoch_lr(100) == doctest::Approx(5e-4));
  // Per epoch, not per batch: every batch of an epoch gets the same rate.
  CHECK(schedule.lr(37, 0, 50) == schedule.lr(37, 49, 50));
  CHECK(schedule.lr(37, 0, 50) > schedule.lr(38, 0, 50));
}

TEST_CASE("SupConSchedule, warm-up: from 0.01 to the cosine's value at epoch 10") {
  constexpr int kBatches = 20;
  const SupConSchedule schedule{
      .learning_rate = 0.5, .epochs = 100, .lr_decay_rate = 0.1, .cosine = true, .warm = true};
  CHECK(schedule.warmup_to() == doctest::Approx(0.4877763649447146));
  CHECK(schedule.lr(1, 0, kBatches) == doctest::Approx(0.01));
  // Halfway: p = (0 + 5 * 20) / (10 * 20).
  CHECK(schedule.lr(6, 0, kBatches) == doctest::Approx(0.01 + 0.5 * (schedule.warmup_to() - 0.01)));
  // The last warm-up batch is one step short of warmup_to; the next step would reach it.
  const double last = schedule.lr(10, kBatches - 1, kBatches);
  const double increment = (schedule.warmup_to() - 0.01) / (10 * kBatches);
  CHECK(last == doctest::Approx(schedule.warmup_to() - increment));
  CHECK(schedule.lr(10, kBatches - 2, kBatches) == doctest::Approx(last - increment));
  // Epoch 11 hands over to the cosine: continuous up to one epoch of decay.
  CHECK(schedule.lr(11, 0, kBatches) == doctest::Approx(0.4852349720463178));
  CHECK(std::abs(schedule.lr(11, 0, kBatches) - last) < 0.005);

  // Step decay warms up to learning_rate itself.
  const SupConSchedule step{.learning_rate = 0.1, .warm = true};
  CHECK(step.warmup_to() == 0.1);
  CHECK(step.lr(10, kBatches - 1, kBatches) == doctest::Approx(0.1 - 0.09 / (10 * kBatches)));
  CHECK(step.lr(11, 0, kBatches) == 0.1);
}

TEST_CASE("SupConSchedule, step decay: lr rate^(milestones passed)") {
  const SupConSchedule schedule;  // main_supcon.py: 0.05, {700, 800, 900}, 0.1
  CHECK(schedule.lr(1, 0, 10) == 0.05);
  CHECK(schedule.lr(700, 9, 10) == 0.05);  // epoch > milestone, strictly
  CHECK(schedule.lr(701, 0, 10) == doctest::Approx(0.005));
  CHECK(schedule.lr(800, 0, 10) == doctest::Approx(0.005));
  CHECK(schedule.lr(801, 0, 10) == doctest::Approx(0.0005));
  CHECK(schedule.lr(1000, 0, 10) == doctest::Approx(5e-5));
  CHECK(step_decay(0.1, 0.2, {60, 75, 90}, 76) == doctest::Approx(0.004));
}

TEST_CASE("SimCLR: learning-rate scaling and warm-up then cosine decay per step") {
  CHECK(scaled_learning_rate(0.3, 4096, LrScaling::linear) == doctest::Approx(4.8));
  CHECK(scaled_learning_rate(0.075, 4096, LrScaling::sqrt) == doctest::Approx(4.8));
  const SimCLRSchedule schedule{.learning_rate = 1.0,
                                .train_batch_size = 256,
                                .warmup_epochs = 2,
                                .train_epochs = 10,
                                .num_examples = 2560};  // 10 steps an epoch
  CHECK(schedule.warmup_steps() == 20);
  CHECK(schedule.total_steps() == 101);
  CHECK(schedule.lr(1, 0, 10) == 0.0);
  CHECK(schedule.lr(1, 5, 10) == doctest::Approx(0.25));
  CHECK(schedule.lr(3, 0, 10) == doctest::Approx(1.0));  // step 20: the top
  CHECK(schedule.at_step(60) == doctest::Approx(0.5 * (1 + std::cos(std::numbers::pi * 40 / 81))));
  CHECK(schedule.at_step(101) == doctest::Approx(0.0));
  CHECK(schedule.at_step(500) == doctest::Approx(0.0));  // CosineDecay stays at its floor
}

TEST_CASE("schedules: bad positions and settings raise clr::Error") {
  const SupConSchedule supcon;
  CHECK_THROWS_WITH_AS(supcon.lr(0, 0, 10), doctest::Contains("epochs count from 1"), clr::Error);
  CHECK_THROWS_WITH_AS(supcon.lr(1, 10, 10), doctest::Contains("batch 10 of 10"), clr::Error);
  const SupConSchedule no_epochs{.epochs = 0, .cosine = true};
  CHECK_THROWS_WITH_AS(no_epochs.lr(1, 0, 1), doctest::Contains("epochs = 0"), clr::Error);
  const SimCLRSchedule no_data;
  CHECK_THROWS_WITH_AS(no_data.lr(1, 0, 1), doctest::Contains("num_examples = 0"), clr::Error);
  const SimCLRSchedule too_short{.train_steps = 5, .num_examples = 50000};
  CHECK_THROWS_WITH_AS(too_short.at_step(0), doctest::Contains("not more than the 976 warm-up"),
                       clr::Error);
}
