// The umbrella header: every CPU-side part of clr that training programs use. The CUDA
// backend is included only when CLR_WITH_CUDA is defined (the clr::cuda CMake target
// defines it). The plots (<clr/viz/viz.hpp>) and data parallelism (<clr/dist/dist.hpp>)
// have umbrellas of their own: viz alone doubles the compile time of a file that includes
// this header (measured: an empty main 6.6 s → 13.8 s at -O3), which only plotting
// programs should pay.
#pragma once

#include "clr/augment/augment.hpp"
#include "clr/backend/cpu/cpu.hpp"
#include "clr/core/backend.hpp"
#include "clr/core/buffer.hpp"
#include "clr/core/checkpoint_file.hpp"
#include "clr/core/error.hpp"
#include "clr/core/memory_stats.hpp"
#include "clr/core/ops.hpp"
#include "clr/core/rng.hpp"
#include "clr/core/shape.hpp"
#include "clr/core/tensor.hpp"
#include "clr/data/cifar.hpp"
#include "clr/data/dataset.hpp"
#include "clr/data/idx.hpp"
#include "clr/data/image_folder.hpp"
#include "clr/data/load_all.hpp"
#include "clr/data/loader.hpp"
#include "clr/loss/cross_entropy.hpp"
#include "clr/loss/ntxent.hpp"
#include "clr/loss/policies.hpp"
#include "clr/loss/supcon.hpp"
#include "clr/nn/batch_norm.hpp"
#include "clr/nn/conv2d.hpp"
#include "clr/nn/heads.hpp"
#include "clr/nn/l2_normalize.hpp"
#include "clr/nn/layer.hpp"
#include "clr/nn/linear.hpp"
#include "clr/nn/pooling.hpp"
#include "clr/nn/relu.hpp"
#include "clr/nn/reshape_layers.hpp"
#include "clr/nn/residual.hpp"
#include "clr/nn/resnet.hpp"
#include "clr/nn/sequential.hpp"
#include "clr/nn/state_io.hpp"
#include "clr/optim/optim.hpp"
#include "clr/train/checkpoint.hpp"
#include "clr/train/knn.hpp"
#include "clr/train/linear_eval.hpp"
#include "clr/train/pretrain.hpp"
#include "clr/train/progress.hpp"
#include "clr/train/representation_stats.hpp"
#include "clr/train/supervised.hpp"

#ifdef CLR_WITH_CUDA
#include "clr/backend/cuda/cuda.hpp"
#endif
