// SyncBN's arithmetic without MPI: "rank 1" runs a BatchNorm on its half and its statistics
// and sums are recorded; "rank 0" runs on its half with a sync that answers with both
// ranks' numbers. Its output, input gradient and running statistics must be those of one
// BatchNorm on the whole batch, restricted to rank 0's half.
#include <doctest/doctest.h>

#include "dist/dist_fixture.hpp"
#include "support/backends.hpp"

using namespace clr;
using namespace clr::testing;

namespace {

// Answers a collective with this rank's values followed (gather) or increased (sum) by the
// other rank's recorded ones; with nothing recorded it records instead.
struct TwoRanks : nn::BatchStatsSync {
  std::vector<float> other_stats, other_sums;
  bool recording = true;
  std::vector<float> all_gather(std::span<const float> local) override {
    std::vector<float> all(local.begin(), local.end());
    if (recording) {
      other_stats = all;
      return all;
    }
    all.insert(all.end(), other_stats.begin(), other_stats.end());
    return all;
  }
  void all_reduce_sum(std::span<float> values) override {
    if (recording) {
      other_sums.assign(values.begin(), values.end());
      return;
    }
    for (std::size_t i = 0; i < values.size(); ++i) values[i] += other_sums[i];
  }
};

std::vector<float> random_values(std::size_t n, std::uint64_t seed, float shift) {
  Rng rng(seed);
  std::vector<float> v(n);
  for (float& x : v) x = rng.uniform(-1.0f, 1.0f) * 2.0f + shift;
  return v;
}

}  // namespace

TEST_CASE_TEMPLATE("SyncBN: two ranks' halves normalise as one batch", B, CLR_TEST_BACKENDS) {
  CLR_SKIP_WITHOUT_DEVICE(B);
  const int c = 3, h = 2, w = 3, n0 = 4, n1 = 2;  // unequal halves: counts are weighed
  const int plane = c * h * w;
  // Different means per half, so that per-half statistics would be visibly wrong.
  const auto x0 = random_values(n0 * plane, 1, 0.5f), x1 = random_values(n1 * plane, 2, -1.0f);
  const auto dy0 = random_values(n0 * plane, 3, 0.0f), dy1 = random_values(n1 * plane, 4, 0.3f);
  auto cat = [](std::vector<float> a, const std::vector<float>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
  };
  nn::BatchNorm2d<B> whole(c), rank0(c), rank1(c);
  const Tensor<B> y = whole.forward(Tensor<B>::from(cat(x0, x1), {n0 + n1, c, h, w}),
                                    nn::Mode::train);
  const Tensor<B> dx = whole.backward(Tensor<B>::from(cat(dy0, dy1), {n0 + n1, c, h, w}));

  const auto sync = std::make_shared<TwoRanks>();
  rank1.set_sync(sync);
  rank1.forward(Tensor<B>::from(x1, {n1, c, h, w}), nn::Mode::train);
  rank1.backward(Tensor<B>::from(dy1, {n1, c, h, w}));
  sync->recording = false;
  rank0.set_sync(sync);
  const Tensor<B> y0 = rank0.forward(Tensor<B>::from(x0, {n0, c, h, w}), nn::Mode::train);
  const Tensor<B> dx0 = rank0.backward(Tensor<B>::from(dy0, {n0, c, h, w}));

  const auto expected_y = y.to_vector(), expected_dx = dx.to_vector();
  const std::vector<float> want_y(expected_y.begin(), expected_y.begin() + n0 * plane);
  const std::vector<float> want_dx(expected_dx.begin(), expected_dx.begin() + n0 * plane);
  CHECK(max_abs_difference(y0.to_vector(), want_y) < 1e-5f);
  CHECK(max_abs_difference(dx0.to_vector(), want_dx) < 1e-5f);
  // The running statistics follow the global batch (unbiased by the global count); gamma's
  // and beta's gradients are rank 0's share, so they must differ from the whole batch's.
  nn::State<B> whole_buffers, rank0_buffers;
  for (auto& e : nn::state(whole))
    if (!e.grad) whole_buffers.push_back(e);
  for (auto& e : nn::state(rank0))
    if (!e.grad) rank0_buffers.push_back(e);
  CHECK(max_abs_difference(flatten(rank0_buffers, false), flatten(whole_buffers, false)) < 1e-6f);
  const auto share = flatten(nn::parameters(rank0), true);
  const auto total = flatten(nn::parameters(whole), true);
  CHECK(max_abs_difference(share, total) > 1e-3f);

  // Unsynchronised, rank 0's half alone would be normalised differently.
  nn::BatchNorm2d<B> alone(c);
  const Tensor<B> y_alone = alone.forward(Tensor<B>::from(x0, {n0, c, h, w}), nn::Mode::train);
  CHECK(max_abs_difference(y_alone.to_vector(), want_y) > 1e-2f);
}
