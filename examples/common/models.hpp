// The example programs' models by name, as SupContrast's flags give them (--model
// resnet18|resnet34|resnet50, --head mlp|linear|bnmlp, --feat_dim, and clr's --width):
// a SupConModel (encoder + head + L2 normalisation) behind a small virtual interface, so
// that each program compiles its training loop once instead of once per architecture.
#pragma once

#include <clr/clr.hpp>
#include <map>
#include <memory>
#include <string>

namespace clr::examples {

struct ModelConfig {
  std::string model = "resnet18";
  std::string head = "mlp";
  int feat_dim = 128;
  float width = 1.0f;
  int in_channels = 3;

  // What a checkpoint records, so that clr-linear and clr-embed can rebuild the model.
  std::map<std::string, std::string> metadata() const {
    char width_text[32];
    std::snprintf(width_text, sizeof width_text, "%.9g", width);
    return {{"model", model},
            {"head", head},
            {"feat_dim", std::to_string(feat_dim)},
            {"width", width_text},
            {"in_channels", std::to_string(in_channels)}};
  }

  // The architecture a clr-supcon checkpoint (or tools/import_torch.py's) records.
  static ModelConfig from_checkpoint(const CheckpointContents& contents, const std::string& path) {
    const auto value = [&](const std::string& key) {
      return train::metadata_value(contents, key, path);
    };
    try {
      return {value("model"), value("head"), std::stoi(value("feat_dim")),
              std::stof(value("width")), std::stoi(value("in_channels"))};
    } catch (const std::logic_error&) {  // std::stoi / std::stof: not a number
      throw Error("checkpoint " + path +
                  " records a feat_dim, width or in_channels that is not a number");
    }
  }
};

// A Layer (nn::Layer concept) whose architecture is chosen at run time.
template <Backend B>
class AnyModel {
 public:
  using backend = B;
  virtual ~AnyModel() = default;
  // The L2-normalised projection (SupConModel) or the logits (SupCEModel).
  virtual Tensor<B> forward(const Tensor<B>& x, nn::Mode mode) = 0;
  // Accumulates the parameters' gradients; the images get none (an empty tensor).
  virtual Tensor<B> backward(const Tensor<B>& dy) = 0;
  virtual Tensor<B> encode(const Tensor<B>& x, nn::Mode mode) = 0;  // the representation
  virtual void collect_state(const std::string& prefix, nn::State<B>& out) = 0;
  virtual int feature_dim() const = 0;
  // simclr's fine_tune_after_block on the encoder (nn::ResNet): -1 trains every block.
  virtual void set_fine_tune_after_block(int block) = 0;
};

// The model's encoder alone, as encode_all takes it.
template <Backend B>
struct EncoderOf {
  using backend = B;
  AnyModel<B>& model;
  Tensor<B> forward(const Tensor<B>& x, nn::Mode mode) { return model.encode(x, mode); }
};

namespace detail {

template <Backend B, class Model>
class ModelOf final : public AnyModel<B> {
 public:
  ModelOf(Model model, int feature_dim) : model_(std::move(model)), feature_dim_(feature_dim) {}
  Tensor<B> forward(const Tensor<B>& x, nn::Mode mode) override { return model_.forward(x, mode); }
  Tensor<B> backward(const Tensor<B>& dy) override { return model_.backward(dy); }
  Tensor<B> encode(const Tensor<B>& x, nn::Mode mode) override { return model_.encode(x, mode); }
  void collect_state(const std::string& prefix, nn::State<B>& out) override {
    model_.collect_state(prefix, out);
  }
  int feature_dim() const override { return feature_dim_; }
  void set_fine_tune_after_block(int block) override {
    model_.encoder().set_fine_tune_after_block(block);
  }

 private:
  Model model_;
  int feature_dim_;
};

template <Backend B, class Encoder>
std::unique_ptr<AnyModel<B>> with_head(Encoder encoder, const ModelConfig& config, Rng& rng) {
  const int dim = encoder.feature_dim();
  auto wrap = [&](auto head) -> std::unique_ptr<AnyModel<B>> {
    using Model = nn::SupConModel<Encoder, decltype(head)>;
    return std::make_unique<ModelOf<B, Model>>(Model(std::move(encoder), std::move(head)), dim);
  };
  if (config.head == "mlp") return wrap(nn::MLPHead<B>(dim, config.feat_dim, rng));
  if (config.head == "linear") return wrap(nn::LinearHead<B>(dim, config.feat_dim, rng));
  require(config.head == "bnmlp", "--head must be mlp, linear or bnmlp, got '", config.head, "'");
  return wrap(nn::BNMLPHead<B>(dim, dim, config.feat_dim, 2, rng));  // SimCLR v2's, 2 layers
}

}  // namespace detail

// SupContrast's SupConResNet: the CIFAR stem (3x3 conv, no max-pool) and the named head.
template <Backend B>
std::unique_ptr<AnyModel<B>> make_supcon_model(const ModelConfig& config, Rng& rng) {
  require(config.width > 0 && config.feat_dim >= 1 && config.in_channels >= 1,
          "model: need width > 0, feat_dim >= 1, in_channels >= 1; got ", config.width, ", ",
          config.feat_dim, ", ", config.in_channels);
  // Training needs no gradient of the images: backward stops at the stem's weights.
  const nn::ResNetOptions options{
      .in_channels = config.in_channels, .width = config.width, .input_gradient = false};
  using nn::CifarStem;
  if (config.model == "resnet18")
    return detail::with_head<B>(nn::ResNet18<B, CifarStem>(rng, options), config, rng);
  if (config.model == "resnet34")
    return detail::with_head<B>(nn::ResNet34<B, CifarStem>(rng, options), config, rng);
  require(config.model == "resnet50", "--model must be resnet18, resnet34 or resnet50, got '",
          config.model, "'");
  return detail::with_head<B>(nn::ResNet50<B, CifarStem>(rng, options), config, rng);
}

// SupContrast's SupCEResNet: the encoder and a linear classifier (main_ce.py).
template <Backend B>
std::unique_ptr<AnyModel<B>> make_ce_model(const ModelConfig& config, int classes, Rng& rng) {
  require(config.width > 0 && config.in_channels >= 1 && classes >= 2,
          "model: need width > 0, in_channels >= 1, classes >= 2; got ", config.width, ", ",
          config.in_channels, ", ", classes);
  // Training needs no gradient of the images: backward stops at the stem's weights.
  const nn::ResNetOptions options{
      .in_channels = config.in_channels, .width = config.width, .input_gradient = false};
  auto wrap = [&](auto encoder) -> std::unique_ptr<AnyModel<B>> {
    const int dim = encoder.feature_dim();
    using Model = nn::SupCEModel<decltype(encoder)>;
    return std::make_unique<detail::ModelOf<B, Model>>(Model(std::move(encoder), dim, classes, rng),
                                                       dim);
  };
  using nn::CifarStem;
  if (config.model == "resnet18") return wrap(nn::ResNet18<B, CifarStem>(rng, options));
  if (config.model == "resnet34") return wrap(nn::ResNet34<B, CifarStem>(rng, options));
  require(config.model == "resnet50", "--model must be resnet18, resnet34 or resnet50, got '",
          config.model, "'");
  return wrap(nn::ResNet50<B, CifarStem>(rng, options));
}

}  // namespace clr::examples
