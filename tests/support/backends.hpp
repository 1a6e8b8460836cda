// The backends every test runs on: cpu always, cuda when compiled in. A test for a
// backend with no device at run time reports that and returns: a clean skip.
#pragma once

#include <doctest/doctest.h>

#include <string>

#include "clr/clr.hpp"

#ifdef CLR_WITH_CUDA
#define CLR_TEST_BACKENDS clr::cpu, clr::cuda
#else
#define CLR_TEST_BACKENDS clr::cpu
#endif

namespace clr::testing {

template <class B>
bool device_available() {
#ifdef CLR_WITH_CUDA
  if constexpr (std::is_same_v<B, clr::cuda>) return clr::cuda::available();
#endif
  return true;
}

}  // namespace clr::testing

// Ends the current test case early, with a note, when backend B has no device here.
#define CLR_SKIP_WITHOUT_DEVICE(B)                                      \
  do {                                                                  \
    if (!clr::testing::device_available<B>()) {                         \
      MESSAGE("skipped: no device for backend ", std::string(B::name)); \
      return;                                                           \
    }                                                                   \
  } while (false)
