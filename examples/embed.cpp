// clr-embed: the features of a trained SupConResNet for images already preprocessed into a
// float32 .npy [N, C, H, W]: the encoder's representation [N, 512·width or 2048·width]
// (what linear evaluation and kNN read) or the L2-normalised projection [N, feat_dim],
// written as a float32 .npy [N, dim]. The checkpoint comes from clr or from SupContrast
// through tools/import_torch.py; its metadata names the architecture, so the model flags
// are needed only when it does not, and must agree with it when given. A clr-ce checkpoint
// (an encoder and a classifier, no projection head) gives its encoder's features.
//
//   clr-embed --ckpt supcon.clr --layer encoder --input x.npy --out feats.npy
#include <algorithm>
#include <chrono>
#include <clr/clr.hpp>
#include <clr/data/npy.hpp>
#include <clr/train/fine_tune.hpp>
#include <cmath>
#include <cstdio>
#include <optional>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "common/args.hpp"

namespace {

using B = clr::cpu;
using clr::examples::Args;

struct ModelConfig {
  std::string model, head;
  int feat_dim = 0;
  float width = 1.0f;
  int in_channels = 3;
};

Args make_args() {
  Args args("clr-embed",
            "Writes the features of a trained SupConResNet (a clr checkpoint; SupContrast's "
            "through tools/import_torch.py) for preprocessed images: --layer encoder gives the "
            "representation [N, 512 or 2048 x width], --layer head the L2-normalised projection "
            "[N, feat_dim]. Model flags default to the checkpoint's metadata.");
  args.flag("model", "encoder architecture (default: the checkpoint's)",
            {.choices = {"resnet18", "resnet34", "resnet50"}})
      .flag("head", "projection head (default: the checkpoint's)", {.choices = {"mlp", "linear"}})
      .flag("feat_dim", "projection dimension (default: the checkpoint's)", {.metavar = "N"})
      .flag("width",
            "channel multiplier: 64·width ... 512·width channels (default: the "
            "checkpoint's, else 1)",
            {.metavar = "W"})
      .flag("in_channels", "image channels (default: the checkpoint's, else 3)", {.metavar = "C"})
      .flag("ckpt", "clr checkpoint", {.required = true, .metavar = "FILE"})
      .flag("layer", "which output to write", {.required = true, .choices = {"encoder", "head"}})
      .flag("input", "float32 .npy [N, C, H, W], already normalised",
            {.required = true, .metavar = "FILE"})
      .flag("out", "float32 .npy [N, dim] to write", {.required = true, .metavar = "FILE"})
      .flag("batch_size", "images per forward pass", {.default_value = "256", .metavar = "N"});
  return args;
}

template <class T>
bool same_setting(const T& a, const T& b) {
  if constexpr (std::is_floating_point_v<T>)
    return std::fabs(a - b) <= 1e-6f * std::fmax(1.0f, std::fabs(a));
  else
    return a == b;
}

// A model setting from its flag, else the checkpoint's metadata, else `fallback`; a flag
// that contradicts the checkpoint is an error, not an override: the weights would not fit.
template <class T>
T setting(const Args& args, const clr::CheckpointContents& checkpoint, const std::string& path,
          const std::string& key, std::optional<T> fallback = std::nullopt) {
  std::optional<T> from_flag = args.find<T>(key), from_file;
  const auto stored = checkpoint.metadata.find(key);
  if (stored != checkpoint.metadata.end())
    from_file = clr::examples::parse_value<T>(stored->second,
                                              "metadata '" + key + "' of checkpoint " + path);
  if (from_flag && from_file)
    clr::require(same_setting(*from_flag, *from_file), "--", key, " ", args.get<std::string>(key),
                 " contradicts checkpoint ", path, ", which records ", key, " ", stored->second);
  if (from_flag) return *from_flag;
  if (from_file) return *from_file;
  clr::require(fallback.has_value(), "--", key, " is needed: checkpoint ", path,
               " does not record it in its metadata");
  return *fallback;
}

ModelConfig model_config(const Args& args, const clr::CheckpointContents& checkpoint,
                         const std::string& path) {
  ModelConfig config{setting<std::string>(args, checkpoint, path, "model"),
                     setting<std::string>(args, checkpoint, path, "head"),
                     setting<int>(args, checkpoint, path, "feat_dim"),
                     setting<float>(args, checkpoint, path, "width", 1.0f),
                     setting<int>(args, checkpoint, path, "in_channels", 3)};
  // Settings read from the file skipped the flags' choice checks.
  clr::require(
      config.model == "resnet18" || config.model == "resnet34" || config.model == "resnet50",
      "checkpoint ", path, " holds a model '", config.model,
      "', expected resnet18, resnet34 or resnet50");
  clr::require(config.head == "mlp" || config.head == "linear" || config.head == "none",
               "checkpoint ", path, " holds a head '", config.head, "', expected mlp or linear");
  clr::require(config.head == "none" || config.feat_dim >= 1, "feat_dim must be >= 1, got ",
               config.feat_dim);
  return config;
}

struct Job {
  const clr::CheckpointContents& checkpoint;
  std::string checkpoint_path, input_path, out_path;
  bool head;  // the projection, else the encoder's features
  int batch_size;
};

// Returns the shape of what it wrote.
template <class Encoder, template <class> class Head>
clr::Shape run(const ModelConfig& config, const Job& job) {
  clr::Rng rng(0);  // the initial weights are all overwritten by the checkpoint's
  Encoder encoder(rng, {.in_channels = config.in_channels, .width = config.width});
  const int features = encoder.feature_dim();
  const bool encoder_only = config.head == "none";  // a clr-ce checkpoint
  clr::nn::SupConModel model(std::move(encoder),
                             Head<B>(features, encoder_only ? 1 : config.feat_dim, rng));
  // A training checkpoint also holds the optimizer's state: the model takes its own part.
  if (encoder_only)
    clr::train::load_pretrained(model, job.checkpoint, "encoder", job.checkpoint_path);
  else
    clr::nn::load_state(model, clr::train::model_part(job.checkpoint), job.checkpoint_path);

  const clr::data::NpyArray input = clr::data::read_npy(job.input_path);
  const clr::Shape& shape = input.shape;  // [N, C, H, W]
  clr::require(
      shape.rank() == 4 && shape[1] == config.in_channels && shape[2] >= 1 && shape[3] >= 1,
      "--input ", job.input_path, " has shape ", shape, ", expected [N, ", config.in_channels,
      ", H, W]: preprocessed images with in_channels ", config.in_channels);
  const int n = shape[0], dim = job.head ? config.feat_dim : features;
  const std::int64_t image = shape.row_size();
  std::vector<float> out(static_cast<std::size_t>(n) * dim);
  for (int start = 0; start < n; start += job.batch_size) {
    const int count = std::min(job.batch_size, n - start);
    const auto x = clr::Tensor<B>::from(
        std::span<const float>(input.values).subspan(start * image, count * image),
        {count, shape[1], shape[2], shape[3]});
    const auto y = job.head ? model.forward(x, clr::nn::Mode::inference)  // [count, feat_dim]
                            : model.encode(x, clr::nn::Mode::inference);  // [count, features]
    const std::vector<float> values = y.to_vector();
    std::copy(values.begin(), values.end(), out.begin() + std::int64_t{start} * dim);
  }
  clr::data::write_npy(job.out_path, {n, dim}, out);
  return {n, dim};
}

template <class Encoder>
clr::Shape run_with_head(const ModelConfig& config, const Job& job) {
  if (config.head == "mlp") return run<Encoder, clr::nn::MLPHead>(config, job);
  return run<Encoder, clr::nn::LinearHead>(config, job);
}

}  // namespace

