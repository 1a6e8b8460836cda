#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <memory>
#include <numeric>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "clr/data/load_all.hpp"
#include "clr/data/loader.hpp"
#include "data/data_test_util.hpp"

using clr::cpu;
using clr::Rng;
using clr::Tensor;
using clr::augment::Image;
using clr::data::Batch;
using clr::data::DataLoader;
using clr::data::LoaderOptions;
using clr::data::Sample;
using clr::testing::contains;
using clr::testing::error_of;

namespace {

// Sample i: a 2x2 grayscale image of value i, label i mod 7; get(bad) throws, and each get
// can take a while, as decoding does.
struct Numbers {
  std::int64_t n = 103;
  std::int64_t bad = -1, bad_too = -1;
  int delay_us = 0;
  int label_offset = 0;
  std::int64_t size() const { return n; }
  int num_classes() const { return 7; }
  std::string name() const { return "Numbers"; }
  Sample get(std::int64_t i) const {
    if (delay_us) std::this_thread::sleep_for(std::chrono::microseconds(delay_us));
    clr::require(i != bad && i != bad_too, "bad sample ", i);
    Image image(2, 2, 1);
    std::fill(image.data(), image.data() + 4, static_cast<std::uint8_t>(i));
    return {image, static_cast<int>(i % 7) + label_offset};
  }
};

// [1, 2, 2]: the image's value plus one draw of the view's generator, so the integer part
// names the sample and the fraction the stream.
struct Tag {
  Tensor<cpu> operator()(const Image& image, Rng& rng) const {
    std::vector<float> values(4);
    for (int k = 0; k < 4; ++k) values[k] = image.data()[k] + rng.uniform();
    return Tensor<cpu>::from(values, {1, 2, 2});
  }
};

std::vector<Batch> collect(DataLoader<Numbers, Tag>& loader, std::int64_t epoch) {
  std::vector<Batch> batches;
  for (Batch& batch : loader.epoch(epoch)) batches.push_back(std::move(batch));
  return batches;
}

std::vector<Batch> run(LoaderOptions options, std::int64_t epoch, Numbers data = {}) {
  DataLoader loader(data, Tag{}, options);
  return collect(loader, epoch);
}

std::vector<std::int64_t> indices_of(const std::vector<Batch>& batches) {
  std::vector<std::int64_t> all;
  for (const auto& batch : batches)
    all.insert(all.end(), batch.indices.begin(), batch.indices.end());
  return all;
}

void check_same(const std::vector<Batch>& a, const std::vector<Batch>& b) {
  REQUIRE(a.size() == b.size());
  for (std::size_t k = 0; k < a.size(); ++k) {
    CHECK(a[k].indices == b[k].indices);
    CHECK(a[k].labels == b[k].labels);
    CHECK(a[k].images.shape() == b[k].images.shape());
    CHECK(a[k].images.to_vector() == b[k].images.to_vector());  // bit for bit
  }
}

std::vector<std::int64_t> iota(std::int64_t n) {
  std::vector<std::int64_t> all(n);
  std::iota(all.begin(), all.end(), 0);
  return all;
}

}  // namespace

TEST_CASE("DataLoader: every sample once per epoch, views sample-major") {
  const auto batches = run({.batch_size = 10, .n_views = 2, .num_workers = 2, .seed = 5}, 0);
  REQUIRE(batches.size() == 11);
  CHECK(batches.back().size() == 3);
  auto all = indices_of(batches);
  CHECK(all != iota(103));  // shuffled
  std::sort(all.begin(), all.end());
  CHECK(all == iota(103));
  for (const auto& batch : batches) {
    CHECK(batch.images.shape() == clr::Shape{batch.size() * 2, 1, 2, 2});
    const auto values = batch.images.to_vector();
    for (int s = 0; s < batch.size(); ++s) {
      CHECK(batch.labels[s] == batch.indices[s] % 7);
      for (int v = 0; v < 2; ++v) {
        const float value = values[(s * 2 + v) * 4];
        CHECK(std::floor(value) == batch.indices[s]);
        // The fraction is the first draw of the sample's own stream for that view.
        Rng rng = clr::data::sample_rng(5, 0, batch.indices[s], v);
        CHECK(value == static_cast<float>(batch.indices[s]) + rng.uniform());
      }
      CHECK(values[s * 8] != values[s * 8 + 4]);  // two views, two draws
    }
  }
}

