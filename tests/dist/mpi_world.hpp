// The MPI communicator of the test run (made in tests/dist/main.cpp), and how many ranks
// ctest launched (CLR_DIST_EXPECT_RANKS), so that a multi-rank test cannot pass by running
// alone.
#pragma once

#ifdef CLR_WITH_MPI
#include <cstdlib>
#include <string>

#include "clr/dist/mpi.hpp"

namespace clr::testing {

namespace detail {
inline dist::Mpi* world = nullptr;
}  // namespace detail

inline dist::Mpi& mpi_world() { return *detail::world; }

// The world size ctest asked for, 0 when run by hand.
inline int expected_ranks() {
  const char* text = std::getenv("CLR_DIST_EXPECT_RANKS");
  return text ? std::stoi(text) : 0;
}

}  // namespace clr::testing
#endif
