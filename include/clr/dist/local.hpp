// Local<B>: the communicator of a single process (rank 0 of 1). Every collective is the
// identity (all_gather a copy), so code written for N ranks runs unchanged, at no cost, in
// one process; it is what the training loops use when given no communicator.
#pragma once

#include <cstdint>

#include "clr/backend/cpu/cpu.hpp"
#include "clr/core/backend.hpp"
#include "clr/core/error.hpp"
#include "clr/dist/communicator.hpp"

namespace clr::dist {

template <Backend B>
class Local {
 public:
  using backend = B;

  int rank() const { return 0; }
  int world_size() const { return 1; }

  void all_reduce(float*, std::int64_t n, ReduceOp) const { check(n, "all_reduce"); }
  void all_gather(const float* in, std::int64_t n, float* out) const {
    check(n, "all_gather");
    if (n > 0 && in != out) B::copy(out, in, n * static_cast<std::int64_t>(sizeof(float)));
  }
  void broadcast(float*, std::int64_t n, int root) const {
    check(n, "broadcast");
    require(root == 0, "Local::broadcast: root ", root, " of world_size 1");
  }
  void barrier() const {}

 private:
  static void check(std::int64_t n, const char* what) {
    require(n >= 0, "Local::", what, ": count must be >= 0, got ", n);
  }
};

static_assert(Communicator<Local<cpu>>);

}  // namespace clr::dist
