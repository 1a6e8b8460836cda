// How the CPU convolutions cut a batch: the images of a group share one GEMM, their tiles,
// output positions or patch rows side by side, at least `wanted` of them where the batch
// allows (an image of the deep layers has 4 to 64 of them; a GEMM of so few columns or rows
// runs at a fraction of one over hundreds), and the groups are spread over the threads, each
// with its own workspace and single-threaded GEMMs.
#pragma once

#include <omp.h>

#include <algorithm>

namespace clr::cpu_impl {

struct ImageGroups {
  // `per_image`: columns (or rows) an image brings to its group's GEMM.
  ImageGroups(int batch, int per_image, int wanted) : batch(batch), per_image(per_image) {
    threads = std::max(1, std::min(omp_get_max_threads(), batch));
    const int images = std::max(1, (wanted + per_image - 1) / std::max(per_image, 1));
    // Whole rounds of groups over the threads: 256 images of one F(4×4) tile each, 113 a
    // group, made 3 groups, one thread's share twice the other's.
    const int rounds = (batch + images * threads - 1) / (images * threads);
    group = std::max(1, (batch + rounds * threads - 1) / (rounds * threads));
  }
  int groups() const { return (batch + group - 1) / group; }
  int images_in(int g) const { return std::min(group, batch - g * group); }
  // The columns (or rows) of a whole group.
  long columns() const { return static_cast<long>(group) * per_image; }

  int batch, per_image, threads = 1, group = 1;
};

}  // namespace clr::cpu_impl
