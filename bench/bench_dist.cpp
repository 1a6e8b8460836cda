// bench_dist: one data-parallel training step of a ¼-width ResNet-18 + MLP head (SupCon,
// cross-replica negatives, SyncBN, SGD) on 28×28 images, timed by part, under
// `mpirun -np N`. Not a Google Benchmark program: every rank must run the same steps in
// lockstep, which its adaptive iteration counts do not guarantee. Prints, from rank 0, the
// median step time, images per second over all ranks, and the share of the step spent in
// the gradient all-reduce and in the feature all-gather (each timed alone, behind a barrier).
//
//   OMP_NUM_THREADS=2 bench_dist 64            # 1 rank x 2 threads
//   OMP_NUM_THREADS=1 mpirun -np 2 bench_dist 64   # 2 ranks x 1 thread
#include <algorithm>
#include <chrono>
#include <clr/clr.hpp>
#include <clr/dist/dist.hpp>
#include <cstdio>
#include <cstdlib>
#include <vector>

using namespace clr;
using Clock = std::chrono::steady_clock;
using Model = nn::SupConModel<nn::ResNet18<cpu, nn::CifarStem>, nn::MLPHead<cpu>>;

namespace {

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  const int bsz = argc > 1 ? std::atoi(argv[1]) : 64, steps = argc > 2 ? std::atoi(argv[2]) : 6;
  dist::Mpi comm;
  Rng rng(1);
  nn::ResNet18<cpu, nn::CifarStem> encoder(rng, {.in_channels = 1, .width = 0.25f});
  const int dim = encoder.feature_dim();
  Model model(std::move(encoder), nn::MLPHead<cpu>(dim, 128, rng));
  dist::sync_batch_norm(model, comm);
  dist::broadcast_state(model, comm);
  optim::SGD<cpu> sgd(nn::parameters(model), {.lr = 0.05, .momentum = 0.9, .weight_decay = 1e-4});
  dist::CrossReplica<loss::SupCon<cpu>, dist::Mpi> loss(loss::SupCon<cpu>(), comm);
  dist::DataParallel<dist::Mpi> parallel(nn::state(model), comm);

  std::vector<float> pixels(static_cast<std::size_t>(bsz) * 2 * 28 * 28);
  for (float& p : pixels) p = rng.uniform(-1.0f, 1.0f);
  const auto images = Tensor<cpu>::from(pixels, {2 * bsz, 1, 28, 28});
  std::vector<int> labels(bsz);
  for (int i = 0; i < bsz; ++i) labels[i] = static_cast<int>(rng.uniform_int(10));

  std::vector<double> step_s, reduce_s, gather_s;
  std::int64_t gradient_floats = 0;
  for (auto& e : nn::parameters(model)) gradient_floats += e.grad->numel();
  for (int step = 0; step < steps + 1; ++step) {  // the first is a warm-up
    comm.barrier();
    const auto start = Clock::now();
    sgd.zero_grad();
    const Tensor<cpu> z = model.forward(images, nn::Mode::train);
    loss.forward(z.reshape({bsz, 2, z.dim(1)}), labels);
    model.backward(loss.backward().reshape(z.shape()));
    const auto reduce_start = Clock::now();
    parallel.reduce_gradients(dist::gradient_reduction<decltype(loss)>());
    const double reduce = seconds_since(reduce_start);
    sgd.step();
    parallel.sync_buffers();
    const double total = seconds_since(start);
    // The all-gather of the features alone (inside the loss above).
    comm.barrier();
    const auto gather_start = Clock::now();
    Tensor<cpu> all({comm.world_size() * z.dim(0), z.dim(1)});
    comm.all_gather(z.data(), z.numel(), all.data());
    const double gather = seconds_since(gather_start);
    if (step == 0) continue;
    step_s.push_back(total);
    reduce_s.push_back(reduce);
    gather_s.push_back(gather);
  }
  if (comm.rank() == 0) {
    const double step = median(step_s);
    std::printf(
        "ranks %d x threads %s, batch %d per rank: step %.3f s, %.1f img/s (all ranks), "
        "gradient all-reduce %.2f ms (%.1f%%, %lld floats), feature all-gather %.2f ms (%.2f%%)\n",
        comm.world_size(), std::getenv("OMP_NUM_THREADS") ? std::getenv("OMP_NUM_THREADS") : "?",
        bsz, step, comm.world_size() * bsz / step, 1e3 * median(reduce_s),
        100 * median(reduce_s) / step, static_cast<long long>(gradient_floats),
        1e3 * median(gather_s), 100 * median(gather_s) / step);
  }
  return 0;
}
