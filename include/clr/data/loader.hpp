// DataLoader: shuffles a dataset per epoch, shards it over ranks, decodes and augments
// samples on worker threads and hands out batches in order, prefetched.
//
// Determinism: epoch e's order comes from Rng(seed).split(kShuffleStream).split(e) and
// view v of dataset sample i draws from sample_rng(seed, e, i, v), which depends on nothing
// else; so batches are bit-identical for any num_workers, and a sample looks the same
// whatever batch size or rank draws it. Each worker owns a copy of the transform, which must
// compute its output from (image, rng) alone.
//
// Layout: a batch of `bsz` samples holds images [bsz·n_views, C, H, W] sample-major (row
// i·n_views + v is view v of sample i), so an encoder's [bsz·n_views, dim] output reshapes
// to the loss's [bsz, n_views, dim] without a copy.
#pragma once

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <exception>
#include <limits>
#include <map>
#include <mutex>
#include <numeric>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "clr/augment/image.hpp"
#include "clr/backend/cpu/cpu.hpp"
#include "clr/core/error.hpp"
#include "clr/core/rng.hpp"
#include "clr/core/tensor.hpp"
#include "clr/data/dataset.hpp"

namespace clr::data {

// What the loader applies to each view: the augmentation pipeline, or ToTensor + Normalize
// for evaluation. Returns [C, H, W].
template <class T>
concept SampleTransform = std::copy_constructible<T> &&
    requires(T& transform, const augment::Image& image, Rng& rng) {
  { transform(image, rng) } -> std::same_as<Tensor<cpu>>;
};

struct LoaderOptions {
  int batch_size = 256;
  int n_views = 2;  // augmented views per image (SimCLR and SupCon: 2)
  bool shuffle = true;
  bool drop_last = false;  // drop the epoch's last, smaller batch
  int num_workers = 0;     // threads decoding and augmenting; 0: the caller's thread, in next()
  int prefetch = 2;        // batches in the making ahead of the consumer (with workers)
  std::uint64_t seed = 0;
  int rank = 0;  // this process's share of each epoch: every world_size-th sample
  int world_size = 1;
};

struct Batch {
  Tensor<cpu> images;                 // [size·n_views, C, H, W], sample-major
  std::vector<int> labels;            // [size]
  std::vector<std::int64_t> indices;  // [size], into the dataset
  std::int64_t epoch = 0;
  std::int64_t number = 0;  // position in the epoch, from 0
  int size() const { return static_cast<int>(labels.size()); }
};

// Separate keys for shuffling and augmenting, so the two never share draws.
inline constexpr std::uint64_t kShuffleStream = 0x53485546464c45ull;  // "SHUFFLE"
inline constexpr std::uint64_t kAugmentStream = 0x4155474d454e54ull;  // "AUGMENT"

// Epoch `epoch`'s permutation of [0, n) (Fisher-Yates), this rank's share: positions rank,
// rank + world_size, ... — disjoint across ranks, n / world_size each (the n % world_size
// left over change from epoch to epoch).
inline std::vector<std::int64_t> epoch_order(std::int64_t n, bool shuffle, std::uint64_t seed,
                                             std::int64_t epoch, int rank = 0, int world_size = 1) {
  require(n >= 0 && n <= std::numeric_limits<std::uint32_t>::max(), "epoch_order: n = ", n,
          ", expected 0 to 2^32 - 1");
  require(world_size >= 1 && rank >= 0 && rank < world_size, "epoch_order: rank ", rank,
          " of world_size ", world_size);
  std::vector<std::int64_t> all(static_cast<std::size_t>(n));
  std::iota(all.begin(), all.end(), std::int64_t{0});
  if (shuffle) {
    Rng rng = Rng(seed).split(kShuffleStream).split(static_cast<std::uint64_t>(epoch));
    for (std::int64_t i = n - 1; i > 0; --i)
      std::swap(all[i], all[rng.uniform_int(static_cast<std::uint32_t>(i + 1))]);
  }
  std::vector<std::int64_t> mine(static_cast<std::size_t>(n / world_size));
  for (std::size_t k = 0; k < mine.size(); ++k) mine[k] = all[rank + k * world_size];
  return mine;
}

// The generator for view `view` of dataset sample `index` in `epoch`.
inline Rng sample_rng(std::uint64_t seed, std::int64_t epoch, std::int64_t index, int view) {
  return Rng(seed)
      .split(kAugmentStream)
      .split(static_cast<std::uint64_t>(epoch))
      .split(static_cast<std::uint64_t>(index))
      .split(static_cast<std::uint64_t>(view));
}

template <Dataset D, SampleTransform T>
class DataLoader {
 public:
  class EpochRange;

