// The Communicator concept: what data-parallel training needs of a distributed engine —
// this process's rank, the number of processes, and four collectives on float buffers in
// the memory of the communicator's backend (host pointers for clr::cpu, device pointers on
// the CUDA backend's stream for clr::cuda):
//
//   all_reduce(data, n, op)        in place; op sum or mean (the sum divided by world_size)
//   all_gather(in, n, out)         out [world_size · n]: rank r's n floats at r · n
//   broadcast(data, n, root)       root's n floats into everyone's buffer
//   barrier()                      returns once every rank has called it
//
// Every rank must call the same collectives in the same order with the same n; a
// communicator checks what it can (counts must be >= 0) and turns the engine's failures
// into clr::Error. Implementations: Local (one process, local.hpp), Mpi (mpi.hpp, with
// CLR_WITH_MPI) and Nccl (nccl.hpp, with CLR_WITH_NCCL).
#pragma once

#include <concepts>
#include <cstdint>
#include <span>
#include <vector>

#include "clr/core/backend.hpp"
#include "clr/core/tensor.hpp"

namespace clr::dist {

enum class ReduceOp { sum, mean };

template <class C>
concept Communicator = Backend<typename C::backend> &&
    requires(C& comm, float* data, const float* in, std::int64_t n, ReduceOp op, int root) {
  { comm.rank() } -> std::convertible_to<int>;
  { comm.world_size() } -> std::convertible_to<int>;
  comm.all_reduce(data, n, op);
  comm.all_gather(in, n, data);
  comm.broadcast(data, n, root);
  comm.barrier();
};

// A communicator whose collectives run on backend B's memory.
template <class C, class B>
concept CommunicatorFor = Communicator<C> && std::same_as<typename C::backend, B>;

// All-reduce of a few host numbers (epoch statistics, counts), through one buffer in the
// communicator's memory; a no-op for a single process.
template <Communicator C>
void all_reduce_host(C& comm, std::span<double> values, ReduceOp op) {
  if (comm.world_size() == 1 || values.empty()) return;
  using B = typename C::backend;
  const std::vector<float> narrow(values.begin(), values.end());
  Tensor<B> buffer = Tensor<B>::from(narrow, {static_cast<int>(narrow.size())});
  comm.all_reduce(buffer.data(), buffer.numel(), op);
  const std::vector<float> reduced = buffer.to_vector();
  for (std::size_t i = 0; i < values.size(); ++i) values[i] = reduced[i];
}

// All-gather of host floats: rank r's `values` at [r · n, (r + 1) · n) of the result.
template <Communicator C>
std::vector<float> all_gather_host(C& comm, std::span<const float> values) {
  using B = typename C::backend;
  const int n = static_cast<int>(values.size());
  if (comm.world_size() == 1) return {values.begin(), values.end()};
  const Tensor<B> mine = Tensor<B>::from(values, {n});
  Tensor<B> all = Tensor<B>::uninitialized({comm.world_size() * n});
  comm.all_gather(mine.data(), n, all.data());
  return all.to_vector();
}

}  // namespace clr::dist
