// The CUDA backend's fused row kernel of the contrastive losses, host side (contract in
// clr/backend/contrastive_rows.hpp, kernel in contrastive_rows.cuh). Every pointer in
// the ContrastiveRows is device memory.
#pragma once

#include "clr/backend/contrastive_rows.hpp"
#include "clr/backend/cuda/context.hpp"
#include "clr/backend/cuda/launchers.hpp"

namespace clr::cuda_impl {

struct ContrastiveKernel {
  static void contrastive_rows(const ContrastiveRows& k) {
    launch::contrastive_rows(k, Context::get().stream());
  }
};

}  // namespace clr::cuda_impl