  DataLoader(D dataset, T transform, LoaderOptions options = {})
      : dataset_(std::move(dataset)), transform_(std::move(transform)), options_(options) {
    const auto& o = options_;
    require(o.batch_size >= 1 && o.n_views >= 1 && o.num_workers >= 0 && o.prefetch >= 1,
            "DataLoader: batch_size ", o.batch_size, ", n_views ", o.n_views, ", num_workers ",
            o.num_workers, ", prefetch ", o.prefetch, "; expected >= 1, >= 1, >= 0, >= 1");
    require(static_cast<std::int64_t>(o.batch_size) * o.n_views <= std::numeric_limits<int>::max(),
            "DataLoader: batch_size x n_views does not fit an int");
    require(o.world_size >= 1 && o.rank >= 0 && o.rank < o.world_size, "DataLoader: rank ", o.rank,
            " of world_size ", o.world_size, ", expected 0 <= rank < world_size");
    const std::int64_t n = dataset_.size();
    per_rank_ = n / o.world_size;
    batches_ =
        o.drop_last ? per_rank_ / o.batch_size : (per_rank_ + o.batch_size - 1) / o.batch_size;
    used_ = std::min(per_rank_, batches_ * o.batch_size);
    require(batches_ > 0, "DataLoader: ", dataset_.name(), " has ", n, " samples: ", per_rank_,
            " per rank for world_size ", o.world_size, ", which make no ",
            o.drop_last ? "full " : "", "batch of ", o.batch_size);
    // At least 4 runs per worker per batch, so that workers finish a batch together.
    chunk_ = std::max(1, o.batch_size / (4 * std::max(1, o.num_workers)));
    try {
      for (int w = 0; w < o.num_workers; ++w) workers_.emplace_back([this] { work(); });
    } catch (...) {
      shut_down();
      throw;
    }
  }
  DataLoader(const DataLoader&) = delete;
  DataLoader& operator=(const DataLoader&) = delete;
  // Stops the workers after the samples they are on, whatever the consumer left unread.
  ~DataLoader() { shut_down(); }

  std::int64_t num_batches() const { return batches_; }
  // Samples this rank draws per epoch (before drop_last).
  std::int64_t samples_per_rank() const { return per_rank_; }
  const D& dataset() const { return dataset_; }
  const LoaderOptions& options() const { return options_; }

  // Starts epoch `epoch`, abandoning whatever is left of the previous one.
  void begin_epoch(std::int64_t epoch) {
    auto order = epoch_order(dataset_.size(), options_.shuffle, options_.seed, epoch, options_.rank,
                             options_.world_size);
    std::unique_lock lock(mutex_);
    live_ = ++generation_;
    active_ = false;
    done_.wait(lock, [&] { return busy_ == 0; });  // nobody still writes into a slot
    slots_.clear();
    order_ = std::move(order);
    epoch_ = epoch;
    next_task_ = 0;
    consumed_ = 0;
    active_ = true;
    work_.notify_all();
  }

