// What every example program's main does the same way: parse the flags (--help exits 0),
// run on the backend that --device names, and turn any error into one line on stderr and
// exit status 1.
#pragma once

#include <clr/clr.hpp>
#include <cstdio>
#include <exception>
#include <string>

#include "args.hpp"

namespace clr::examples {

// `run` is a generic lambda `[]<Backend B>(const Args&) -> int`.
template <class Run>
int run_program(int argc, char** argv, Args args, Run run) {
  try {
    if (!args.parse(argc, argv)) return 0;
    if (args.get<std::string>("device") == "cuda") {
#ifdef CLR_WITH_CUDA
      require(cuda::available(), "--device cuda: no usable GPU");
      return run.template operator()<cuda>(args);
#else
      throw Error(
          "--device cuda: this build has no CUDA backend (configure with -DCLR_WITH_CUDA=ON)");
#endif
    }
    return run.template operator()<cpu>(args);
  } catch (const std::exception& error) {
    std::fprintf(stderr, "%s: %s\n", args.program().c_str(), error.what());
    return 1;
  }
}

}  // namespace clr::examples
