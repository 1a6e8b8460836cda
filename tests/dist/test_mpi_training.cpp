// The training loop and checkpoints under MPI (2 ranks):
//   - pretrain_epoch with cross-replica negatives + SyncBN on 2 ranks × 8 images, each rank
//     reading its shard, gives the epoch's loss and parameters of one process × 16 images
//     (the loader's views depend only on (seed, epoch, image), and the loss and BatchNorm
//     on the set of samples, not their order);
//   - rank 0 alone writes the checkpoint, every rank loads it and has the same model.
#include <doctest/doctest.h>

#include <filesystem>
#include <random>

#include "dist/dist_fixture.hpp"
#include "dist/mpi_world.hpp"

using namespace clr;
using namespace clr::testing;

namespace {

// 6x6 colour pictures of 3 classes: a bright stripe in row block c, over noise.
struct Stripes {
  std::int64_t size() const { return 32; }
  int num_classes() const { return 3; }
  std::string name() const { return "stripes"; }
  data::Sample get(std::int64_t index) const {
    const int label = static_cast<int>(index % 3);
    augment::Image image(kSide, kSide, kChannels);
    Rng rng(static_cast<std::uint64_t>(index) + 7);
    for (int y = 0; y < kSide; ++y)
      for (int x = 0; x < kSide; ++x)
        for (int c = 0; c < kChannels; ++c)
          image.at(y, x, c) = static_cast<std::uint8_t>(
              y / 2 == label ? 200 + rng.uniform_int(50) : rng.uniform_int(80));
    return {image, label};
  }
};

struct Trainer {
  DistModel<cpu> model = make_dist_model<cpu>(41);
  optim::SGD<cpu> sgd{nn::parameters(model), dist_sgd()};
  data::DataLoader<Stripes, augment::SimCLRCifar> loader;
  train::Progress progress{"test", 1000, stderr};
  train::PretrainSettings settings{
      .epochs = 2, .supervised = true, .learning_rate = [](int, int, int) { return 0.05; }};

  Trainer(int batch_size, int rank, int world_size)
      : loader(Stripes{}, augment::simclr_cifar(kSide, {.channels = kChannels}),
               {.batch_size = batch_size,
                .n_views = kViews,
                .shuffle = true,
                .drop_last = true,
                .num_workers = 1,
                .seed = 5,
                .rank = rank,
                .world_size = world_size}) {}
};

}  // namespace

TEST_CASE("MPI pretrain_epoch: 2 ranks x 8 with cross-replica + SyncBN = 1 process x 16") {
  dist::Mpi& world = mpi_world();
  if (expected_ranks() > 0) REQUIRE(world.world_size() == expected_ranks());
  if (world.world_size() != 2) {
    MESSAGE("skipped: run under mpirun -np 2");
    return;
  }
  Trainer ranked(8, world.rank(), 2);
  REQUIRE(ranked.loader.num_batches() == 2);
  REQUIRE(dist::sync_batch_norm(ranked.model, world) == 2);
  dist::broadcast_state(ranked.model, world);
  dist::CrossReplica<loss::SupCon<cpu>, dist::Mpi> loss(loss::SupCon<cpu>(dist_supcon()), world);

  Trainer single(16, 0, 1);
  loss::SupCon<cpu> single_loss(dist_supcon());
  const std::vector<float> initial = flatten(nn::parameters(single.model), false);
  for (int epoch = 1; epoch <= 2; ++epoch) {
    CAPTURE(epoch);
    const train::EpochStats a = train::pretrain_epoch(ranked.model, loss, ranked.sgd,
                                                      ranked.loader, epoch, ranked.settings,
                                                      ranked.progress, world);
    const train::EpochStats b = train::pretrain_epoch(single.model, single_loss, single.sgd,
                                                      single.loader, epoch, single.settings,
                                                      single.progress);
    CHECK(a.batches == 2);
    CHECK(a.loss == doctest::Approx(b.loss).epsilon(1e-5));
    CHECK(max_abs_difference(flatten(nn::parameters(ranked.model), false),
                             flatten(nn::parameters(single.model), false)) < 1e-5f);
    CHECK(max_relative_difference(buffers_of(ranked.model), buffers_of(single.model)) < 1e-5f);
  }
  CHECK(max_abs_difference(initial, flatten(nn::parameters(single.model), false)) > 1e-3f);
}

TEST_CASE("MPI checkpoint: rank 0 writes, every rank resumes with the same model") {
  dist::Mpi& world = mpi_world();
  if (expected_ranks() > 0) REQUIRE(world.world_size() == expected_ranks());
  if (world.world_size() < 2) {
    MESSAGE("skipped: run under mpirun -np 2");
    return;
  }
  // A file name that rank 0 draws and every rank learns.
  double token[] = {world.rank() == 0 ? double(std::random_device{}() % (1u << 23)) : 0.0};
  dist::all_reduce_host(world, std::span<double>(token), dist::ReduceOp::sum);
  const auto path = std::filesystem::temp_directory_path() /
                    ("clr_test_dist_" + std::to_string(static_cast<long>(token[0])) + ".clr");

  Trainer run(8, world.rank(), world.world_size());
  dist::broadcast_state(run.model, world);
  loss::SupCon<cpu> loss(dist_supcon());
  train::pretrain_epoch(run.model, loss, run.sgd, run.loader, 1, run.settings, run.progress, world);
  // Without SyncBN the ranks' running statistics differ until rank 0's are broadcast:
  // what pretrain_epoch does after every step, so the replicas agree entirely.
  const std::vector<float> trained = flatten(nn::state(run.model), false);
  const auto sums = dist::all_gather_host(world, std::vector<float>{
                                                     static_cast<float>(trained.size()),
                                                     trained[trained.size() / 2], trained.back()});
  CHECK(sums[0] == sums[3]);
  CHECK(sums[1] == sums[4]);
  CHECK(sums[2] == sums[5]);
  train::save_training_checkpoint(path, run.model, run.sgd, 1, {{"note", "dist"}}, world);
  CHECK(std::filesystem::exists(path));

  auto fresh = make_dist_model<cpu>(99);
  optim::SGD<cpu> fresh_sgd(nn::parameters(fresh), dist_sgd());
  REQUIRE(max_abs_difference(flatten(nn::state(fresh), false), trained) > 1e-3f);
  CHECK(train::load_training_checkpoint(path, fresh, fresh_sgd) == 1);
  CHECK(flatten(nn::state(fresh), false) == trained);
  world.barrier();
  if (world.rank() == 0) std::filesystem::remove(path);
  // A checkpoint that rank 0 cannot write fails on every rank, rather than hanging them.
  CHECK_THROWS_AS(train::save_training_checkpoint("/nonexistent/dir/x.clr", run.model, run.sgd, 1,
                                                  {}, world),
                  Error);
}