  // The epoch's next batch, or nothing at its end. An exception thrown while preparing the
  // batch (a corrupt image, a transform's error) is rethrown here and ends the epoch.
  std::optional<Batch> next() {
    std::unique_lock lock(mutex_);
    if (!active_ || consumed_ >= batches_) return std::nullopt;
    const std::int64_t number = consumed_++;
    if (workers_.empty()) {
      lock.unlock();
      try {
        return make_batch(number);
      } catch (...) {
        lock.lock();
        active_ = false;
        throw;
      }
    }
    work_.notify_all();  // the window moved: a new batch may start
    done_.wait(lock, [&] {
      const auto slot = slots_.find(number);
      return slot != slots_.end() && slot->second.ready;
    });
    Slot slot = std::move(slots_.at(number));
    slots_.erase(number);
    if (slot.error) {
      active_ = false;
      std::rethrow_exception(slot.error);
    }
    return std::move(slot.batch);
  }

  // `for (Batch& batch : loader.epoch(e))`: begin_epoch(e), then next() until the end.
  EpochRange epoch(std::int64_t epoch) {
    begin_epoch(epoch);
    return EpochRange(*this);
  }

  class EpochRange {
   public:
    struct End {};
    class Iterator {
     public:
      explicit Iterator(DataLoader& loader) : loader_(&loader), batch_(loader.next()) {}
      Batch& operator*() { return *batch_; }
      Batch* operator->() { return &*batch_; }
      Iterator& operator++() {
        batch_ = loader_->next();
        return *this;
      }
      bool operator==(End) const { return !batch_.has_value(); }

     private:
      DataLoader* loader_;
      std::optional<Batch> batch_;
    };
    explicit EpochRange(DataLoader& loader) : loader_(loader) {}
    Iterator begin() { return Iterator(loader_); }
    End end() { return {}; }

   private:
    DataLoader& loader_;
  };

 private:
  struct Slot {
    std::vector<Tensor<cpu>> views;  // [size·n_views], each [C, H, W]
    std::vector<int> labels;         // [size]
    std::int64_t pending = 0;        // samples not done yet
    std::exception_ptr error;        // of the first failed sample in batch order
    std::int64_t error_at = std::numeric_limits<std::int64_t>::max();
    bool ready = false;
    Batch batch;
  };

  std::int64_t first_of(std::int64_t number) const { return number * options_.batch_size; }
  std::int64_t size_of(std::int64_t number) const {
    return std::min<std::int64_t>(options_.batch_size, used_ - first_of(number));
  }

  // Decodes sample `order_[position]` once and draws its views.
  void prepare(T& transform, std::int64_t position, std::vector<Tensor<cpu>>& views,
               std::vector<int>& labels, std::int64_t first) const {
    const std::int64_t index = order_[position];
    Sample sample = dataset_.get(index);
    require(sample.label >= 0 && sample.label < dataset_.num_classes(), dataset_.name(),
            ": sample ", index, " has label ", sample.label, ", outside [0, ",
            dataset_.num_classes(), ")");
    const std::int64_t at = position - first;
    labels[at] = sample.label;
    for (int v = 0; v < options_.n_views; ++v) {
      Rng rng = sample_rng(options_.seed, epoch_, index, v);
      Tensor<cpu> view = transform(static_cast<const augment::Image&>(sample.image), rng);
      require(view.rank() == 3, "DataLoader: the transform returned shape ", view.shape(),
              " for sample ", index, " of ", dataset_.name(), ", expected [C, H, W]");
      views[at * options_.n_views + v] = std::move(view);
    }
  }

  // Stacks the views into one tensor; they must share one shape.
  Batch assemble(std::int64_t number, std::vector<Tensor<cpu>>& views,
                 std::vector<int>& labels) const {
    const Shape shape = views.front().shape();
    const std::int64_t per = shape.numel();
    Batch batch;
    batch.images =
        Tensor<cpu>::uninitialized({static_cast<int>(views.size()), shape[0], shape[1], shape[2]});
    for (std::size_t k = 0; k < views.size(); ++k) {
      require(views[k].shape() == shape, "DataLoader: the transform returned ", views[k].shape(),
              " for sample ", order_[first_of(number) + k / options_.n_views], " but ", shape,
              " for sample ", order_[first_of(number)], "; a batch needs one shape");
      std::memcpy(batch.images.data() + k * per, views[k].data(), per * sizeof(float));
    }
    batch.labels = std::move(labels);
    batch.indices.assign(order_.begin() + first_of(number),
                         order_.begin() + first_of(number) + batch.size());
    batch.epoch = epoch_;
    batch.number = number;
    return batch;
  }

