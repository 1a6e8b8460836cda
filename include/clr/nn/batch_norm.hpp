// BatchNorm1d ([batch, features]) and BatchNorm2d ([batch, channels, h, w]), as PyTorch's:
// in train mode each channel is normalised by the batch's mean and biased variance, and
// the running statistics move by `momentum` towards the batch's mean and unbiased
// variance; in eval mode the running statistics are used. `scale` (gamma) and `center`
// (beta) can be switched off, as SimCLR's heads do (center = false on the last BN);
// `relu` fuses a ReLU after it (BatchNormOptions).
//
// The per-channel arithmetic (a few numbers per channel) is done on the host; the
// backend does the reductions and the per-channel affine maps over the whole tensor.
//
// SyncBN (SupContrast's --syncBN, PyTorch's SyncBatchNorm): with a BatchStatsSync attached
// (dist::sync_batch_norm attaches one to every BatchNorm of a model), train mode normalises
// by the statistics of all ranks' batches: forward gathers each rank's per-channel mean,
// variance and count and combines them (Chan et al.'s pairwise formula, in double); backward
// all-reduces the two per-channel sums that dx needs. gamma's and beta's gradients stay this
// rank's share, which the data-parallel gradient all-reduce adds up. Detached (the
// default), the switch costs one pointer test per call.
#pragma once

#include <algorithm>
#include <cmath>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "clr/core/error.hpp"
#include "clr/core/tensor.hpp"
#include "clr/nn/layer.hpp"

namespace clr::nn {

// The two collectives SyncBN needs, on host floats (a few per channel); implemented over a
// communicator by dist::sync_batch_norm.
class BatchStatsSync {
 public:
  virtual ~BatchStatsSync() = default;
  // Every rank's `local` (the same length everywhere), rank-major.
  virtual std::vector<float> all_gather(std::span<const float> local) = 0;
  virtual void all_reduce_sum(std::span<float> values) = 0;
};

// What every BatchNorm<B, Rank> is, whatever B and Rank: a layer that can be synchronised.
class SyncableBatchNorm {
 public:
  void set_sync(std::shared_ptr<BatchStatsSync> sync) { sync_ = std::move(sync); }
  bool synchronized() const { return sync_ != nullptr; }

 protected:
  std::shared_ptr<BatchStatsSync> sync_;
};

namespace detail {
// Set only while visit_batch_norms walks a model's state (below).
inline thread_local std::function<void(SyncableBatchNorm&)>* batch_norm_visitor = nullptr;
}  // namespace detail

struct BatchNormOptions {
  float eps = 1e-5f;
  float momentum = 0.1f;
  bool scale = true;   // learn gamma (PyTorch's weight)
  bool center = true;  // learn beta (PyTorch's bias)
  // A ReLU after the normalisation, fused into its passes (nothing of it in the state):
  // forward writes max(y, 0) where BN + ReLU wrote y and read it back; backward recomputes the
  // ReLU's mask from the input it keeps anyway, where a ReLU layer kept its output and made a
  // pass of its own. ResNet's blocks and stem and SimCLR's BN-MLP head use it.
  bool relu = false;
};

template <Backend B, int Rank>
class BatchNorm : public SyncableBatchNorm {
  static_assert(Rank == 2 || Rank == 4, "BatchNorm: inputs are [n, c] or [n, c, h, w]");

 public:
  using backend = B;

  explicit BatchNorm(int channels, BatchNormOptions options = {})
      : options_(options),
        running_mean_({channels}),
        running_var_(Tensor<B>::from(std::vector<float>(channels, 1.0f), {channels})),
        batches_tracked_({1}) {
    require(channels >= 1, "BatchNorm: channels must be >= 1, got ", channels);
    require(options.eps > 0.0f && options.momentum >= 0.0f && options.momentum <= 1.0f,
            "BatchNorm: need eps > 0 and momentum in [0, 1], got eps = ", options.eps,
            ", momentum = ", options.momentum);
    if (options.scale) {
      gamma_ = Tensor<B>::from(std::vector<float>(channels, 1.0f), {channels});
      gamma_grad_ = Tensor<B>({channels});
    }
    if (options.center) {
      beta_ = Tensor<B>({channels});
      beta_grad_ = Tensor<B>({channels});
    }
  }

