// clr-ce: the supervised cross-entropy baseline, SupContrast's main_ce.py — the same
// encoder trained end to end with a linear classifier on one augmented view per image;
// top-1 (and top-5 with more than 5 classes) on the test split after every --eval_freq
// epochs and at the end. The number to beat for SupCon + linear evaluation.
//
// With --ckpt it fine-tunes instead (google-research/simclr's train_mode=finetune): the
// encoder starts from a clr-supcon checkpoint (its architecture with it), the classifier
// from scratch, and --fine_tune_after_block K freezes the stem and stages 1..K (-1: all
// train; 4: the classifier alone, on a frozen encoder whose BatchNorm statistics stay).
//
//   clr-ce --dataset fashion_mnist --model resnet18 --width 0.25 --epochs 2 --cosine
//   clr-ce --ckpt save/SupCon/last.clr --fine_tune_after_block 2 --epochs 10 --cosine
//
// Built with CLR_WITH_MPI it also runs as `mpirun -np N clr-ce ...` (docs/distributed.md):
// --batch_size per rank, --syncBN as SupContrast's DDP forks.
#include <chrono>
#include <clr/clr.hpp>
#include <clr/train/fine_tune.hpp>
#include <clr/train/supervised.hpp>
#include <cstdio>
#include <filesystem>
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
  Args args("clr-ce",
            "Supervised cross-entropy baseline (SupContrast's main_ce.py): a ResNet and a "
            "linear classifier trained end to end; prints 'ce top-1: NN.NN%'.");
  args.flag("model", "encoder",
            {.default_value = "resnet18", .choices = {"resnet18", "resnet34", "resnet50"}})
      .flag("width", "channel multiplier (1: 64 ... 512 channels)", {.default_value = "1"})
      .flag("batch_size", "images per batch", {.default_value = "256"})
      .flag("learning_rate", "base learning rate", {.default_value = "0.2"})
      .toggle("cosine", "cosine annealing (else step decay at --lr_decay_epochs)")
      .toggle("warm", "linear warm-up over the first 10 epochs (on by default above batch 256)")
      .flag("epochs", "training epochs", {.default_value = "500"})
      .flag("lr_decay_epochs", "step decay milestones", {.default_value = "350,400,450"})
      .flag("lr_decay_rate", "decay factor", {.default_value = "0.1"})
      .flag("weight_decay", "weight decay", {.default_value = "1e-4"})
      .flag("momentum", "momentum", {.default_value = "0.9"})
      .flag("dataset", "dataset",
            {.default_value = "fashion_mnist",
             .choices = {"fashion_mnist", "mnist", "cifar10", "cifar100"}})
      .flag("data_folder", "where the dataset is (default: its usual place)", {.metavar = "DIR"})
      .flag("mean", "normalisation mean (default: the dataset's)", {.metavar = "TUPLE"})
      .flag("std", "normalisation std (default: the dataset's)", {.metavar = "TUPLE"})
      .flag("size", "crop size (default: the dataset's image size)", {.metavar = "N"})
      .flag("num_workers", "threads decoding and augmenting", {.default_value = "1"})
      .flag("eval_freq", "test accuracy every N epochs (and at the end)", {.default_value = "10"})
      .flag("save_folder", "where the checkpoint and the CSV log go",
            {.default_value = "./save/SupCE"})
      .flag("seed", "random seed", {.default_value = "0"})
      .flag("ckpt",
            "fine-tune: start from the encoder of this clr-supcon checkpoint (its --model, "
            "--width and channels)",
            {.metavar = "FILE"})
      .flag("fine_tune_after_block",
            "with --ckpt: freeze the stem (0) and stages 1..K; -1 trains every block, 4 only "
            "the classifier",
            {.default_value = "-1"})
      .flag("subset", "use only the first N images of each split (quick trials)", {.metavar = "N"})
      .flag("print_freq", "batches between progress lines when not on a terminal",
            {.default_value = "50"})
      .flag("device", "backend", {.default_value = "cpu", .choices = {"cpu", "cuda"}})
      .toggle("syncBN", "under mpirun: BatchNorm statistics over all ranks' batches");
  return args;
}

