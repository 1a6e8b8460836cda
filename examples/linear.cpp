// clr-linear: linear evaluation of a pretrained encoder, SupContrast's main_linear.py —
// the encoder frozen in inference mode (BatchNorm statistics untouched), a linear
// classifier trained with softmax cross entropy on its features, top-1 (and top-5 when
// there are more than 5 classes) accuracy on the test split. The features are computed
// once from the un-augmented images (see clr/train/linear_eval.hpp for why). With
// --raw_pixels the classifier reads the normalised pixels instead: the logistic-regression
// floor any encoder has to beat.
//
//   clr-linear --ckpt save/SupCon/last.clr --dataset fashion_mnist
//   clr-linear --raw_pixels --dataset fashion_mnist
#include <chrono>
#include <clr/clr.hpp>
#include <clr/data/load_all.hpp>
#include <clr/train/linear_eval.hpp>
#include <cstdio>
#include <string>

#include "common/args.hpp"
#include "common/datasets.hpp"
#include "common/models.hpp"
#include "common/program.hpp"
#include "common/run_files.hpp"

namespace {

using namespace clr;
using examples::Args;

Args make_args() {
  Args args("clr-linear",
            "Linear evaluation (SupContrast's main_linear.py) of the encoder in a clr-supcon "
            "checkpoint; prints 'linear eval top-1: NN.NN%'.");
  args.flag("ckpt", "checkpoint of clr-supcon (or of tools/import_torch.py)", {.metavar = "FILE"})
      .toggle("raw_pixels",
              "no encoder: logistic regression on the normalised pixels (the baseline; no --ckpt)")
      .flag("dataset", "dataset (default: the checkpoint's)",
            {.choices = {"fashion_mnist", "mnist", "cifar10", "cifar100"}})
      .flag("data_folder",
            "where the dataset is (default: the checkpoint's, else its usual "
            "place)",
            {.metavar = "DIR"})
      .flag("mean", "normalisation mean (default: the checkpoint's, else the dataset's)",
            {.metavar = "TUPLE"})
      .flag("std", "normalisation std (default: the checkpoint's, else the dataset's)",
            {.metavar = "TUPLE"})
      .flag("epochs", "classifier epochs", {.default_value = "100"})
      .flag("batch_size", "classifier batch size", {.default_value = "256"})
      .flag("learning_rate", "classifier learning rate (cosine-annealed)", {.default_value = "0.1"})
      .flag("weight_decay", "classifier weight decay", {.default_value = "0"})
      .flag("momentum", "classifier momentum", {.default_value = "0.9"})
      .flag("num_workers", "threads decoding the images", {.default_value = "1"})
      .flag("seed", "random seed of the classifier", {.default_value = "0"})
      .flag("subset", "use only the first N images of each split (quick trials)", {.metavar = "N"})
      .flag("device", "backend", {.default_value = "cpu", .choices = {"cpu", "cuda"}});
  return args;
}

// A flag, else the checkpoint's record of the pretraining flag, else `fallback`.
std::string setting(const Args& args, const CheckpointContents& contents, const std::string& name,
                    const std::string& fallback) {
  if (auto value = args.find<std::string>(name)) return *value;
  const auto stored = contents.metadata.find("arg." + name);
  return stored != contents.metadata.end() ? stored->second : fallback;
}

// The training and test features: the frozen encoder's, or the flattened pixels.
template <Backend B>
struct Features {
  Tensor<B> train, test;
};

template <Backend B>
Features<B> raw_pixels(const data::LoadedDataset& train_set, const data::LoadedDataset& test_set) {
  auto flat = [](const Tensor<cpu>& images) {
    return images.reshape({images.dim(0), static_cast<int>(images.shape().row_size())})
        .template to<B>();
  };
  return {flat(train_set.images), flat(test_set.images)};
}

template <Backend B>
Features<B> encoded(const data::LoadedDataset& train_set, const data::LoadedDataset& test_set,
                    examples::AnyModel<B>& model) {
  examples::EncoderOf<B> view{model};
  const auto encode_start = std::chrono::steady_clock::now();
  Features<B> features{train::encode_all(view, train_set.images),
                       train::encode_all(view, test_set.images)};
  const double encode_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - encode_start).count();
  std::printf("encoded %d + %d images in %.1f s (%.0f images/s), features %d\n",
              features.train.dim(0), features.test.dim(0), encode_seconds,
              (features.train.dim(0) + features.test.dim(0)) / encode_seconds,
              features.train.dim(1));
  return features;
}

