// The single-process side of dist/, on every compiled backend: Local's collectives, the
// bucketed gradient all-reduce (through a fake two-rank communicator that makes every
// packed value visible), and a step with CrossReplica + SyncBN on one rank equal to the
// plain step.
#include <doctest/doctest.h>

#include "dist/dist_fixture.hpp"
#include "support/backends.hpp"

using namespace clr;
using namespace clr::testing;

namespace {

// "Rank 0 of 2" whose partner holds the same values: all-reduce sum doubles, mean keeps
// them; every call counted, so bucketing is visible.
template <Backend B>
struct Mirror {
  using backend = B;
  int calls = 0, broadcasts = 0;
  int rank() const { return 0; }
  int world_size() const { return 2; }
  void all_reduce(float* data, std::int64_t n, dist::ReduceOp op) {
    ++calls;
    if (op == dist::ReduceOp::sum) B::scale(data, n, 2.0f);
  }
  void all_gather(const float* in, std::int64_t n, float* out) {
    B::copy(out, in, n * 4);
    B::copy(out + n, in, n * 4);
  }
  void broadcast(float*, std::int64_t, int) { ++broadcasts; }
  void barrier() {}
};

}  // namespace

TEST_CASE_TEMPLATE("Local: one rank, collectives are the identity", B, CLR_TEST_BACKENDS) {
  CLR_SKIP_WITHOUT_DEVICE(B);
  dist::Local<B> local;
  CHECK(local.rank() == 0);
  CHECK(local.world_size() == 1);
  auto x = Tensor<B>::from(std::vector<float>{1, -2, 3}, {3});
  local.all_reduce(x.data(), 3, dist::ReduceOp::sum);
  local.all_reduce(x.data(), 3, dist::ReduceOp::mean);
  CHECK(x.to_vector() == std::vector<float>{1, -2, 3});
  Tensor<B> out({3});
  local.all_gather(x.data(), 3, out.data());
  CHECK(out.to_vector() == std::vector<float>{1, -2, 3});
  CHECK_THROWS_AS(local.broadcast(x.data(), 3, 1), Error);
  CHECK_THROWS_AS(local.all_reduce(x.data(), -1, dist::ReduceOp::sum), Error);
  double values[] = {2.5};
  dist::all_reduce_host(local, std::span<double>(values), dist::ReduceOp::sum);
  CHECK(values[0] == 2.5);
}

TEST_CASE_TEMPLATE("DataParallel: buckets pack and unpack every gradient", B, CLR_TEST_BACKENDS) {
  CLR_SKIP_WITHOUT_DEVICE(B);
  auto model = make_dist_model<B>(3);
  Rng rng(5);
  for (auto& entry : nn::parameters(model)) {
    std::vector<float> g(entry.grad->numel());
    for (float& v : g) v = rng.uniform(-1.0f, 1.0f);
    *entry.grad = Tensor<B>::from(g, entry.grad->shape());
  }
  const std::vector<float> before = flatten(nn::parameters(model), true);
  const std::size_t tensors = nn::parameters(model).size();
  for (const std::int64_t cap : {std::int64_t{1}, std::int64_t{40}, std::int64_t{1} << 20}) {
    CAPTURE(cap);
    Mirror<B> mirror;
    dist::DataParallel<Mirror<B>> parallel(nn::state(model), mirror, {.bucket_floats = cap});
    parallel.reduce_gradients(dist::ReduceOp::sum);
    CHECK(mirror.calls == static_cast<int>(parallel.gradient_buckets()));
    if (cap == 1) CHECK(parallel.gradient_buckets() == tensors);
    if (cap == (std::int64_t{1} << 20)) CHECK(parallel.gradient_buckets() == 1);
    if (cap == 40) CHECK((parallel.gradient_buckets() > 1 && parallel.gradient_buckets() < tensors));
    const std::vector<float> after = flatten(nn::parameters(model), true);
    REQUIRE(after.size() == before.size());
    for (std::size_t i = 0; i < after.size(); ++i) REQUIRE(after[i] == 2.0f * before[i]);
    for (auto& entry : nn::parameters(model)) ops::scale(*entry.grad, 0.5f);
    parallel.sync_buffers();
    CHECK(mirror.broadcasts >= 1);
  }
  CHECK(dist::gradient_reduction<loss::SupCon<B>>() == dist::ReduceOp::mean);
  CHECK(dist::gradient_reduction<dist::CrossReplica<loss::SupCon<B>, dist::Local<B>>>() ==
        dist::ReduceOp::sum);
}