TEST_CASE("DataLoader: seeded shuffles differ per epoch and repeat per seed") {
  const LoaderOptions options{.batch_size = 16, .num_workers = 1, .seed = 11};
  const auto e0 = run(options, 0), e1 = run(options, 1);
  CHECK(indices_of(e0) != indices_of(e1));
  check_same(e0, run(options, 0));
  auto other = options;
  other.seed = 12;
  CHECK(indices_of(run(other, 0)) != indices_of(e0));
  other.shuffle = false;
  CHECK(indices_of(run(other, 3)) == iota(103));
  CHECK(clr::data::epoch_order(103, true, 11, 1) == indices_of(e1));
}

TEST_CASE("DataLoader: batches are bit-identical for any num_workers and prefetch") {
  for (std::int64_t epoch : {0, 4}) {
    const auto reference = run({.batch_size = 8, .n_views = 3, .num_workers = 0, .seed = 2}, epoch);
    for (int workers : {1, 3}) {
      for (int prefetch : {1, 2, 5}) {
        CAPTURE(workers);
        CAPTURE(prefetch);
        check_same(reference, run({.batch_size = 8,
                                   .n_views = 3,
                                   .num_workers = workers,
                                   .prefetch = prefetch,
                                   .seed = 2},
                                  epoch));
      }
    }
  }
}

TEST_CASE("DataLoader: drop_last drops the short batch") {
  CHECK(run({.batch_size = 10, .drop_last = false}, 0).size() == 11);
  const auto kept = run({.batch_size = 10, .drop_last = true, .num_workers = 2}, 0);
  REQUIRE(kept.size() == 10);
  for (const auto& batch : kept) CHECK(batch.size() == 10);
  DataLoader loader(Numbers{}, Tag{}, {.batch_size = 10, .drop_last = true});
  CHECK(loader.num_batches() == 10);
}

TEST_CASE("DataLoader: ranks draw disjoint, equal shares that cover the epoch") {
  for (std::int64_t n : {102, 103}) {
    std::set<std::int64_t> seen;
    for (int rank = 0; rank < 3; ++rank) {
      const auto shard = indices_of(
          run({.batch_size = 5, .num_workers = rank, .seed = 9, .rank = rank, .world_size = 3}, 2,
              Numbers{.n = n}));
      CHECK(shard.size() == 34);
      for (auto index : shard) CHECK(seen.insert(index).second);  // disjoint
    }
    CHECK(seen.size() == 102);  // all of 102; of 103, all but one
  }
}

