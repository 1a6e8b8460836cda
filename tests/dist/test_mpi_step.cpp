// One data-parallel training step on 2 MPI ranks × B against one process × 2B, computed on
// each rank by itself (tolerance 1e-5):
//   - cross-replica negatives + SyncBN: the same loss, gradients, updated parameters and
//     BatchNorm statistics as the one process on the whole batch;
//   - neither: each rank's loss is its half's, so the reference is the mean of the two
//     halves' losses and gradients, BatchNorm per half (rank 0's statistics kept).
// The ranks are checked to have had different data, so the tests cannot pass by accident.
#include <doctest/doctest.h>

#include "dist/dist_fixture.hpp"
#include "dist/mpi_world.hpp"

using namespace clr;
using namespace clr::testing;

namespace {

constexpr int kPerRank = 4;

dist::Mpi& two_ranks() {
  dist::Mpi& world = mpi_world();
  if (expected_ranks() > 0) REQUIRE(world.world_size() == expected_ranks());
  return world;
}

// Every rank's value of x, so that a test can check the ranks differed (or agreed).
std::vector<float> gathered(dist::Mpi& world, float x) {
  return dist::all_gather_host(world, std::vector<float>{x});
}

float checksum(const std::vector<float>& v) {
  double s = 0.0;
  for (std::size_t i = 0; i < v.size(); ++i) s += v[i] * double(1 + i % 7);
  return static_cast<float>(s);
}

}  // namespace

TEST_CASE("MPI step: cross-replica negatives + SyncBN equal one process on the global batch") {
  dist::Mpi& world = two_ranks();
  const int ranks = world.world_size(), rank = world.rank();
  if (ranks < 2) {
    MESSAGE("skipped: run under mpirun -np 2");
    return;
  }
  const int global = ranks * kPerRank;
  auto model = make_dist_model<cpu>(21);
  REQUIRE(dist::sync_batch_norm(model, world) == 2);
  optim::SGD<cpu> sgd(nn::parameters(model), dist_sgd());
  dist::CrossReplica<loss::SupCon<cpu>, dist::Mpi> loss(loss::SupCon<cpu>(dist_supcon()), world);

  auto reference = make_dist_model<cpu>(21);
  optim::SGD<cpu> reference_sgd(nn::parameters(reference), dist_sgd());
  loss::SupCon<cpu> reference_loss(dist_supcon());
  dist::Local<cpu> local;

  // Two steps: the second starts from the all-reduced update and SGD's momentum.
  for (int step = 0; step < 2; ++step) {
    CAPTURE(step);
    const GlobalBatch batch = make_global_batch(global, 100 + step);
    const Tensor<cpu> mine = batch.images_of<cpu>(rank * kPerRank, kPerRank);
    const auto sums = gathered(world, checksum(mine.to_vector()));
    REQUIRE(sums[0] != sums[1]);  // the ranks had different images

    const StepResult distributed =
        train_step(model, sgd, loss, mine, batch.labels_of(rank * kPerRank, kPerRank), world);
    const StepResult single = train_step(reference, reference_sgd, reference_loss,
                                         batch.images_of<cpu>(0, global),
                                         batch.labels_of(0, global), local);
    CHECK(distributed.loss == doctest::Approx(single.loss).epsilon(1e-5));
    CHECK(max_abs_difference(distributed.grads, single.grads) < 1e-5f);
    CHECK(max_abs_difference(distributed.params, single.params) < 1e-5f);
    CHECK(max_abs_difference(distributed.buffers, single.buffers) < 1e-5f);
    // Not vacuous: a rank's own half gives another loss, and the step moved the parameters.
    loss::SupCon<cpu> own(dist_supcon());
    auto probe = make_dist_model<cpu>(21);
    const Tensor<cpu> z = probe.forward(mine, nn::Mode::train);
    const float own_loss = own.forward(z.reshape({kPerRank, kViews, kDim}),
                                       batch.labels_of(rank * kPerRank, kPerRank));
    if (step == 0) CHECK(std::abs(own_loss - single.loss) > 1e-3f);
    CHECK(max_abs_difference(single.params, flatten(nn::parameters(probe), false)) > 1e-4f);
  }
}

TEST_CASE("MPI step: per-rank losses and BatchNorm equal the mean of the two halves") {
  dist::Mpi& world = two_ranks();
  const int ranks = world.world_size(), rank = world.rank();
  if (ranks < 2) {
    MESSAGE("skipped: run under mpirun -np 2");
    return;
  }
  REQUIRE(ranks == 2);
  const GlobalBatch batch = make_global_batch(2 * kPerRank, 300);
  auto model = make_dist_model<cpu>(31);
  optim::SGD<cpu> sgd(nn::parameters(model), dist_sgd());
  loss::SupCon<cpu> loss(dist_supcon());
  const StepResult distributed =
      train_step(model, sgd, loss, batch.images_of<cpu>(rank * kPerRank, kPerRank),
                 batch.labels_of(rank * kPerRank, kPerRank), world);

  // The reference: one model per half from the same initialisation, gradients averaged,
  // the step taken on half 0's model (whose BatchNorm statistics rank 0 broadcasts).
  dist::Local<cpu> local;
  auto half0 = make_dist_model<cpu>(31), half1 = make_dist_model<cpu>(31);
  optim::SGD<cpu> sgd0(nn::parameters(half0), dist_sgd()), sgd1(nn::parameters(half1), dist_sgd());
  loss::SupCon<cpu> loss0(dist_supcon()), loss1(dist_supcon());
  const StepResult r0 = train_step(half0, sgd0, loss0, batch.images_of<cpu>(0, kPerRank),
                                   batch.labels_of(0, kPerRank), local);
  const StepResult r1 = train_step(half1, sgd1, loss1, batch.images_of<cpu>(kPerRank, kPerRank),
                                   batch.labels_of(kPerRank, kPerRank), local);
  REQUIRE(std::abs(r0.loss - r1.loss) > 1e-3f);  // the halves differ
  std::vector<float> mean(r0.grads.size());
  for (std::size_t i = 0; i < mean.size(); ++i) mean[i] = 0.5f * (r0.grads[i] + r1.grads[i]);
  CHECK(max_abs_difference(distributed.grads, mean) < 1e-5f);
  CHECK(max_abs_difference(r0.grads, r1.grads) > 1e-4f);
  // The rank's own loss is its half's; the global one is their mean.
  CHECK(distributed.loss == doctest::Approx(rank == 0 ? r0.loss : r1.loss).epsilon(1e-5));
  double global_loss[] = {distributed.loss};
  dist::all_reduce_host(world, std::span<double>(global_loss), dist::ReduceOp::mean);
  CHECK(global_loss[0] == doctest::Approx(0.5 * (r0.loss + r1.loss)).epsilon(1e-5));

  // The update from the averaged gradients, taken on a fresh copy of the initial model.
  auto updated = make_dist_model<cpu>(31);
  optim::SGD<cpu> sgd_u(nn::parameters(updated), dist_sgd());
  std::size_t offset = 0;
  for (auto& entry : nn::parameters(updated)) {
    const auto n = static_cast<std::size_t>(entry.grad->numel());
    *entry.grad = Tensor<cpu>::from(std::span<const float>(mean).subspan(offset, n),
                                    entry.grad->shape());
    offset += n;
  }
  sgd_u.step();
  CHECK(max_abs_difference(distributed.params, flatten(nn::parameters(updated), false)) < 1e-5f);
  CHECK(max_abs_difference(distributed.buffers, r0.buffers) < 1e-6f);
  CHECK(max_abs_difference(r0.buffers, r1.buffers) > 1e-4f);
}