TEST_CASE_TEMPLATE("CrossReplica + SyncBN on one rank: the plain step", B, CLR_TEST_BACKENDS) {
  CLR_SKIP_WITHOUT_DEVICE(B);
  const GlobalBatch batch = make_global_batch(6, 11);
  const Tensor<B> images = batch.images_of<B>(0, 6);
  dist::Local<B> local;

  auto plain_model = make_dist_model<B>(1);
  optim::SGD<B> plain_sgd(nn::parameters(plain_model), dist_sgd());
  loss::SupCon<B> plain_loss(dist_supcon());
  const StepResult plain =
      train_step(plain_model, plain_sgd, plain_loss, images, batch.labels_of(0, 6), local);

  auto model = make_dist_model<B>(1);
  CHECK(dist::sync_batch_norm(model, local) == 2);
  optim::SGD<B> sgd(nn::parameters(model), dist_sgd());
  dist::CrossReplica<loss::SupCon<B>, dist::Local<B>> loss(loss::SupCon<B>(dist_supcon()), local);
  const StepResult synced = train_step(model, sgd, loss, images, batch.labels_of(0, 6), local);
  CHECK(synced.loss == doctest::Approx(plain.loss).epsilon(1e-6));
  CHECK(synced.loss > 0.5f);
  CHECK(max_abs_difference(synced.grads, plain.grads) < 1e-6f);
  CHECK(max_abs_difference(synced.params, plain.params) < 1e-6f);
  CHECK(max_abs_difference(synced.buffers, plain.buffers) < 1e-6f);
  CHECK(dist::local_batch_norm(model) == 2);
  int still_synced = 0;
  nn::visit_batch_norms(model, [&](nn::SyncableBatchNorm& bn) { still_synced += bn.synchronized(); });
  CHECK(still_synced == 0);
}

#ifdef CLR_WITH_NCCL
TEST_CASE("Nccl, one rank: the step of Local on the GPU") {
  CLR_SKIP_WITHOUT_DEVICE(cuda);
  const GlobalBatch batch = make_global_batch(6, 13);
  const Tensor<cuda> images = batch.images_of<cuda>(0, 6);
  dist::Local<cuda> local;
  auto plain_model = make_dist_model<cuda>(2);
  optim::SGD<cuda> plain_sgd(nn::parameters(plain_model), dist_sgd());
  loss::SupCon<cuda> plain_loss(dist_supcon());
  const StepResult plain =
      train_step(plain_model, plain_sgd, plain_loss, images, batch.labels_of(0, 6), local);

  dist::Nccl nccl = dist::Nccl::single();
  CHECK(nccl.world_size() == 1);
  auto model = make_dist_model<cuda>(2);
  CHECK(dist::sync_batch_norm(model, nccl) == 2);
  dist::broadcast_state(model, nccl);
  optim::SGD<cuda> sgd(nn::parameters(model), dist_sgd());
  dist::CrossReplica<loss::SupCon<cuda>, dist::Nccl> loss(loss::SupCon<cuda>(dist_supcon()), nccl);
  const StepResult synced = train_step(model, sgd, loss, images, batch.labels_of(0, 6), nccl);
  CHECK(synced.loss == doctest::Approx(plain.loss).epsilon(1e-6));
  CHECK(max_abs_difference(synced.grads, plain.grads) < 1e-6f);
  CHECK(max_abs_difference(synced.params, plain.params) < 1e-6f);
  // The collectives themselves: a one-rank all-reduce mean and all-gather are the identity.
  auto x = Tensor<cuda>::from(std::vector<float>{1, 2, 3}, {3});
  Tensor<cuda> out({3});
  nccl.all_reduce(x.data(), 3, dist::ReduceOp::mean);
  nccl.all_gather(x.data(), 3, out.data());
  nccl.barrier();
  CHECK(out.to_vector() == std::vector<float>{1, 2, 3});
}
#endif