TEST_CASE("DataLoader: errors in workers reach the consumer at their batch") {
  for (int workers : {0, 3}) {
    CAPTURE(workers);
    DataLoader loader(Numbers{.bad = 57}, Tag{},
                      {.batch_size = 10, .shuffle = false, .num_workers = workers});
    loader.begin_epoch(0);
    for (int k = 0; k < 5; ++k) CHECK(loader.next()->number == k);
    CHECK(contains(error_of([&] { loader.next(); }), "bad sample 57"));
    CHECK_FALSE(loader.next().has_value());  // the epoch ended with the error
    loader.begin_epoch(1);                   // a new one starts afresh
    CHECK(loader.next()->indices == iota(10));
  }
  // Two failures in one batch: the first in batch order is reported, whoever met it.
  for (int workers : {0, 2, 3}) {
    DataLoader loader(Numbers{.bad = 57, .bad_too = 52}, Tag{},
                      {.batch_size = 40, .shuffle = false, .num_workers = workers});
    loader.begin_epoch(0);
    loader.next();
    CHECK(contains(error_of([&] { loader.next(); }), "bad sample 52"));
  }
  // A transform whose views differ in shape, or that returns no [C, H, W].
  auto uneven = [](const Image& image, Rng&) {
    return Tensor<cpu>({1, image.data()[0] == 20 ? 3 : 2, 2});
  };
  DataLoader a(Numbers{}, uneven, {.batch_size = 10, .shuffle = false, .num_workers = 2});
  a.begin_epoch(0);
  CHECK(a.next()->number == 0);
  CHECK(a.next()->number == 1);  // samples 10..19; 20 opens batch 2
  CHECK(contains(error_of([&] { a.next(); }), "a batch needs one shape"));
  auto flat = [](const Image&, Rng&) { return Tensor<cpu>({4}); };
  DataLoader b(Numbers{}, flat, {.batch_size = 10});
  b.begin_epoch(0);
  CHECK(contains(error_of([&] { b.next(); }), "expected [C, H, W]"));
  DataLoader c(Numbers{.label_offset = 7}, Tag{}, {.batch_size = 10, .num_workers = 1});
  c.begin_epoch(0);
  CHECK(contains(error_of([&] { c.next(); }), "outside [0, 7)"));
}

TEST_CASE("DataLoader: stopping early neither hangs nor leaks work into the next epoch") {
  const Numbers slow{.n = 1000, .delay_us = 2000};
  const LoaderOptions options{.batch_size = 50, .num_workers = 3, .prefetch = 4, .seed = 1};
  const auto start = std::chrono::steady_clock::now();
  {
    DataLoader loader(slow, Tag{}, options);
    loader.begin_epoch(0);
    CHECK(loader.next()->size() == 50);
  }  // 19 batches unread
  { DataLoader loader(slow, Tag{}, options); }
  {
    DataLoader loader(slow, Tag{}, options);
    loader.begin_epoch(0);
  }
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));

  // Restarting mid-epoch gives exactly the new epoch's batches.
  DataLoader loader(Numbers{}, Tag{}, {.batch_size = 10, .num_workers = 3, .seed = 4});
  loader.begin_epoch(0);
  loader.next();
  loader.next();
  check_same(collect(loader, 1), run({.batch_size = 10, .seed = 4}, 1));
}

TEST_CASE("DataLoader: options are checked") {
  CHECK(
      contains(error_of([] { DataLoader(Numbers{}, Tag{}, {.batch_size = 0}); }), "batch_size 0"));
  CHECK(contains(error_of([] { DataLoader(Numbers{}, Tag{}, {.rank = 2, .world_size = 2}); }),
                 "rank 2 of world_size 2"));
  CHECK(contains(
      error_of([] { DataLoader(Numbers{.n = 3}, Tag{}, {.batch_size = 2, .world_size = 4}); }),
      "0 per rank for world_size 4"));
  CHECK(contains(
      error_of([] { DataLoader(Numbers{.n = 3}, Tag{}, {.batch_size = 4, .drop_last = true}); }),
      "no full batch of 4"));
}

TEST_CASE("load_all: the whole dataset in order, one tensor") {
  auto to_tensor = [](const Image& image) {
    return Tensor<cpu>::from(std::vector<float>(image.data(), image.data() + 4), {1, 2, 2});
  };
  for (int workers : {0, 2}) {
    const auto loaded = clr::data::load_all(Numbers{}, to_tensor, workers, 16);
    REQUIRE(loaded.images.shape() == clr::Shape{103, 1, 2, 2});
    const auto values = loaded.images.to_vector();
    for (int i = 0; i < 103; ++i) {
      CHECK(loaded.labels[i] == i % 7);
      CHECK(values[i * 4 + 3] == static_cast<float>(i));
    }
  }
}