template <Backend B, class Comm>
int run(const Args& args, Comm& comm) {
  const int rank = comm.rank(), world_size = comm.world_size();
  const bool lead = rank == 0;  // logs, evaluates, writes the CSV and the checkpoint
  const auto dataset_name = args.get<std::string>("dataset");
  const examples::DatasetChoice choice{dataset_name,
                                       args.find<std::string>("data_folder").value_or("")};
  const examples::ImageStats stats = examples::image_stats(args, dataset_name);
  const int size = stats.size;
  const examples::AnyDataset full = examples::open_dataset(choice, data::Split::train);
  const int classes = full.num_classes();
  const examples::Subset train_set(full, args.find<std::int64_t>("subset").value_or(full.size()));
  const std::uint64_t seed = args.get<std::uint64_t>("seed");
  const augment::PresetOptions normalisation{
      .channels = stats.channels, .mean = stats.mean, .std = stats.std};
  // main_ce.py's training transform: crop, flip, colour jitter, grayscale, as main_supcon.
  data::DataLoader loader(train_set, augment::simclr_cifar(size, normalisation),
                          {.batch_size = args.get<int>("batch_size"),
                           .n_views = 1,
                           .shuffle = true,
                           .num_workers = args.get<int>("num_workers"),
                           .seed = seed,
                           .rank = rank,
                           .world_size = world_size});
  const auto test_set =
      data::load_all(examples::Subset(examples::open_dataset(choice, data::Split::test),
                                      args.find<std::int64_t>("subset").value_or(INT64_MAX)),
                     augment::eval_cifar(normalisation), args.get<int>("num_workers"));

  examples::ModelConfig config{args.get<std::string>("model"), "none", 0, args.get<float>("width"),
                               stats.channels};
  const std::optional<std::string> pretrained_path = args.find<std::string>("ckpt");
  CheckpointContents pretrained;
  if (pretrained_path) {
    pretrained = read_checkpoint(*pretrained_path);
    config = examples::ModelConfig::from_checkpoint(pretrained, *pretrained_path);
    require((!args.given("model") || args.get<std::string>("model") == config.model) &&
                (!args.given("width") || args.get<float>("width") == config.width),
            "--model/--width contradict the encoder in ", *pretrained_path, " (", config.model,
            ", width ", config.width, "): leave them out with --ckpt");
    require(config.in_channels == stats.channels, "--dataset ", dataset_name, " has ",
            stats.channels, " channels, the encoder in ", *pretrained_path, " takes ",
            config.in_channels);
  }
  Rng rng(seed);
  auto model = examples::make_ce_model<B>(config, classes, rng);
  const int after_block = args.get<int>("fine_tune_after_block");
  require(after_block == -1 || pretrained_path,
          "--fine_tune_after_block needs --ckpt: freezing blocks of a random encoder trains "
          "nothing useful");
  if (pretrained_path) {
    train::load_pretrained(*model, train::model_part(pretrained), "encoder", *pretrained_path);
    model->set_fine_tune_after_block(after_block);  // before the optimizer takes parameters()
  }
  const std::string fine_tuning =
      pretrained_path
          ? ", fine-tuning " + *pretrained_path + " after block " + std::to_string(after_block)
          : "";
  optim::SupConSchedule schedule{
      .learning_rate = args.get<double>("learning_rate"),
      .epochs = args.get<int>("epochs"),
      .lr_decay_epochs = examples::parse_milestones(args.get<std::string>("lr_decay_epochs")),
      .lr_decay_rate = args.get<double>("lr_decay_rate"),
      .cosine = args.get<bool>("cosine"),
      .warm = args.get<bool>("warm") || args.get<int>("batch_size") > 256};
  schedule.check();
  if (args.get<bool>("syncBN")) dist::sync_batch_norm(*model, comm);
  dist::broadcast_state(*model, comm);  // every replica starts from rank 0's classifier
  optim::SGD<B> sgd(nn::parameters(*model), {.lr = schedule.learning_rate,
                                             .momentum = args.get<double>("momentum"),
                                             .weight_decay = args.get<double>("weight_decay")});
  const std::filesystem::path folder = args.get<std::string>("save_folder");
  std::filesystem::create_directories(folder);
  if (lead)
    std::printf(
        "cross entropy on %s: %lld images, %d classes, %s width %g, batch %d, lr %g, "
        "%d epochs, device %s%s\n",
        dataset_name.c_str(), static_cast<long long>(train_set.size()), classes,
        config.model.c_str(), config.width, args.get<int>("batch_size"), schedule.learning_rate,
        schedule.epochs, B::name, fine_tuning.c_str());

  train::Progress progress("ce", args.get<int>("print_freq"), examples::progress_stream(rank));
  train::EpochLog log = lead ? train::EpochLog(folder / "log.csv", false) : train::EpochLog();
  const auto learning_rate = [&schedule](int epoch, int batch, int batches) {
    return schedule.lr(epoch, batch, batches);
  };
  const int eval_freq = args.get<int>("eval_freq");
  train::Accuracy accuracy;
  for (int epoch = 1; epoch <= schedule.epochs; ++epoch) {
    const auto epoch_stats = train::supervised_epoch(*model, sgd, loader, epoch, schedule.epochs,
                                                     learning_rate, progress, comm);
    if (!lead) continue;  // the replicas are equal: rank 0 evaluates and reports for all
    const bool evaluate = epoch % eval_freq == 0 || epoch == schedule.epochs;
    if (evaluate) {
      accuracy = train::classifier_accuracy(*model, test_set.images, test_set.labels);
      std::printf("epoch %d: test top-1 %.2f%%, top-5 %.2f%%\n", epoch, 100 * accuracy.top1,
                  100 * accuracy.top5);
    }
    log.write({{"epoch", epoch},
               {"loss", epoch_stats.loss},
               {"train_accuracy", epoch_stats.train_accuracy},
               {"test_top1", evaluate ? accuracy.top1 : -1.0},
               {"lr", sgd.lr()},
               {"images_per_second", epoch_stats.images_per_second},
               {"seconds", epoch_stats.seconds}});
  }
  if (!lead) return 0;
  std::map<std::string, std::string> metadata = config.metadata();
  metadata["classes"] = std::to_string(classes);
  metadata["source"] = "clr-ce";
  metadata["world_size"] = std::to_string(world_size);
  if (pretrained_path) {
    metadata["pretrained"] = *pretrained_path;
    metadata["fine_tune_after_block"] = std::to_string(after_block);
  }
  train::save_training_checkpoint(folder / "last.clr", *model, sgd, schedule.epochs, metadata);
  if (classes > 5) std::printf("ce top-5: %.2f%%\n", 100 * accuracy.top5);
  std::printf("ce top-1: %.2f%%\n", 100 * accuracy.top1);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return clr::examples::run_program(argc, argv, make_args(), []<clr::Backend B>(const Args& args) {
    return clr::examples::with_communicator<B>("clr-ce",
                                               [&](auto& comm) { return run<B>(args, comm); });
  });
}