  Tensor<B> forward(const Tensor<B>& x, Mode mode) { return normalize(x, nullptr, mode); }

  // max(BN(x) + residual, 0) in one pass: a residual block's last BatchNorm, its sum with the
  // shortcut and the ReLU after the sum, where BN's output was written, read back and
  // written again by the sum. The ReLU's mask is not BN's (it depends on the residual):
  // backward takes the gradient at BN's output, as for forward(x), and the caller keeps the
  // sum for the mask (ReLU::keep_output). Only without the fused `relu` option.
  Tensor<B> forward_add_relu(const Tensor<B>& x, const Tensor<B>& residual, Mode mode) {
    require(!options_.relu, name(),
            "::forward_add_relu: the ReLU comes after the sum, not after BN (relu = false)");
    require(residual.shape() == x.shape(), name(), "::forward_add_relu: residual has shape ",
            residual.shape(), ", expected ", x.shape());
    return normalize(x, &residual, mode);
  }

  Tensor<B> backward(const Tensor<B>& dy) {
    const Tensor<B> input = std::exchange(input_, Tensor<B>());
    require(!input.empty(), name(),
            "::backward: call forward in train or eval mode before each backward");
    require(dy.shape() == input.shape(), name(), "::backward: dy has shape ", dy.shape(),
            ", expected ", input.shape());
    const int batch = dy.dim(0), c = channels();
    const int spatial = static_cast<int>(dy.shape().row_size() / c);
    // With the fused ReLU, dy is gated by its mask first: the gradient at BN's own output.
    const Tensor<B> gate_scale = std::exchange(gate_scale_, Tensor<B>());
    const Tensor<B> gate_shift = std::exchange(gate_shift_, Tensor<B>());
    const float* scale_data = options_.relu ? gate_scale.data() : nullptr;
    const float* shift_data = options_.relu ? gate_shift.data() : nullptr;
    Tensor<B> sums = Tensor<B>::uninitialized({c}), dots = Tensor<B>::uninitialized({c});
    B::channel_sums_dot(dy.data(), input.data(), batch, c, spatial, scale_data, shift_data,
                        sums.data(), dots.data());
    std::vector<float> sum_dy = sums.to_vector(), sum_dy_x = dots.to_vector();
    const std::vector<float> gamma = gamma_values();
    // sum dy x_hat = inv_std (sum dy x - mean sum dy); dx = A dy + B x + C per channel,
    // where the batch statistics' own dependence on x (train mode) gives B and part of C.
    std::vector<float> a(c), b(c), shift(c), dgamma(c);
    for (int i = 0; i < c; ++i)
      dgamma[i] =
          static_cast<float>(inv_std_[i] * (double(sum_dy_x[i]) - double(mean_[i]) * sum_dy[i]));
    if (options_.scale) accumulate(gamma_grad_, dgamma);
    if (options_.center) accumulate(beta_grad_, sum_dy);
    double count = double(batch) * spatial;
    if (sync_ && mode_ == Mode::train) {
      // dx depends on the global batch's sums; gamma's and beta's gradients (above) are
      // this rank's share.
      std::vector<float> both(sum_dy);
      both.insert(both.end(), sum_dy_x.begin(), sum_dy_x.end());
      sync_->all_reduce_sum(both);
      std::copy(both.begin(), both.begin() + c, sum_dy.begin());
      std::copy(both.begin() + c, both.end(), sum_dy_x.begin());
      count = double(count_);
    }
    for (int i = 0; i < c; ++i) {
      const double dy_xhat = inv_std_[i] * (double(sum_dy_x[i]) - double(mean_[i]) * sum_dy[i]);
      const double scale = double(gamma[i]) * inv_std_[i];
      a[i] = static_cast<float>(scale);
      if (mode_ == Mode::train) {
        const double slope = -scale * inv_std_[i] * dy_xhat / count;
        b[i] = static_cast<float>(slope);
        shift[i] = static_cast<float>(-scale * sum_dy[i] / count - slope * mean_[i]);
      }
    }
    Tensor<B> dx = Tensor<B>::uninitialized(dy.shape());
    const auto ta = Tensor<B>::from(a, {c}), tb = Tensor<B>::from(b, {c}),
               tc = Tensor<B>::from(shift, {c});
    B::channel_affine(dy.data(), input.data(), batch, c, spatial, ta.data(), tb.data(), tc.data(),
                      scale_data, shift_data, dx.data());
    return dx;
  }

