// The one CUDA translation unit of the library: every kernel and launcher of the CUDA
// backend. The clr::cuda CMake target adds this file to each program that links it, so
// users never write a .cu file; the headers they include see only launchers.hpp.
#include "clr/backend/cuda/contrastive_block.cuh"
#include "clr/backend/cuda/contrastive_rows.cuh"
#include "clr/backend/cuda/conv_kernels.cuh"
#include "clr/backend/cuda/elementwise.cuh"
#include "clr/backend/cuda/layer_kernels.cuh"
#include "clr/backend/cuda/norm_pool_kernels.cuh"
#include "clr/backend/cuda/optim_kernels.cuh"
#include "clr/backend/cuda/reduce.cuh"
#include "clr/backend/cuda/rowwise.cuh"
