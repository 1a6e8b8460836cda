// Nccl: the communicator of the CUDA backend over NCCL (shipped with the CUDA toolkit),
// one GPU per process; only with CLR_WITH_NCCL (CLR_WITH_CUDA and NCCL found; link
// clr::cuda). Buffers are device pointers; every collective is enqueued on the CUDA
// backend's one stream (backend/cuda/context.hpp), so it is ordered after the kernels that
// produced its input and before those that read its output, with no host wait.
//
// A clique needs one ncclUniqueId shared by all ranks: Nccl::single() makes a 1-rank one
// (the same step as Local, on the GPU); with CLR_WITH_MPI, Nccl(mpi) makes the id on rank
// 0 and broadcasts it over MPI, as PyTorch's NCCL process group does over its store.
#pragma once

#ifndef CLR_WITH_NCCL
#error "clr/dist/nccl.hpp needs CLR_WITH_NCCL: configure with -DCLR_WITH_CUDA=ON (NCCL found)"
#endif

#include <nccl.h>

#include <cstdint>
#include <utility>

#include "clr/backend/cuda/cuda.hpp"
#include "clr/core/error.hpp"
#include "clr/dist/communicator.hpp"
#ifdef CLR_WITH_MPI
#include "clr/dist/mpi.hpp"
#endif

namespace clr::dist {

class Nccl {
 public:
  using backend = cuda;

  // Rank `rank` of `world_size` in the clique named by `id` (every rank passes the same id).
  Nccl(int rank, int world_size, const ncclUniqueId& id) : rank_(rank), size_(world_size) {
    require(world_size >= 1 && rank >= 0 && rank < world_size, "Nccl: rank ", rank,
            " of world_size ", world_size);
    cuda_impl::Context::get();  // the stream's device is the one the clique is made on
    check(ncclCommInitRank(&comm_, world_size, id, rank), "ncclCommInitRank");
  }

  // One process, one GPU.
  static Nccl single() {
    ncclUniqueId id;
    check(ncclGetUniqueId(&id), "ncclGetUniqueId");
    return Nccl(0, 1, id);
  }

#ifdef CLR_WITH_MPI
  // The ranks of `mpi`, one GPU each (the device current in each process).
  explicit Nccl(Mpi& mpi) : Nccl(mpi.rank(), mpi.world_size(), shared_id(mpi)) {}
#endif

  Nccl(Nccl&& other) noexcept
      : comm_(std::exchange(other.comm_, nullptr)), rank_(other.rank_), size_(other.size_) {}
  Nccl& operator=(Nccl&&) = delete;
  Nccl(const Nccl&) = delete;
  ~Nccl() {
    if (comm_ != nullptr) ncclCommDestroy(comm_);
  }

  int rank() const { return rank_; }
  int world_size() const { return size_; }

  void all_reduce(float* data, std::int64_t n, ReduceOp op) {
    require(n >= 0, "Nccl::all_reduce: count must be >= 0, got ", n);
    if (n == 0) return;
    check(ncclAllReduce(data, data, static_cast<std::size_t>(n), ncclFloat,
                        op == ReduceOp::mean ? ncclAvg : ncclSum, comm_, stream()),
          "ncclAllReduce(", n, " floats)");
  }

  void all_gather(const float* in, std::int64_t n, float* out) {
    require(n >= 0, "Nccl::all_gather: count must be >= 0, got ", n);
    if (n == 0) return;
    check(ncclAllGather(in, out, static_cast<std::size_t>(n), ncclFloat, comm_, stream()),
          "ncclAllGather(", n, " floats)");
  }

  void broadcast(float* data, std::int64_t n, int root) {
    require(n >= 0, "Nccl::broadcast: count must be >= 0, got ", n);
    require(root >= 0 && root < size_, "Nccl::broadcast: root ", root, " of world_size ", size_);
    if (n == 0) return;
    check(ncclBroadcast(data, data, static_cast<std::size_t>(n), ncclFloat, root, comm_, stream()),
          "ncclBroadcast(", n, " floats)");
  }

  // NCCL has no barrier: a one-float all-reduce that the host waits for.
  void barrier() {
    Tensor<cuda> token({1});
    all_reduce(token.data(), 1, ReduceOp::sum);
    cuda::synchronize();
  }

 private:
  static cudaStream_t stream() { return cuda_impl::Context::get().stream(); }

  template <class... What>
  static void check(ncclResult_t status, What&&... what) {
    if (status == ncclSuccess) return;
    throw Error(clr::detail::concat("nccl: ", std::forward<What>(what)...,
                               " failed: ", ncclGetErrorString(status)));
  }

#ifdef CLR_WITH_MPI
  static ncclUniqueId shared_id(Mpi& mpi) {
    ncclUniqueId id{};
    if (mpi.rank() == 0) check(ncclGetUniqueId(&id), "ncclGetUniqueId");
    const int status = MPI_Bcast(&id, sizeof id, MPI_BYTE, 0, mpi.native());
    require(status == MPI_SUCCESS, "Nccl: broadcasting the clique's id over MPI failed");
    return id;
  }
#endif

  ncclComm_t comm_ = nullptr;
  int rank_ = 0, size_ = 1;
};

static_assert(Communicator<Nccl>);

}  // namespace clr::dist
