// Mpi: the communicator of the CPU backend over MPI (OpenMPI: libopenmpi-dev, mpirun), for
// programs started as `mpirun -np N program ...`; only with CLR_WITH_MPI (link clr::mpi).
//
// RAII: the first Mpi of a process initialises MPI unless the program already did, and
// the one that initialised it finalises it when destroyed; an Mpi made after the user's
// MPI_Init leaves MPI to the user. Each Mpi works on its own duplicate of the given
// communicator (MPI_COMM_WORLD by default), so its collectives never match a user's
// messages, and errors come back as return codes, turned into clr::Error.
#pragma once

#ifndef CLR_WITH_MPI
#error "clr/dist/mpi.hpp needs CLR_WITH_MPI: configure with -DCLR_WITH_MPI=ON, link clr::mpi"
#endif

// The C API only: OpenMPI's and MPICH's mpi.h otherwise pull in the removed C++ bindings,
// which MPI::MPI_C does not link.
#ifndef OMPI_SKIP_MPICXX
#define OMPI_SKIP_MPICXX 1
#endif
#ifndef MPICH_SKIP_MPICXX
#define MPICH_SKIP_MPICXX 1
#endif
#include <mpi.h>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <string>

#include "clr/backend/cpu/cpu.hpp"
#include "clr/core/error.hpp"
#include "clr/dist/communicator.hpp"

namespace clr::dist {

class Mpi {
 public:
  using backend = cpu;

  explicit Mpi(MPI_Comm parent = MPI_COMM_WORLD) {
    int initialized = 0, finalized = 0;
    check(MPI_Initialized(&initialized), "MPI_Initialized");
    check(MPI_Finalized(&finalized), "MPI_Finalized");
    require(!finalized, "Mpi: MPI was already finalized in this process");
    if (!initialized) {
      // Only the thread that made the Mpi calls MPI; the loader's workers never do.
      int provided = 0;
      check(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
      owns_mpi_ = true;
    }
    check(MPI_Comm_dup(parent, &comm_), "MPI_Comm_dup");
    check(MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN), "MPI_Comm_set_errhandler");
    check(MPI_Comm_rank(comm_, &rank_), "MPI_Comm_rank");
    check(MPI_Comm_size(comm_, &size_), "MPI_Comm_size");
  }

  Mpi(const Mpi&) = delete;
  Mpi& operator=(const Mpi&) = delete;

  ~Mpi() {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (finalized) return;
    if (comm_ != MPI_COMM_NULL) MPI_Comm_free(&comm_);
    if (owns_mpi_) MPI_Finalize();
  }

  int rank() const { return rank_; }
  int world_size() const { return size_; }
  MPI_Comm native() const { return comm_; }

  void all_reduce(float* data, std::int64_t n, ReduceOp op) {
    require(n >= 0, "Mpi::all_reduce: count must be >= 0, got ", n);
    for_chunks(n, [&](std::int64_t offset, int count) {
      check(MPI_Allreduce(MPI_IN_PLACE, data + offset, count, MPI_FLOAT, MPI_SUM, comm_),
            "MPI_Allreduce(", count, " floats)");
    });
    if (op == ReduceOp::mean && size_ > 1 && n > 0)
      cpu::scale(data, n, 1.0f / static_cast<float>(size_));
  }

  void all_gather(const float* in, std::int64_t n, float* out) {
    require(n >= 0 && n <= INT_MAX, "Mpi::all_gather: count must be in [0, ", INT_MAX, "], got ",
            n);
    check(MPI_Allgather(in, static_cast<int>(n), MPI_FLOAT, out, static_cast<int>(n), MPI_FLOAT,
                        comm_),
          "MPI_Allgather(", n, " floats)");
  }

  void broadcast(float* data, std::int64_t n, int root) {
    require(n >= 0, "Mpi::broadcast: count must be >= 0, got ", n);
    require(root >= 0 && root < size_, "Mpi::broadcast: root ", root, " of world_size ", size_);
    for_chunks(n, [&](std::int64_t offset, int count) {
      check(MPI_Bcast(data + offset, count, MPI_FLOAT, root, comm_), "MPI_Bcast(", count,
            " floats)");
    });
  }

  void barrier() { check(MPI_Barrier(comm_), "MPI_Barrier"); }

 private:
  // MPI counts are ints: longer buffers go in chunks.
  template <class Call>
  static void for_chunks(std::int64_t n, Call call) {
    constexpr std::int64_t kChunk = std::int64_t{1} << 30;
    for (std::int64_t offset = 0; offset < n; offset += kChunk)
      call(offset, static_cast<int>(std::min(kChunk, n - offset)));
  }

  template <class... What>
  static void check(int status, What&&... what) {
    if (status == MPI_SUCCESS) return;
    char reason[MPI_MAX_ERROR_STRING];
    int length = 0;
    MPI_Error_string(status, reason, &length);
    throw Error(clr::detail::concat("mpi: ", std::forward<What>(what)..., " failed: ",
                               std::string(reason, static_cast<std::size_t>(length))));
  }

  MPI_Comm comm_ = MPI_COMM_NULL;
  int rank_ = 0, size_ = 1;
  bool owns_mpi_ = false;
};

static_assert(Communicator<Mpi>);

}  // namespace clr::dist
