// clr-supcon: contrastive pretraining, SupContrast's main_supcon.py with the same flags —
// SupCon (labels) or SimCLR (none) on n augmented views per image, a ResNet encoder with a
// projection head, SGD / LARS / AdamW with cosine or step decay and warm-up; checkpoints
// every --save_freq epochs and at the end (model, optimizer, epoch, flags), --resume
// continues one bit-identically on the CPU.
//
//   clr-supcon --dataset fashion_mnist --model resnet18 --width 0.25 --epochs 3 --cosine
//
// Built with CLR_WITH_MPI it also runs as `mpirun -np N clr-supcon ...` (docs/distributed.md):
// --batch_size per rank, --syncBN and --cross_replica as SupContrast's DDP forks.
#include <algorithm>
#include <chrono>
#include <clr/clr.hpp>
#include <clr/data/load_all.hpp>
#include <clr/data/loader.hpp>
#include <clr/optim/optim.hpp>
#include <clr/train/pretrain.hpp>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <numbers>
#include <string>

#include "common/args.hpp"
#include "common/datasets.hpp"
#include "common/distributed.hpp"
#include "common/models.hpp"
#include "common/program.hpp"
#include "common/run_files.hpp"

namespace {

using namespace clr;
using examples::Args;

Args make_args() {
  Args args("clr-supcon",
            "Contrastive pretraining (SupContrast's main_supcon.py): SupCon or SimCLR on a "
            "ResNet with a projection head. Writes checkpoints to --save_folder.");
  args.flag("method", "SupCon (uses labels) or SimCLR",
            {.default_value = "SupCon", .choices = {"SupCon", "SimCLR"}})
      .flag("model", "encoder",
            {.default_value = "resnet18", .choices = {"resnet18", "resnet34", "resnet50"}})
      .flag("width", "channel multiplier (1: 64 ... 512 channels)", {.default_value = "1"})
      .flag("head", "projection head",
            {.default_value = "mlp", .choices = {"mlp", "linear", "bnmlp"}})
      .flag("feat_dim", "projection dimension", {.default_value = "128"})
      .flag("batch_size", "images per batch (each gives n_views views)", {.default_value = "256"})
      .flag("learning_rate",
            "base learning rate (default: 0.5 * batch_size / 1024: SupContrast's 0.5 is for "
            "batch 1024, and larger rates collapse small batches)",
            {.metavar = "LR"})
      .flag("temp", "temperature of the loss", {.default_value = "0.07"})
      .flag("base_temp",
            "base temperature: the loss is scaled by temp / base_temp (SupContrast keeps 0.07, "
            "which multiplies SimCLR's loss at temp 0.5 by 7; set it to temp for plain NT-Xent)",
            {.default_value = "0.07"})
      .toggle("cosine", "cosine annealing (else step decay at --lr_decay_epochs)")
      .toggle("cosine_per_step",
              "with --cosine: anneal at every step rather than once per epoch (SupContrast); "
              "for runs of a few epochs")
      .toggle("warm", "linear warm-up over the first 10 epochs (on by default above batch 256)")
      .flag("epochs", "training epochs (0: save the initialised model untrained, a random-init "
            "baseline for clr-linear)", {.default_value = "100"})
      .flag("lr_decay_epochs", "step decay milestones", {.default_value = "700,800,900"})
      .flag("lr_decay_rate", "decay factor", {.default_value = "0.1"})
      .flag("weight_decay", "weight decay", {.default_value = "1e-4"})
      .flag("momentum", "momentum", {.default_value = "0.9"})
      .flag("optimizer", "optimizer", {.default_value = "sgd", .choices = {"sgd", "lars", "adamw"}})
      .flag("n_views", "augmented views per image", {.default_value = "2"})
      .flag("dataset", "dataset",
            {.default_value = "fashion_mnist",
             .choices = {"fashion_mnist", "mnist", "cifar10", "cifar100", "path"}})
      .flag("data_folder", "where the dataset is (default: its usual place)", {.metavar = "DIR"})
      .flag("mean",
            "normalisation mean, e.g. \"(0.4914, 0.4822, 0.4465)\" (default: the "
            "dataset's)",
            {.metavar = "TUPLE"})
      .flag("std", "normalisation std (default: the dataset's)", {.metavar = "TUPLE"})
      .flag("size", "crop size (default: the dataset's image size)", {.metavar = "N"})
      .flag("num_workers", "threads decoding and augmenting", {.default_value = "1"})
      .flag("save_freq", "checkpoint every N epochs (and at the end)", {.default_value = "50"})
      .flag("knn_freq",
            "kNN monitor (k = 200, cosine, T = 0.1) every N epochs; 0: off (needs the dataset's "
            "test split)",
            {.default_value = "0"})
      .flag("knn_bank", "training images in the kNN bank (and at most as many test queries)",
            {.default_value = "10000"})
      .flag("save_folder", "where checkpoints and the CSV log go",
            {.default_value = "./save/SupCon"})
      .flag("seed", "random seed (initialisation, order, augmentations)", {.default_value = "0"})
      .flag("resume", "continue from this checkpoint", {.metavar = "FILE"})
      .flag("subset", "use only the first N training images (quick trials)", {.metavar = "N"})
      .flag("print_freq", "batches between progress lines when not on a terminal",
            {.default_value = "50"})
      .flag("device", "backend", {.default_value = "cpu", .choices = {"cpu", "cuda"}})
      .toggle("syncBN", "under mpirun: BatchNorm statistics over all ranks' batches")
      .toggle("cross_replica",
              "under mpirun: every anchor contrasts with all ranks' samples (the loss of the "
              "global batch)");
  return args;
}

template <Backend B>
std::unique_ptr<optim::Optimizer<B>> make_optimizer(const Args& args, nn::State<B> parameters,
                                                    double lr) {
  const auto name = args.get<std::string>("optimizer");
  const double wd = args.get<double>("weight_decay"), momentum = args.get<double>("momentum");
  if (name == "lars")
    return std::make_unique<optim::LARS<B>>(
        std::move(parameters),
        optim::LARSOptions{.lr = lr, .momentum = momentum, .weight_decay = wd});
  if (name == "adamw")
    return std::make_unique<optim::AdamW<B>>(std::move(parameters),
                                             optim::AdamWOptions{.lr = lr, .weight_decay = wd});
  return std::make_unique<optim::SGD<B>>(
      std::move(parameters), optim::SGDOptions{.lr = lr, .momentum = momentum, .weight_decay = wd});
}

template <Backend B, class Comm>
int run(const Args& args, Comm& comm) {
  const int rank = comm.rank(), world_size = comm.world_size();
  const bool lead = rank == 0;  // logs, writes the CSV and the checkpoints
  const auto dataset_name = args.get<std::string>("dataset");
  const examples::DatasetChoice choice{dataset_name,
                                       args.find<std::string>("data_folder").value_or("")};
  const examples::ImageStats stats = examples::image_stats(args, dataset_name);
  const int size = stats.size;
  examples::AnyDataset full = examples::open_dataset(choice, data::Split::train);
  const std::int64_t count =
      std::min<std::int64_t>(full.size(), args.find<std::int64_t>("subset").value_or(full.size()));
  require(count >= 2, "--subset must leave at least 2 images, got ", count);
  const examples::Subset train(full, count);

  const int batch_size = args.get<int>("batch_size"), n_views = args.get<int>("n_views");
  require(batch_size >= 2 && n_views >= 1, "--batch_size must be >= 2 and --n_views >= 1");
  const std::uint64_t seed = args.get<std::uint64_t>("seed");
  const auto augmentation = augment::simclr_cifar(
      size, {.channels = stats.channels, .mean = stats.mean, .std = stats.std});
  data::DataLoader loader(train, augmentation,
                          {.batch_size = batch_size,
                           .n_views = n_views,
                           .shuffle = true,
                           .drop_last = count / world_size > batch_size,  // full batches
                           .num_workers = args.get<int>("num_workers"),
                           .seed = seed,
                           .rank = rank,
                           .world_size = world_size});
  const int global_batch = batch_size * world_size;

  examples::ModelConfig config{args.get<std::string>("model"), args.get<std::string>("head"),
                               args.get<int>("feat_dim"), args.get<float>("width"), stats.channels};
  Rng rng(seed);
  auto model = examples::make_supcon_model<B>(config, rng);

  const int epochs = args.get<int>("epochs");
  require(epochs >= 0, "--epochs ", epochs, ": expected 0 or more");
  optim::SupConSchedule schedule{
      .learning_rate = args.find<double>("learning_rate").value_or(0.5 * global_batch / 1024.0),
      .epochs = std::max(epochs, 1),  // the schedule of a 0-epoch run is never used
      .lr_decay_epochs = examples::parse_milestones(args.get<std::string>("lr_decay_epochs")),
      .lr_decay_rate = args.get<double>("lr_decay_rate"),
      .cosine = args.get<bool>("cosine"),
      .warm = args.get<bool>("warm") || global_batch > 256};
  schedule.check();
  auto optimizer = make_optimizer<B>(args, nn::parameters(*model), schedule.learning_rate);
  const bool supervised = args.get<std::string>("method") == "SupCon";
  const loss::SupConOptions loss_options{.temperature = args.get<float>("temp"),
                                         .base_temperature = args.get<float>("base_temp")};
  loss::SupCon<B> loss(loss_options);
  dist::CrossReplica<loss::SupCon<B>, Comm> cross_replica(loss::SupCon<B>(loss_options), comm);
  const bool use_cross_replica = args.get<bool>("cross_replica");
  if (args.get<bool>("syncBN")) dist::sync_batch_norm(*model, comm);

  const std::filesystem::path folder = args.get<std::string>("save_folder");
  std::filesystem::create_directories(folder);
  int first_epoch = 1;
  if (const auto resume = args.find<std::string>("resume")) {
    first_epoch = train::load_training_checkpoint(*resume, *model, *optimizer) + 1;
    if (lead) std::printf("resumed from %s at epoch %d\n", resume->c_str(), first_epoch);
  }
  dist::broadcast_state(*model, comm);  // every replica starts from rank 0's
  std::map<std::string, std::string> metadata = config.metadata();
  for (auto& [key, value] : examples::flags_metadata(args)) metadata[key] = value;
  metadata["source"] = "clr-supcon";
  metadata["world_size"] = std::to_string(world_size);

  if (lead)
    std::printf(
        "%s on %s: %lld images, %s width %g + %s head (%d), batch %d x %d views, lr %g%s, "
        "%d epochs, %d batches each, device %s\n",
        supervised ? "SupCon" : "SimCLR", dataset_name.c_str(), static_cast<long long>(count),
        config.model.c_str(), config.width, config.head.c_str(), config.feat_dim, batch_size,
        n_views, schedule.learning_rate, schedule.cosine ? " cosine" : " step", epochs,
        static_cast<int>(loader.num_batches()), B::name);
  if (lead && world_size > 1)
    std::printf("data-parallel: %d ranks x batch %d = %d%s%s\n", world_size, batch_size,
                global_batch, use_cross_replica ? ", cross-replica negatives" : "",
                args.get<bool>("syncBN") ? ", SyncBN" : "");
  // SupContrast anneals once per epoch; --cosine_per_step follows the same curve at every
  // step, which matters when there are only a few epochs.
  const bool per_step = args.get<bool>("cosine_per_step") && schedule.cosine;
  auto learning_rate = [&schedule, per_step](int epoch, int batch, int batches) {
    if (!per_step || (schedule.warm && epoch <= schedule.warm_epochs))
      return schedule.lr(epoch, batch, batches);
    const double done = (epoch - 1 + static_cast<double>(batch) / batches) / schedule.epochs;
    return schedule.eta_min() + (schedule.learning_rate - schedule.eta_min()) *
                                    (1 + std::cos(std::numbers::pi * done)) / 2;
  };
  const train::PretrainSettings settings{
      .epochs = schedule.epochs, .supervised = supervised, .learning_rate = learning_rate};
  train::Progress progress("pretrain", args.get<int>("print_freq"),
                           examples::progress_stream(rank));
  train::EpochLog log = lead ? train::EpochLog(folder / "log.csv", first_epoch > 1)
                             : train::EpochLog();
  const int save_freq = args.get<int>("save_freq");
  // The kNN monitor's images, un-augmented: a bank from the training split, queries from the
  // test split; encoded afresh at each check.
  const int knn_freq = args.get<int>("knn_freq");
  data::LoadedDataset knn_bank, knn_queries;
  if (knn_freq > 0) {
    const auto normalise =
        augment::eval_cifar({.channels = stats.channels, .mean = stats.mean, .std = stats.std});
    const std::int64_t bank = args.get<std::int64_t>("knn_bank");
    knn_bank = data::load_all(examples::Subset(full, bank), normalise);
    knn_queries = data::load_all(
        examples::Subset(examples::open_dataset(choice, data::Split::test), bank), normalise);
  }
  for (int epoch = first_epoch; epoch <= epochs; ++epoch) {
    const train::EpochStats epoch_stats =
        use_cross_replica ? train::pretrain_epoch(*model, cross_replica, *optimizer, loader, epoch,
                                                  settings, progress, comm)
                          : train::pretrain_epoch(*model, loss, *optimizer, loader, epoch,
                                                  settings, progress, comm);
    if (!lead) continue;  // the replicas are equal: rank 0 reports and saves for all
    std::printf(
        "epoch %d: loss %.4f, contrastive accuracy %.1f%%, spread %.3f, waited %.1f%% of "
        "the time for data\n",
        epoch, epoch_stats.loss, 100 * epoch_stats.contrastive_accuracy, epoch_stats.spread,
        100 * epoch_stats.data_wait_seconds / epoch_stats.seconds);
    double knn = -1.0;  // the CSV's "not measured"
    if (knn_freq > 0 && (epoch % knn_freq == 0 || epoch == schedule.epochs)) {
      examples::EncoderOf<B> encoder{*model};
      knn = train::knn_accuracy(train::encode_all(encoder, knn_bank.images), knn_bank.labels,
                                train::encode_all(encoder, knn_queries.images), knn_queries.labels,
                                full.num_classes());
      std::printf("epoch %d: kNN accuracy %.2f%%\n", epoch, 100 * knn);
    }
    log.write({{"epoch", epoch},
               {"loss", epoch_stats.loss},
               {"contrastive_accuracy", epoch_stats.contrastive_accuracy},
               {"spread", epoch_stats.spread},
               {"lr", optimizer->lr()},
               {"images_per_second", epoch_stats.images_per_second},
               {"seconds", epoch_stats.seconds},
               {"data_wait_seconds", epoch_stats.data_wait_seconds},
               {"knn_accuracy", knn}});
    if (epoch_stats.spread < train::kCollapsedSpread)
      std::fprintf(
          stderr, "warning: %s\n",
          train::collapse_advice(epoch_stats.spread, schedule.learning_rate, batch_size).c_str());
    if (epoch % save_freq == 0 || epoch == schedule.epochs) {
      train::save_training_checkpoint(folder / ("ckpt_epoch_" + std::to_string(epoch) + ".clr"),
                                      *model, *optimizer, epoch, metadata);
    }
  }
  if (lead) {
    train::save_training_checkpoint(folder / "last.clr", *model, *optimizer, epochs, metadata);
    std::printf("saved %s\n", (folder / "last.clr").c_str());
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return clr::examples::run_program(argc, argv, make_args(),
                                    []<clr::Backend B>(const Args& args) {
                                      return clr::examples::with_communicator<B>(
                                          "clr-supcon",
                                          [&](auto& comm) { return run<B>(args, comm); });
                                    });
}
