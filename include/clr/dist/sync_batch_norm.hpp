// SyncBN on a whole model (SupContrast's --syncBN, PyTorch's convert_sync_batchnorm):
// every BatchNorm1d/2d of the model normalises, in train mode, by the statistics of all
// ranks' batches (see nn/batch_norm.hpp for what travels). With SyncBN on N ranks × bsz,
// the BatchNorms compute what they would on one process × N·bsz.
//
//   dist::sync_batch_norm(model, comm);    // returns how many BatchNorms it switched
//   dist::local_batch_norm(model);         // back to per-rank statistics
//
// The communicator must outlive the model's use of it.
#pragma once

#include <algorithm>
#include <memory>
#include <span>
#include <vector>

#include "clr/core/tensor.hpp"
#include "clr/dist/communicator.hpp"
#include "clr/nn/batch_norm.hpp"
#include "clr/nn/layer.hpp"

namespace clr::dist {

template <Communicator Comm>
class CommunicatorStatsSync : public nn::BatchStatsSync {
 public:
  explicit CommunicatorStatsSync(Comm& comm) : comm_(comm) {}

  std::vector<float> all_gather(std::span<const float> local) override {
    return all_gather_host(comm_, local);
  }

  void all_reduce_sum(std::span<float> values) override {
    if (comm_.world_size() == 1 || values.empty()) return;
    using B = typename Comm::backend;
    Tensor<B> buffer = Tensor<B>::from(values, {static_cast<int>(values.size())});
    comm_.all_reduce(buffer.data(), buffer.numel(), ReduceOp::sum);
    const std::vector<float> reduced = buffer.to_vector();
    std::copy(reduced.begin(), reduced.end(), values.begin());
  }

 private:
  Comm& comm_;
};

template <nn::Layer Model, Communicator Comm>
int sync_batch_norm(Model& model, Comm& comm) {
  const auto sync = std::make_shared<CommunicatorStatsSync<Comm>>(comm);
  return nn::visit_batch_norms(model, [&](nn::SyncableBatchNorm& bn) { bn.set_sync(sync); });
}

template <nn::Layer Model>
int local_batch_norm(Model& model) {
  return nn::visit_batch_norms(model, [](nn::SyncableBatchNorm& bn) { bn.set_sync(nullptr); });
}

}  // namespace clr::dist
