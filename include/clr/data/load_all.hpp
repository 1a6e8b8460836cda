// load_all: a whole dataset as one tensor, in dataset order and without augmentation — the
// evaluation path (linear-probe features, t-SNE of embeddings), where the transform is
// ToTensor + Normalize. Runs on the DataLoader, so decoding uses its workers.
#pragma once

#include <algorithm>
#include <concepts>
#include <cstdint>
#include <cstring>
#include <vector>

#include "clr/augment/image.hpp"
#include "clr/backend/cpu/cpu.hpp"
#include "clr/core/error.hpp"
#include "clr/core/rng.hpp"
#include "clr/core/tensor.hpp"
#include "clr/data/dataset.hpp"
#include "clr/data/loader.hpp"

namespace clr::data {

struct LoadedDataset {
  Tensor<cpu> images;       // [N, C, H, W], dataset order
  std::vector<int> labels;  // [N]
};

// `transform` maps an image to [C, H, W]: `(const Image&) -> Tensor<cpu>`, or the loader's
// `(const Image&, Rng&) -> Tensor<cpu>` (it then gets a fixed stream per sample).
template <Dataset D, class F>
requires std::copy_constructible<F> &&(std::invocable<F&, const augment::Image&> ||
                                       std::invocable<F&, const augment::Image&, Rng&>)LoadedDataset
    load_all(const D& dataset, F transform, int num_workers = 0, int batch_size = 256) {
  auto with_rng = [transform](const augment::Image& image, Rng& rng) mutable -> Tensor<cpu> {
    if constexpr (std::invocable<F&, const augment::Image&, Rng&>) {
      return transform(image, rng);
    } else {
      return transform(image);
    }
  };
  const std::int64_t n = dataset.size();
  require(n > 0, "load_all: ", dataset.name(), " is empty");
  DataLoader loader(dataset, with_rng,
                    {.batch_size = static_cast<int>(std::min<std::int64_t>(batch_size, n)),
                     .n_views = 1,
                     .shuffle = false,
                     .drop_last = false,
                     .num_workers = num_workers});
  LoadedDataset result;
  result.labels.reserve(static_cast<std::size_t>(n));
  std::int64_t row = 0;
  for (Batch& batch : loader.epoch(0)) {
    const Shape& shape = batch.images.shape();  // [size, C, H, W]
    if (result.images.empty()) {
      require(n * shape.row_size() <= std::int64_t{1} << 40, "load_all: ", dataset.name(),
              " would take ", n * shape.row_size(), " floats");
      result.images =
          Tensor<cpu>::uninitialized({static_cast<int>(n), shape[1], shape[2], shape[3]});
    }
    require(shape.row_size() == result.images.shape().row_size() &&
                shape[1] == result.images.dim(1) && shape[2] == result.images.dim(2),
            "load_all: the transform gave ", shape, " for batch ", batch.number, " but ",
            result.images.shape(), " before; images of ", dataset.name(), " need one shape");
    std::memcpy(result.images.data() + row * shape.row_size(), batch.images.data(),
                batch.images.numel() * sizeof(float));
    row += shape[0];
    result.labels.insert(result.labels.end(), batch.labels.begin(), batch.labels.end());
  }
  return result;
}

}  // namespace clr::data
