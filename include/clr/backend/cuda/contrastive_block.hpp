// The CUDA backend's block kernels of the symmetric pass, host side (contract in
// clr/backend/contrastive_block.hpp, kernels in contrastive_block.cuh). Every pointer in
// the ContrastiveBlock is device memory.
#pragma once

#include "clr/backend/contrastive_block.hpp"
#include "clr/backend/cuda/context.hpp"
#include "clr/backend/cuda/launchers.hpp"

namespace clr::cuda_impl {

struct ContrastiveBlockKernels {
  static void contrastive_block_stats(const ContrastiveBlock& k) {
    launch::contrastive_block_stats(k, Context::get().stream());
  }
  static void contrastive_block_gradient(const ContrastiveBlock& k) {
    launch::contrastive_block_gradient(k, Context::get().stream());
  }
};

}  // namespace clr::cuda_impl