template <Backend B>
int run(const Args& args) {
  const auto started = std::chrono::steady_clock::now();
  const bool pixels = args.get<bool>("raw_pixels");
  const auto path = args.find<std::string>("ckpt");
  require(pixels != path.has_value(), pixels ? "--raw_pixels takes no --ckpt"
                                             : "--ckpt is required (or --raw_pixels)");
  const CheckpointContents contents = path ? read_checkpoint(*path) : CheckpointContents{};

  const std::string dataset = setting(args, contents, "dataset", "fashion_mnist");
  examples::ImageStats stats = examples::dataset_stats(dataset);
  const std::string mean = setting(args, contents, "mean", ""),
                    std = setting(args, contents, "std", "");
  if (!mean.empty()) stats.mean = examples::parse_tuple(mean, "mean");
  if (!std.empty()) stats.std = examples::parse_tuple(std, "std");
  const examples::DatasetChoice choice{dataset, setting(args, contents, "data_folder", "")};
  const auto normalise =
      augment::eval_cifar({.channels = stats.channels, .mean = stats.mean, .std = stats.std});
  const int workers = args.get<int>("num_workers");
  const std::int64_t subset = args.find<std::int64_t>("subset").value_or(INT64_MAX);
  const auto train_set =
      data::load_all(examples::Subset(examples::open_dataset(choice, data::Split::train), subset),
                     normalise, workers);
  const auto test_set =
      data::load_all(examples::Subset(examples::open_dataset(choice, data::Split::test), subset),
                     normalise, workers);
  const int classes = examples::open_dataset(choice, data::Split::train).num_classes();

  Features<B> features;
  if (pixels) {
    features = raw_pixels<B>(train_set, test_set);
    std::printf("raw pixels: %d features\n", features.train.dim(1));
  } else {
    const auto config = examples::ModelConfig::from_checkpoint(contents, *path);
    require(stats.channels == config.in_channels, "--dataset ", dataset, " has ", stats.channels,
            " channels, the encoder in ", *path, " takes ", config.in_channels);
    Rng rng(0);  // every weight is overwritten by the checkpoint's
    auto model = examples::make_supcon_model<B>(config, rng);
    nn::load_state(*model, train::model_part(contents), *path);
    features = encoded(train_set, test_set, *model);
  }

  train::Progress progress("linear", 1000);
  const auto result =
      train::linear_eval(features.train, train_set.labels, features.test, test_set.labels, classes,
                         {.epochs = args.get<int>("epochs"),
                          .batch_size = args.get<int>("batch_size"),
                          .learning_rate = args.get<double>("learning_rate"),
                          .momentum = args.get<double>("momentum"),
                          .weight_decay = args.get<double>("weight_decay"),
                          .seed = args.get<std::uint64_t>("seed")},
                         nullptr);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::printf("train top-1 %.2f%%, final loss %.4f; %.1f s in all\n", 100 * result.train_top1,
              result.final_loss, seconds);
  if (classes > 5) std::printf("linear eval top-5: %.2f%%\n", 100 * result.top5);
  std::printf("linear eval top-1: %.2f%%\n", 100 * result.top1);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return clr::examples::run_program(argc, argv, make_args(),
                                    []<clr::Backend B>(const Args& args) { return run<B>(args); });
}