  void collect_state(const std::string& prefix, State<B>& out) {
    if (detail::batch_norm_visitor) (*detail::batch_norm_visitor)(*this);
    if (options_.scale)
      out.push_back(
          {join_name(prefix, "weight"), &gamma_, &gamma_grad_, ParameterKind::batch_norm});
    if (options_.center)
      out.push_back({join_name(prefix, "bias"), &beta_, &beta_grad_, ParameterKind::batch_norm});
    out.push_back(
        {join_name(prefix, "running_mean"), &running_mean_, nullptr, ParameterKind::buffer});
    out.push_back(
        {join_name(prefix, "running_var"), &running_var_, nullptr, ParameterKind::buffer});
    out.push_back({join_name(prefix, "num_batches_tracked"), &batches_tracked_, nullptr,
                   ParameterKind::buffer});
  }

  int channels() const { return running_mean_.dim(0); }
  const BatchNormOptions& options() const { return options_; }

 private:
  // forward's and forward_add_relu's pass: BN(x), with the fused ReLU, or max(BN(x) +
  // residual, 0) where a residual is given.
  Tensor<B> normalize(const Tensor<B>& x, const Tensor<B>* residual, Mode mode) {
    require(x.rank() == Rank && x.dim(1) == channels(), name(), ": input has shape ", x.shape(),
            ", expected [batch, ", channels(), Rank == 4 ? ", height, width]" : "]");
    const int batch = x.dim(0), spatial = static_cast<int>(x.shape().row_size() / channels());
    const int c = channels();
    mode_ = mode;
    input_ = keeps_activations(mode) ? x : Tensor<B>();
    if (mode == Mode::train) {
      require(std::int64_t{batch} * spatial > 1, name(),
              ": train mode needs more than one value per channel, got shape ", x.shape());
      Tensor<B> mean = Tensor<B>::uninitialized({c}), var = Tensor<B>::uninitialized({c});
      B::channel_moments(x.data(), batch, c, spatial, mean.data(), var.data());
      mean_ = mean.to_vector();
      std::vector<float> batch_var = var.to_vector();
      count_ = std::int64_t{batch} * spatial;
      if (sync_) combine_across_ranks(batch_var);
      inv_std_.resize(c);
      for (int i = 0; i < c; ++i) inv_std_[i] = 1.0f / std::sqrt(batch_var[i] + options_.eps);
      update_running(batch_var, count_);
    } else {
      mean_ = running_mean_.to_vector();
      const std::vector<float> var = running_var_.to_vector();
      inv_std_.resize(c);
      for (int i = 0; i < c; ++i) inv_std_[i] = 1.0f / std::sqrt(var[i] + options_.eps);
    }
    // y = gamma inv_std x + (beta - mean gamma inv_std)
    const std::vector<float> gamma = gamma_values(), beta = beta_values();
    std::vector<float> a(c), shift(c);
    for (int i = 0; i < c; ++i) {
      a[i] = gamma[i] * inv_std_[i];
      shift[i] = beta[i] - mean_[i] * a[i];
    }
    Tensor<B> y = Tensor<B>::uninitialized(x.shape());
    auto ta = Tensor<B>::from(a, {c}), tc = Tensor<B>::from(shift, {c});
    if (residual) {
      B::channel_affine_relu(x.data(), residual->data(), batch, c, spatial, ta.data(), tc.data(),
                             y.data());
    } else if (options_.relu) {
      B::channel_affine_relu(x.data(), nullptr, batch, c, spatial, ta.data(), tc.data(),
                             y.data());
      if (keeps_activations(mode)) {  // the ReLU's mask is where a x + shift > 0
        gate_scale_ = std::move(ta);
        gate_shift_ = std::move(tc);
      }
    } else {
      B::channel_affine(x.data(), nullptr, batch, c, spatial, ta.data(), nullptr, tc.data(),
                        nullptr, nullptr, y.data());
    }
    return y;
  }

  static const char* name() { return Rank == 2 ? "BatchNorm1d" : "BatchNorm2d"; }

