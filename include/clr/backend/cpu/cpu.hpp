// clr::cpu, the reference backend: host memory, Eigen 3.4 kernels, OpenMP threads.
#pragma once

#include "clr/backend/cpu/blas.hpp"
#include "clr/backend/cpu/contrastive_block.hpp"
#include "clr/backend/cpu/contrastive_rows.hpp"
#include "clr/backend/cpu/conv_kernels.hpp"
#include "clr/backend/cpu/layer_kernels.hpp"
#include "clr/backend/cpu/memory.hpp"
#include "clr/backend/cpu/norm_pool_kernels.hpp"
#include "clr/backend/cpu/optim_kernels.hpp"
#include "clr/backend/cpu/rowwise.hpp"
#include "clr/core/backend.hpp"

namespace clr {

struct cpu : cpu_impl::Memory,
             cpu_impl::Blas,
             cpu_impl::RowKernels,
             cpu_impl::ContrastiveKernel,
             cpu_impl::ContrastiveBlockKernels,
             cpu_impl::LayerKernels,
             cpu_impl::ConvKernels,
             cpu_impl::NormPoolKernels,
             cpu_impl::OptimKernels {
  static constexpr const char* name = "cpu";
};

static_assert(Backend<cpu>);

}  // namespace clr
