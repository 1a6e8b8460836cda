// Data-parallel training (the dist/ folder): communicators, the data-parallel
// bookkeeping, cross-replica negatives and SyncBN. Mpi and Nccl come in with CLR_WITH_MPI
// and CLR_WITH_NCCL (the clr::mpi and clr::cuda CMake targets define them).
#pragma once

#include "clr/dist/communicator.hpp"
#include "clr/dist/cross_replica.hpp"
#include "clr/dist/data_parallel.hpp"
#include "clr/dist/local.hpp"
#include "clr/dist/sync_batch_norm.hpp"
#ifdef CLR_WITH_MPI
#include "clr/dist/mpi.hpp"
#endif
#ifdef CLR_WITH_NCCL
#include "clr/dist/nccl.hpp"
#endif
