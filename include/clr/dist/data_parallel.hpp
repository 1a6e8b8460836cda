// DataParallel: PyTorch DDP's bookkeeping for a model replicated on every rank.
//
//   broadcast_state()     parameters and buffers (BatchNorm's running statistics) from
//                         rank 0, once at the start, so every replica starts equal
//   reduce_gradients(op)  after backward, before the optimizer step: every gradient
//                         all-reduced, mean when each rank's loss is its own batch's, sum
//                         when the loss is already the global batch's (CrossReplica)
//   sync_buffers()        rank 0's running statistics to everyone (DDP's
//                         broadcast_buffers), so that replicas and checkpoints agree
//
// Gradients travel in buckets: the tensors, last layer first (the order in which backward
// finishes them), packed into buffers of at most `bucket_floats` floats, one collective per
// bucket rather than one per tensor (a ResNet-18 has 62 parameter tensors). A bucket of one
// tensor is reduced in place. With a single rank every call returns at once.
//
// No overlap with backward: layers have no per-tensor completion hooks, and on a CPU the
// reduction competes for the same cores as backward; docs/benchmarks.md measures its share
// of the step (the most that overlapping could win).
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "clr/core/error.hpp"
#include "clr/core/tensor.hpp"
#include "clr/dist/communicator.hpp"
#include "clr/nn/layer.hpp"

namespace clr::dist {

struct DataParallelOptions {
  std::int64_t bucket_floats = std::int64_t{25} << 18;  // 25 MiB, PyTorch DDP's bucket_cap_mb
};

namespace detail {

// Tensors grouped into packed buffers of at most `cap` floats (a larger tensor alone).
template <Backend B>
class Buckets {
 public:
  Buckets() = default;
  Buckets(std::vector<Tensor<B>*> tensors, std::int64_t cap) : tensors_(std::move(tensors)) {
    std::int64_t filled = 0;
    for (std::size_t i = 0; i < tensors_.size(); ++i) {
      const std::int64_t n = tensors_[i]->numel();
      if (spans_.empty() || filled + n > cap) {
        spans_.push_back({i, i, 0});
        filled = 0;
      }
      spans_.back().end = i + 1;
      spans_.back().floats += n;
      filled += n;
    }
    for (const Span& span : spans_)
      buffers_.push_back(span.end - span.begin > 1
                             ? Tensor<B>::uninitialized({static_cast<int>(span.floats)})
                             : Tensor<B>());
  }

  std::size_t size() const { return spans_.size(); }

  // Packs bucket `b`, runs `collective(data, floats)` on it, unpacks it.
  template <class Collective>
  void apply(std::size_t b, Collective collective) {
    const Span& span = spans_[b];
    if (span.end - span.begin == 1) {
      Tensor<B>& only = *tensors_[span.begin];
      if (!only.empty()) collective(only.data(), only.numel());
      return;
    }
    float* packed = buffers_[b].data();
    copy_all(span, packed, true);
    collective(packed, span.floats);
    copy_all(span, packed, false);
  }

 private:
  struct Span {
    std::size_t begin, end;
    std::int64_t floats;
  };

  void copy_all(const Span& span, float* packed, bool pack) {
    std::int64_t offset = 0;
    for (std::size_t i = span.begin; i < span.end; ++i) {
      Tensor<B>& t = *tensors_[i];
      const std::int64_t bytes = t.numel() * static_cast<std::int64_t>(sizeof(float));
      if (bytes > 0) {
        if (pack)
          B::copy(packed + offset, t.data(), bytes);
        else
          B::copy(t.data(), packed + offset, bytes);
      }
      offset += t.numel();
    }
  }

  std::vector<Tensor<B>*> tensors_;
  std::vector<Span> spans_;
  std::vector<Tensor<B>> buffers_;  // empty for one-tensor buckets
};

}  // namespace detail

template <Communicator Comm>
class DataParallel {
 public:
  using B = typename Comm::backend;

  // `state`: nn::state(model), parameters and buffers; the model must outlive this.
  DataParallel(nn::State<B> state, Comm& comm, DataParallelOptions options = {}) : comm_(comm) {
    require(options.bucket_floats >= 1, "DataParallel: bucket_floats must be >= 1, got ",
            options.bucket_floats);
    if (comm.world_size() == 1) return;  // nothing will travel: no buffers
    std::vector<Tensor<B>*> grads, values, buffers;
    for (auto it = state.rbegin(); it != state.rend(); ++it) {
      if (it->grad != nullptr) grads.push_back(it->grad);
      if (it->grad == nullptr) buffers.push_back(it->value);
    }
    for (auto& entry : state) values.push_back(entry.value);
    grads_ = detail::Buckets<B>(std::move(grads), options.bucket_floats);
    values_ = detail::Buckets<B>(std::move(values), options.bucket_floats);
    buffers_ = detail::Buckets<B>(std::move(buffers), options.bucket_floats);
  }

  void broadcast_state(int root = 0) { broadcast(values_, root); }

  void reduce_gradients(ReduceOp op) {
    if (comm_.world_size() == 1) return;
    for (std::size_t b = 0; b < grads_.size(); ++b)
      grads_.apply(b, [&](float* data, std::int64_t n) { comm_.all_reduce(data, n, op); });
  }

  void sync_buffers(int root = 0) { broadcast(buffers_, root); }

  std::size_t gradient_buckets() const { return grads_.size(); }
  Comm& communicator() { return comm_; }

 private:
  void broadcast(detail::Buckets<B>& buckets, int root) {
    if (comm_.world_size() == 1) return;
    for (std::size_t b = 0; b < buckets.size(); ++b)
      buckets.apply(b, [&](float* data, std::int64_t n) { comm_.broadcast(data, n, root); });
  }

  Comm& comm_;
  detail::Buckets<B> grads_, values_, buffers_;
};

// The model's parameters and buffers from rank `root` to every rank.
template <nn::Layer Model, Communicator Comm>
void broadcast_state(Model& model, Comm& comm, int root = 0) {
  DataParallel<Comm>(nn::state(model), comm).broadcast_state(root);
}

// How a loss's parameter gradients combine across ranks: a loss that sees the global batch
// (it says so with kGlobalBatch, as CrossReplica does) already gives each rank its share of
// the global gradient, so the shares add up; otherwise each rank's loss is its own batch's
// and the global loss is their mean.
template <class Loss>
constexpr ReduceOp gradient_reduction() {
  if constexpr (requires { Loss::kGlobalBatch; }) {
    return Loss::kGlobalBatch ? ReduceOp::sum : ReduceOp::mean;
  } else {
    return ReduceOp::mean;
  }
}

}  // namespace clr::dist
