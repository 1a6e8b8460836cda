// How the CPU convolutions cut a batch: the images of a group share one GEMM, their tiles,
// output positions or patch rows side by side, about `wanted` of them where the batch allows
// (an image of the deep layers has 4 to 64 of them; a GEMM of so few columns or rows runs at
// a fraction of one over hundreds), each thread with its own workspace and single-threaded
// GEMMs.
//
// Every pass over a batch gives each thread the same images, its batch_share: the groups are
// cut within the shares, and BatchNorm's sums go by shares too (norm_pool_kernels.hpp). On
// this machine (an AMD EPYC virtual machine of two processors) data the other thread wrote
// is read at half the speed of one's own (half of a 2M-float tensor: 0.15 against 0.07 ms),
// as workspace.hpp found for scratch memory, so a thread that keeps to its images finds them
// where it left them. With the groups scheduled dynamically and BatchNorm's sums cut by
// channel, each thread had read about half of every activation from the other (the
// quarter-width train step, bench_nn: 480–596 → 518–662 images/s in alternating runs).
#pragma once

#include <omp.h>

#include <algorithm>

namespace clr::cpu_impl {

// The threads a pass over `batch` images runs on: OpenMP's, but no more than one an image.
inline int batch_threads(int batch) {
  return std::max(1, std::min(omp_get_max_threads(), batch));
}

// Images [first, last) of `batch`: thread `thread`'s share of `threads`, as OpenMP's static
// schedule of a loop over the images cuts it (the first batch % threads shares one image more).
struct BatchShare {
  int first, last;
};
inline BatchShare batch_share(int batch, int thread, int threads) {
  const int base = batch / threads, extra = batch % threads;
  const int first = thread * base + std::min(thread, extra);
  return {first, first + base + (thread < extra ? 1 : 0)};
}

struct ImageGroups {
  // `per_image`: columns (or rows) an image brings to its group's GEMM.
  ImageGroups(int batch, int per_image, int wanted) : batch(batch), per_image(per_image) {
    threads = batch_threads(batch);
    const int images = std::max(1, (wanted + per_image - 1) / std::max(per_image, 1));
    const int largest_share = (batch + threads - 1) / threads;
    rounds = std::max(1, (largest_share + images - 1) / images);
    group = std::max(1, (largest_share + rounds - 1) / rounds);
  }
  // `rounds` groups a thread: a loop over the groups with OpenMP's static schedule hands
  // each thread the groups of its batch_share. A group may be empty (a share one image
  // shorter than the others, cut into as many groups).
  int groups() const { return rounds * threads; }
  int first_image(int g) const { return piece(g).first; }
  int images_in(int g) const {
    const BatchShare p = piece(g);
    return p.last - p.first;
  }
  // The columns (or rows) of the largest group.
  long columns() const { return static_cast<long>(group) * per_image; }

  int batch, per_image, threads = 1, rounds = 1, group = 1;

 private:
  // Group g: piece g % rounds of its thread's share, cut as evenly as batch_share cuts.
  BatchShare piece(int g) const {
    const BatchShare share = batch_share(batch, g / rounds, threads);
    const BatchShare part = batch_share(share.last - share.first, g % rounds, rounds);
    return {share.first + part.first, share.first + part.last};
  }
};

}  // namespace clr::cpu_impl