  std::vector<float> gamma_values() const {
    return options_.scale ? gamma_.to_vector() : std::vector<float>(channels(), 1.0f);
  }
  std::vector<float> beta_values() const {
    return options_.center ? beta_.to_vector() : std::vector<float>(channels(), 0.0f);
  }

  // Replaces this rank's mean_ and biased `var` by those of all ranks' batches, and count_
  // by their total: mean = sum n_r m_r / n, var = sum n_r (v_r + (m_r - mean)^2) / n.
  void combine_across_ranks(std::vector<float>& var) {
    const int c = channels();
    std::vector<float> local(mean_);
    local.insert(local.end(), var.begin(), var.end());
    local.push_back(static_cast<float>(count_));  // exact below 2^24 values per channel
    const std::vector<float> all = sync_->all_gather(local);
    const std::size_t stride = local.size(), ranks = all.size() / stride;
    std::vector<double> mean(c, 0.0), spread(c, 0.0);
    double total = 0.0;
    for (std::size_t r = 0; r < ranks; ++r) {
      const double n = all[r * stride + 2 * c];
      total += n;
      for (int i = 0; i < c; ++i) mean[i] += n * all[r * stride + i];
    }
    for (int i = 0; i < c; ++i) mean[i] /= total;
    for (std::size_t r = 0; r < ranks; ++r) {
      const double n = all[r * stride + 2 * c];
      for (int i = 0; i < c; ++i) {
        const double d = all[r * stride + i] - mean[i];
        spread[i] += n * (all[r * stride + c + i] + d * d);
      }
    }
    for (int i = 0; i < c; ++i) {
      mean_[i] = static_cast<float>(mean[i]);
      var[i] = static_cast<float>(spread[i] / total);
    }
    count_ = static_cast<std::int64_t>(std::llround(total));
  }

  // running = (1 - momentum) running + momentum batch, with the unbiased variance.
  void update_running(const std::vector<float>& batch_var, std::int64_t count) {
    std::vector<float> mean = running_mean_.to_vector(), var = running_var_.to_vector();
    const float m = options_.momentum;
    const double unbiased = double(count) / double(count - 1);
    for (int i = 0; i < channels(); ++i) {
      mean[i] = (1.0f - m) * mean[i] + m * mean_[i];
      var[i] = static_cast<float>((1.0f - m) * var[i] + m * batch_var[i] * unbiased);
    }
    running_mean_ = Tensor<B>::from(mean, {channels()});
    running_var_ = Tensor<B>::from(var, {channels()});
    const float tracked = batches_tracked_.to_vector()[0] + 1.0f;
    batches_tracked_ = Tensor<B>::from(std::vector<float>{tracked}, {1});
  }

  static void accumulate(Tensor<B>& grad, const std::vector<float>& values) {
    ops::axpy(grad, Tensor<B>::from(values, grad.shape()), 1.0f);
  }

  BatchNormOptions options_;
  Tensor<B> gamma_, gamma_grad_, beta_, beta_grad_;  // [c], or empty when switched off
  Tensor<B> running_mean_, running_var_, batches_tracked_;
  Tensor<B> input_;
  Tensor<B> gate_scale_, gate_shift_;  // [c]: the fused ReLU's mask, a x + shift > 0
  Mode mode_ = Mode::train;
  std::vector<float> mean_, inv_std_;  // of the last forward, per channel
  std::int64_t count_ = 0;             // values per channel behind mean_ (all ranks' if synced)
};

template <Backend B>
using BatchNorm1d = BatchNorm<B, 2>;
template <Backend B>
using BatchNorm2d = BatchNorm<B, 4>;

// Calls visit(bn) on every BatchNorm of `layer` (as SyncableBatchNorm&), riding on the
// state walk that every layer already implements; returns how many it visited.
template <Layer L, class Visit>
int visit_batch_norms(L& layer, Visit visit) {
  int visited = 0;
  std::function<void(SyncableBatchNorm&)> call = [&](SyncableBatchNorm& bn) {
    visit(bn);
    ++visited;
  };
  struct Reset {
    ~Reset() { detail::batch_norm_visitor = nullptr; }
  } reset;
  detail::batch_norm_visitor = &call;
  (void)state(layer);
  return visited;
}

}  // namespace clr::nn