int main(int argc, char** argv) try {
  Args args = make_args();
  if (!args.parse(argc, argv)) return 0;
  const auto started = std::chrono::steady_clock::now();
  const auto checkpoint_path = args.get<std::string>("ckpt");
  const clr::CheckpointContents checkpoint = clr::read_checkpoint(checkpoint_path);
  const ModelConfig config = model_config(args, checkpoint, checkpoint_path);
  const Job job{checkpoint,
                checkpoint_path,
                args.get<std::string>("input"),
                args.get<std::string>("out"),
                args.get<std::string>("layer") == "head",
                args.get<int>("batch_size")};
  clr::require(job.batch_size >= 1, "--batch_size must be >= 1, got ", job.batch_size);
  clr::require(config.head != "none" || !job.head, "checkpoint ", checkpoint_path,
               " is a classifier (clr-ce) without a projection head: use --layer encoder");

  using clr::nn::CifarStem;  // SupContrast's resnet_big.py: 3x3 stem, no max-pool
  const clr::Shape written =
      config.model == "resnet18"   ? run_with_head<clr::nn::ResNet18<B, CifarStem>>(config, job)
      : config.model == "resnet34" ? run_with_head<clr::nn::ResNet34<B, CifarStem>>(config, job)
                                   : run_with_head<clr::nn::ResNet50<B, CifarStem>>(config, job);

  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::printf("clr-embed: wrote %s %s (%s of %s, width %g, %s head) in %.2f s\n",
              job.out_path.c_str(), written.str().c_str(), job.head ? "head" : "encoder",
              config.model.c_str(), config.width, config.head.c_str(), seconds);
  return 0;
} catch (const std::exception& error) {
  std::fprintf(stderr, "clr-embed: %s\n", error.what());
  return 1;
}
