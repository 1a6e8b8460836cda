// Learning-rate schedules. SupContrast's: per-epoch cosine annealing or step decay (util.py's
// adjust_learning_rate) with an optional per-batch linear warm-up (warmup_learning_rate).
// google-research/simclr's: the learning rate scaled by batch size, then a per-step linear
// warm-up and cosine decay (WarmUpAndCosineDecay). Each schedule is a small value type whose
// lr(epoch, batch, batches_per_epoch) the training loop calls before every optimizer step;
// epochs count from 1 and batches from 0, as in SupContrast's training loops. Arithmetic is
// in double, as the references' Python floats.
#pragma once

#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstdint>
#include <numbers>
#include <vector>

#include "clr/core/error.hpp"

namespace clr::optim {

template <class S>
concept LrSchedule = requires(const S& schedule, int epoch, int batch, int batches_per_epoch) {
  { schedule.lr(epoch, batch, batches_per_epoch) } -> std::convertible_to<double>;
};

// adjust_learning_rate with --cosine: eta_min + (lr - eta_min) (1 + cos(pi epoch / epochs)) / 2.
inline double cosine_annealing(double lr, double eta_min, int epoch, int epochs) {
  return eta_min + (lr - eta_min) * (1.0 + std::cos(std::numbers::pi * epoch / epochs)) / 2.0;
}

// adjust_learning_rate without --cosine: lr rate^k, k = how many milestones epoch is past
// (np.sum(epoch > np.asarray(lr_decay_epochs))).
inline double step_decay(double lr, double rate, const std::vector<int>& milestones, int epoch) {
  const auto passed = std::count_if(milestones.begin(), milestones.end(),
                                    [epoch](int milestone) { return epoch > milestone; });
  return passed > 0 ? lr * std::pow(rate, static_cast<double>(passed)) : lr;
}

// warmup_learning_rate: from + p (to - from), p = (batch + (epoch - 1) batches_per_epoch) /
// (warm_epochs batches_per_epoch): from `from` at the first batch of epoch 1 up to one batch
// short of `to` at the last batch of epoch warm_epochs.
inline double linear_warmup(double from, double to, int epoch, int batch, int batches_per_epoch,
                            int warm_epochs) {
  const double p = (batch + (epoch - 1.0) * batches_per_epoch) /
                   (static_cast<double>(warm_epochs) * batches_per_epoch);
  return from + p * (to - from);
}

namespace detail {

inline void check_position(const char* who, int epoch, int batch, int batches_per_epoch) {
  require(epoch >= 1 && batches_per_epoch >= 1 && batch >= 0 && batch < batches_per_epoch, who,
          "::lr: epoch ", epoch, ", batch ", batch, " of ", batches_per_epoch,
          ", expected epoch >= 1 (epochs count from 1) and 0 <= batch < batches_per_epoch");
}

}  // namespace detail

// SupContrast's schedule, with its flags' names and main_supcon.py's defaults
// (main_linear.py: learning_rate 0.1, epochs 100, lr_decay_epochs {60, 75, 90},
// lr_decay_rate 0.2; main_ce.py: 0.2, 500, {350, 400, 450}, 0.1).
struct SupConSchedule {
  double learning_rate = 0.05;
  int epochs = 1000;
  std::vector<int> lr_decay_epochs = {700, 800, 900};
  double lr_decay_rate = 0.1;
  bool cosine = false;
  // main_supcon.py turns warm-up on for batches larger than 256; then warm_epochs is 10 and
  // warmup_from 0.01.
  bool warm = false;
  int warm_epochs = 10;
  double warmup_from = 0.01;

  // The cosine's floor: lr lr_decay_rate^3.
  double eta_min() const { return learning_rate * std::pow(lr_decay_rate, 3.0); }

  // adjust_learning_rate: the rate for a whole epoch, set before its first batch.
  double epoch_lr(int epoch) const {
    check();
    return cosine ? cosine_annealing(learning_rate, eta_min(), epoch, epochs)
                  : step_decay(learning_rate, lr_decay_rate, lr_decay_epochs, epoch);
  }

  // Where the warm-up heads: the cosine's value at warm_epochs, or learning_rate for step
  // decay (main_supcon.py's warmup_to, which ignores milestones before warm_epochs).
  double warmup_to() const {
    check();
    return cosine ? cosine_annealing(learning_rate, eta_min(), warm_epochs, epochs) : learning_rate;
  }

  // The rate for a batch: warm-up through epoch warm_epochs if warm, else epoch_lr.
  double lr(int epoch, int batch, int batches_per_epoch) const {
    detail::check_position("SupConSchedule", epoch, batch, batches_per_epoch);
    if (warm && epoch <= warm_epochs)
      return linear_warmup(warmup_from, warmup_to(), epoch, batch, batches_per_epoch, warm_epochs);
    return epoch_lr(epoch);
  }