  Batch make_batch(std::int64_t number) {
    const std::int64_t size = size_of(number), first = first_of(number);
    std::vector<Tensor<cpu>> views(size * options_.n_views);
    std::vector<int> labels(size);
    for (std::int64_t p = first; p < first + size; ++p)
      prepare(transform_, p, views, labels, first);
    return assemble(number, views, labels);
  }

  bool has_task() const {
    return active_ && next_task_ < used_ &&
           next_task_ / options_.batch_size < consumed_ + options_.prefetch;
  }

  void work() {
    T transform = transform_;  // transforms may keep scratch state: one per thread
    std::unique_lock lock(mutex_);
    for (;;) {
      work_.wait(lock, [&] { return stop_ || has_task(); });
      if (stop_) return;
      // A run of samples of one batch per visit: the lock is taken per run, not per sample.
      const std::int64_t begin = next_task_, number = begin / options_.batch_size;
      const std::int64_t first = first_of(number);
      const std::int64_t end = std::min(begin + chunk_, first + size_of(number));
      next_task_ = end;
      Slot& slot = slots_[number];
      if (slot.labels.empty()) {
        slot.pending = size_of(number);
        slot.labels.resize(slot.pending);
        slot.views.resize(slot.pending * options_.n_views);
      }
      const std::uint64_t generation = generation_;
      ++busy_;
      // The slot outlives the unlocked section: begin_epoch clears slots only when busy_ is 0.
      lock.unlock();
      std::exception_ptr error;
      std::int64_t failed = end, position = begin;
      // A restarted epoch or a closing loader stops the run between samples.
      for (; position < end && !error && live_ == generation; ++position) {
        try {
          prepare(transform, position, slot.views, slot.labels, first);
        } catch (...) {
          error = std::current_exception();
          failed = position;
        }
      }
      lock.lock();
      if (position < end && !error) {  // abandoned: the slot is never handed out
        if (--busy_ == 0) done_.notify_all();
        continue;
      }
      if (error && failed < slot.error_at) {  // the batch reports its first failed sample
        slot.error = error;
        slot.error_at = failed;
      }
      slot.pending -= end - begin;
      const bool complete = slot.pending == 0 && generation == generation_;
      if (complete) {
        if (!slot.error) {
          // Every sample of the slot is done: nobody else touches it until ready.
          lock.unlock();
          try {
            slot.batch = assemble(number, slot.views, slot.labels);
          } catch (...) {
            error = std::current_exception();
          }
          lock.lock();
          if (error) slot.error = error;
        }
        slot.views.clear();
        slot.ready = true;
      }
      // Wake the consumer only for a finished batch, or begin_epoch for idle workers.
      if (--busy_ == 0 || complete) done_.notify_all();
    }
  }

  void shut_down() {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
      live_ = ++generation_;
    }
    work_.notify_all();
    for (auto& worker : workers_) worker.join();
    workers_.clear();
  }

  D dataset_;
  T transform_;
  LoaderOptions options_;
  std::int64_t per_rank_ = 0, batches_ = 0, used_ = 0;
  std::int64_t chunk_ = 1;  // samples a worker takes per visit

  std::mutex mutex_;
  std::condition_variable work_;  // workers: a task is there, or stop
  std::condition_variable done_;  // consumer and begin_epoch: a batch is ready, or a worker idle
  std::vector<std::thread> workers_;
  bool stop_ = false;
  bool active_ = false;  // an epoch is being served and has not failed
  std::uint64_t generation_ = 0;
  std::atomic<std::uint64_t> live_{0};  // generation_, for workers to poll without the lock
  std::int64_t epoch_ = 0;
  std::vector<std::int64_t> order_;
  std::int64_t next_task_ = 0;  // position in order_ of the next sample to prepare
  std::int64_t consumed_ = 0;   // batches handed to the consumer
  int busy_ = 0;
  std::map<std::int64_t, Slot> slots_;
};

}  // namespace clr::data
