// How the example programs run data-parallel: built with CLR_WITH_MPI and started as
// `mpirun -np N program ...`, each process is one rank (MPI for the cpu backend; NCCL
// over MPI for cuda, one GPU per process), reads its shard of every epoch and trains a
// replica; otherwise there is one process (dist::Local) and nothing changes. --batch_size
// is per rank, as in SupContrast's DDP forks: the global batch is N × --batch_size.
#pragma once

#include <clr/dist/dist.hpp>
#include <cstdio>
#include <exception>
#include <type_traits>

namespace clr::examples {

// Calls run(comm) with this process's communicator. Under MPI an error on one rank would
// leave the others waiting in a collective, so it is printed and the whole job aborted.
template <Backend B, class Run>
int with_communicator(const char* program, Run run) {
#ifdef CLR_WITH_MPI
  dist::Mpi mpi;
  auto on_ranks = [&](auto& comm) {
    try {
      return run(comm);
    } catch (const std::exception& error) {
      if (mpi.world_size() == 1) throw;
      std::fprintf(stderr, "%s (rank %d of %d): %s\n", program, mpi.rank(), mpi.world_size(),
                   error.what());
      std::fflush(stderr);
      MPI_Abort(mpi.native(), 1);
      return 1;
    }
  };
  if constexpr (std::is_same_v<B, cpu>) {
    return on_ranks(mpi);
  } else {
#ifdef CLR_WITH_NCCL
    dist::Nccl nccl(mpi);
    return on_ranks(nccl);
#else
    dist::Local<B> local;
    return on_ranks(local);
#endif
  }
#else
  (void)program;
  dist::Local<B> local;
  return run(local);
#endif
}

// Where a rank's progress lines go: rank 0's to stdout, the others' nowhere.
inline std::FILE* progress_stream(int rank) {
  static std::FILE* const null = std::fopen("/dev/null", "w");
  return rank == 0 || null == nullptr ? stdout : null;
}

}  // namespace clr::examples