  void check() const {
    require(std::isfinite(learning_rate) && learning_rate >= 0.0,
            "SupConSchedule: learning_rate = ", learning_rate, ", expected >= 0");
    require(epochs >= 1, "SupConSchedule: epochs = ", epochs, ", expected >= 1");
    require(std::isfinite(lr_decay_rate) && lr_decay_rate >= 0.0,
            "SupConSchedule: lr_decay_rate = ", lr_decay_rate, ", expected >= 0");
    require(!warm || warm_epochs >= 1, "SupConSchedule: warm_epochs = ", warm_epochs,
            ", expected >= 1");
  }
};

// SimCLR's learning_rate_scaling: `linear` is lr batch_size / 256, `sqrt` lr sqrt(batch_size).
enum class LrScaling { linear, sqrt };

inline double scaled_learning_rate(double learning_rate, int batch_size, LrScaling scaling) {
  require(batch_size >= 1, "scaled_learning_rate: batch_size = ", batch_size, ", expected >= 1");
  return scaling == LrScaling::linear ? learning_rate * batch_size / 256.0
                                      : learning_rate * std::sqrt(static_cast<double>(batch_size));
}

// simclr's WarmUpAndCosineDecay (tf2/model.py; model_util.py in tf1), per global step from 0:
// a linear ramp from 0 over warmup_steps, then Keras's CosineDecay(scaled_lr, total_steps -
// warmup_steps) down to 0 at total_steps. Defaults are simclr's flags; num_examples is the
// training set's size.
struct SimCLRSchedule {
  double learning_rate = 0.3;  // per 256 examples with linear scaling
  LrScaling learning_rate_scaling = LrScaling::linear;
  int train_batch_size = 512;
  double warmup_epochs = 10.0;
  int train_epochs = 100;
  std::int64_t train_steps = 0;  // overrides train_epochs when positive
  std::int64_t num_examples = 0;

  double scaled_lr() const {
    return scaled_learning_rate(learning_rate, train_batch_size, learning_rate_scaling);
  }
  // int(round(warmup_epochs * num_examples // train_batch_size)).
  std::int64_t warmup_steps() const {
    return static_cast<std::int64_t>(std::round(
        std::floor(warmup_epochs * static_cast<double>(num_examples) / train_batch_size)));
  }
  // get_train_steps: train_steps or num_examples * train_epochs // train_batch_size + 1.
  std::int64_t total_steps() const {
    return train_steps > 0 ? train_steps : num_examples * train_epochs / train_batch_size + 1;
  }

  double at_step(std::int64_t step) const {
    check();
    const std::int64_t warmup = warmup_steps();
    if (step < warmup) return static_cast<double>(step) / static_cast<double>(warmup) * scaled_lr();
    const auto decay_steps = static_cast<double>(total_steps() - warmup);
    const double progress = std::min(static_cast<double>(step - warmup), decay_steps) / decay_steps;
    const double decayed = 0.5 * (1.0 + std::cos(std::numbers::pi * progress));
    return scaled_lr() * decayed;
  }

  // The global step of SimCLR's loop: (epoch - 1) batches_per_epoch + batch.
  double lr(int epoch, int batch, int batches_per_epoch) const {
    detail::check_position("SimCLRSchedule", epoch, batch, batches_per_epoch);
    return at_step((epoch - 1) * static_cast<std::int64_t>(batches_per_epoch) + batch);
  }

  void check() const {
    require(std::isfinite(learning_rate) && learning_rate >= 0.0,
            "SimCLRSchedule: learning_rate = ", learning_rate, ", expected >= 0");
    require(num_examples >= 1, "SimCLRSchedule: num_examples = ", num_examples,
            ", expected the training set's size");
    require(train_batch_size >= 1 && train_epochs >= 0 && train_steps >= 0 &&
                std::isfinite(warmup_epochs) && warmup_epochs >= 0.0,
            "SimCLRSchedule: train_batch_size = ", train_batch_size,
            ", train_epochs = ", train_epochs, ", train_steps = ", train_steps,
            ", warmup_epochs = ", warmup_epochs, ", expected positive sizes");
    require(total_steps() > warmup_steps(), "SimCLRSchedule: ", total_steps(),
            " training steps, not more than the ", warmup_steps(), " warm-up steps");
  }
};

static_assert(LrSchedule<SupConSchedule> && LrSchedule<SimCLRSchedule>);

}  // namespace clr::optim
