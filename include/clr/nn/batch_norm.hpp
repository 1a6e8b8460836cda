// BatchNorm1d ([batch, features]) and BatchNorm2d ([batch, channels, h, w]), as PyTorch's:
// in train mode each channel is normalised by the batch's mean and biased variance, and
// the running statistics move by `momentum` towards the batch's mean and unbiased
// variance; in eval mode the running statistics are used. `scale` (gamma) and `center`
// (beta) can be switched off, as SimCLR's heads do (center = false on the last BN).
//
// The per-channel arithmetic (a few numbers per channel) is done on the host; the
// backend does the reductions and the per-channel affine maps over the whole tensor.
#pragma once

#include <cmath>
#include <string>
#include <vector>

#include "clr/core/error.hpp"
#include "clr/core/tensor.hpp"
#include "clr/nn/layer.hpp"

namespace clr::nn {

struct BatchNormOptions {
  float eps = 1e-5f;
  float momentum = 0.1f;
  bool scale = true;   // learn gamma (PyTorch's weight)
  bool center = true;  // learn beta (PyTorch's bias)
};

template <Backend B, int Rank>
class BatchNorm {
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

  Tensor<B> forward(const Tensor<B>& x, Mode mode) {
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
      const std::vector<float> batch_var = var.to_vector();
      inv_std_.resize(c);
      for (int i = 0; i < c; ++i) inv_std_[i] = 1.0f / std::sqrt(batch_var[i] + options_.eps);
      update_running(batch_var, std::int64_t{batch} * spatial);
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
    const auto ta = Tensor<B>::from(a, {c}), tc = Tensor<B>::from(shift, {c});
    B::channel_affine(x.data(), nullptr, batch, c, spatial, ta.data(), nullptr, tc.data(),
                      y.data());
    return y;
  }

  Tensor<B> backward(const Tensor<B>& dy) {
    require(!input_.empty(), name(), "::backward: call forward in train or eval mode first");
    require(dy.shape() == input_.shape(), name(), "::backward: dy has shape ", dy.shape(),
            ", expected ", input_.shape());
    const int batch = dy.dim(0), c = channels();
    const int spatial = static_cast<int>(dy.shape().row_size() / c);
    Tensor<B> sums = Tensor<B>::uninitialized({c}), dots = Tensor<B>::uninitialized({c});
    B::channel_sums(dy.data(), batch, c, spatial, sums.data(), 0.0f);
    B::channel_dot(dy.data(), input_.data(), batch, c, spatial, dots.data());
    const std::vector<float> sum_dy = sums.to_vector(), sum_dy_x = dots.to_vector();
    const std::vector<float> gamma = gamma_values();
    const double count = double(batch) * spatial;
    // sum dy x_hat = inv_std (sum dy x - mean sum dy); dx = A dy + B x + C per channel,
    // where the batch statistics' own dependence on x (train mode) gives B and part of C.
    std::vector<float> a(c), b(c), shift(c), dgamma(c);
    for (int i = 0; i < c; ++i) {
      const double dy_xhat = inv_std_[i] * (double(sum_dy_x[i]) - double(mean_[i]) * sum_dy[i]);
      dgamma[i] = static_cast<float>(dy_xhat);
      const double scale = double(gamma[i]) * inv_std_[i];
      a[i] = static_cast<float>(scale);
      if (mode_ == Mode::train) {
        const double slope = -scale * inv_std_[i] * dy_xhat / count;
        b[i] = static_cast<float>(slope);
        shift[i] = static_cast<float>(-scale * sum_dy[i] / count - slope * mean_[i]);
      }
    }
    if (options_.scale) accumulate(gamma_grad_, dgamma);
    if (options_.center) accumulate(beta_grad_, sum_dy);
    Tensor<B> dx = Tensor<B>::uninitialized(dy.shape());
    const auto ta = Tensor<B>::from(a, {c}), tb = Tensor<B>::from(b, {c}),
               tc = Tensor<B>::from(shift, {c});
    B::channel_affine(dy.data(), input_.data(), batch, c, spatial, ta.data(), tb.data(), tc.data(),
                      dx.data());
    return dx;
  }

  void collect_state(const std::string& prefix, State<B>& out) {
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
  static const char* name() { return Rank == 2 ? "BatchNorm1d" : "BatchNorm2d"; }

  std::vector<float> gamma_values() const {
    return options_.scale ? gamma_.to_vector() : std::vector<float>(channels(), 1.0f);
  }
  std::vector<float> beta_values() const {
    return options_.center ? beta_.to_vector() : std::vector<float>(channels(), 0.0f);
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
  Mode mode_ = Mode::train;
  std::vector<float> mean_, inv_std_;  // of the last forward, per channel
};

template <Backend B>
using BatchNorm1d = BatchNorm<B, 2>;
template <Backend B>
using BatchNorm2d = BatchNorm<B, 4>;

}  // namespace clr::nn
