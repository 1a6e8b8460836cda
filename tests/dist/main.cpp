// test_dist's main: with CLR_WITH_MPI, MPI lives for the whole run (the tests reach it
// through mpi_world()), so the same binary runs alone or under mpirun -np N.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include "dist/mpi_world.hpp"

int main(int argc, char** argv) {
#ifdef CLR_WITH_MPI
  clr::dist::Mpi world;
  clr::testing::detail::world = &world;
#endif
  doctest::Context context(argc, argv);
  return context.run();
}
