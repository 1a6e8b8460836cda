// clr::cuda, the accelerator backend: device memory, cuBLAS GEMMs and the library's own
// kernels, all on one stream. Included by clr/clr.hpp only when CLR_WITH_CUDA is defined;
// link the clr::cuda CMake target, which adds the kernels' translation unit.
#pragma once

#include "clr/backend/conv_by_images.hpp"
#include "clr/backend/cuda/blas.hpp"
#include "clr/backend/cuda/context.hpp"
#include "clr/backend/cuda/contrastive_block.hpp"
#include "clr/backend/cuda/contrastive_rows.hpp"
#include "clr/backend/cuda/conv_kernels.hpp"
#include "clr/backend/cuda/layer_kernels.hpp"
#include "clr/backend/cuda/memory.hpp"
#include "clr/backend/cuda/norm_pool_kernels.hpp"
#include "clr/backend/cuda/optim_kernels.hpp"
#include "clr/backend/cuda/rowwise.hpp"
#include "clr/core/backend.hpp"

namespace clr {

struct cuda : cuda_impl::Memory,
              cuda_impl::Blas,
              cuda_impl::RowKernels,
              cuda_impl::ContrastiveKernel,
              cuda_impl::ContrastiveBlockKernels,
              cuda_impl::LayerKernels,
              cuda_impl::ConvKernels,
              ConvByImages<cuda>,
              cuda_impl::NormPoolKernels,
              cuda_impl::OptimKernels {
  static constexpr const char* name = "cuda";
  // False, without throwing, when there is no driver or no GPU: callers and tests then
  // skip this backend.
  static bool available() { return cuda_impl::device_available(); }
};

static_assert(Backend<cuda>);

}  // namespace clr
