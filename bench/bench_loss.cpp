// Forward + backward of the SupCon / SimCLR loss, 2 views, dim 128, and the GEMM peak of
// the same backend measured in the same run, so the loss's GFLOP/s read as a fraction of it.
//
//   bench_loss [--long] [google benchmark flags]
//   BM_supcon runs on the CPU; BM_supcon_cuda on the GPU, when built with CLR_WITH_CUDA and
//   a device is present.
//   --long adds bsz 16384, 32768 and 65536 (one iteration each; minutes, a few hundred MiB).
#include <benchmark/benchmark.h>

#include <clr/clr.hpp>
#include <cstring>
#include <vector>

namespace {

constexpr int kViews = 2;
constexpr int kDim = 128;

template <clr::Backend B>
clr::Tensor<B> unit_features(int bsz) {
  clr::Rng rng(bsz);
  std::vector<float> values(static_cast<std::size_t>(bsz) * kViews * kDim);
  for (auto& v : values) v = rng.normal();
  clr::Tensor<B> norms;
  return clr::ops::l2_normalize_rows(clr::Tensor<B>::from(values, {bsz * kViews, kDim}), norms)
      .reshape({bsz, kViews, kDim});
}

// The three GEMMs of a tiled pass: 3 x 2 (n bsz)^2 dim flops.
double loss_flops(int bsz) {
  const double n = double(bsz) * kViews;
  return 3.0 * 2.0 * n * n * kDim;
}

// The loss's value comes back to the host, so each iteration ends with the device done.
template <clr::Backend B>
void BM_supcon(benchmark::State& state) {
  const int bsz = static_cast<int>(state.range(0));
  const bool supervised = state.range(1) != 0;
  const auto features = unit_features<B>(bsz);
  std::vector<int> labels(bsz);
  for (int i = 0; i < bsz; ++i) labels[i] = i % 100;
  clr::loss::SupCon<B> loss;

  auto& memory = B::memory();
  const auto held_before = memory.stats().current_bytes;
  memory.reset_peak();
  for (auto _ : state) {
    const float value = supervised ? loss.forward(features, labels) : loss.forward(features);
    benchmark::DoNotOptimize(value);
    benchmark::DoNotOptimize(loss.backward().data());
  }
  state.SetItemsProcessed(state.iterations() * bsz);
  state.counters["GFLOP/s"] =
      benchmark::Counter(loss_flops(bsz) * 1e-9 * state.iterations(), benchmark::Counter::kIsRate);
  state.counters["peak_extra_bytes"] = static_cast<double>(memory.stats().peak_bytes - held_before);
  state.SetLabel(supervised ? "SupCon labels" : "SimCLR");
}

// sgemm, C = A B, of a square shape and of the loss's three shapes for a 512-row tile at
// bsz 4096 x 2 views.
void BM_sgemm(benchmark::State& state) {
  const int m = static_cast<int>(state.range(0)), n = static_cast<int>(state.range(1)),
            k = static_cast<int>(state.range(2));
  clr::Rng rng(1);
  std::vector<float> a(std::size_t(m) * k), b(std::size_t(k) * n);
  for (auto& v : a) v = rng.normal();
  for (auto& v : b) v = rng.normal();
  const auto ta = clr::Tensor<clr::cpu>::from(a, {m, k});
  const auto tb = clr::Tensor<clr::cpu>::from(b, {k, n});
  clr::Tensor<clr::cpu> c({m, n});
  for (auto _ : state) {
    clr::ops::gemm<clr::cpu>(ta.matrix(), tb.matrix(), c.matrix());
    benchmark::DoNotOptimize(c.data());
  }
  state.counters["GFLOP/s"] =
      benchmark::Counter(2.0 * m * n * k * 1e-9 * state.iterations(), benchmark::Counter::kIsRate);
}

template <clr::Backend B>
void register_loss(const char* name, bool long_sizes) {
  auto* supcon = benchmark::RegisterBenchmark(name, BM_supcon<B>)
                     ->ArgNames({"bsz", "labels"})
                     ->Unit(benchmark::kMillisecond)
                     ->UseRealTime();
  for (int bsz : {256, 512, 1024, 2048, 4096, 8192})
    for (int labels : {0, 1}) supcon->Args({bsz, labels});
  if (long_sizes) {
    auto* large = benchmark::RegisterBenchmark(name, BM_supcon<B>)
                      ->ArgNames({"bsz", "labels"})
                      ->Unit(benchmark::kMillisecond)
                      ->UseRealTime()
                      ->Iterations(1);
    for (int bsz : {16384, 32768, 65536}) large->Args({bsz, 1});
  }
}

void register_benchmarks(bool long_sizes) {
  register_loss<clr::cpu>("BM_supcon", long_sizes);
#ifdef CLR_WITH_CUDA
  if (clr::cuda::available()) register_loss<clr::cuda>("BM_supcon_cuda", long_sizes);
#endif

  auto* sgemm = benchmark::RegisterBenchmark("BM_sgemm", BM_sgemm)
                    ->ArgNames({"m", "n", "k"})
                    ->Unit(benchmark::kMillisecond)
                    ->UseRealTime();
  sgemm->Args({2048, 2048, 2048});
  sgemm->Args({512, 8192, 128});  // S = A_t C^T
  sgemm->Args({512, 128, 8192});  // dA_t = G C
  sgemm->Args({8192, 128, 512});  // dC += G^T A_t
}

}  // namespace

int main(int argc, char** argv) {
  bool long_sizes = false;
  std::vector<char*> args;
  for (int i = 0; i < argc; ++i) {
    if (std::strcmp(argv[i], "--long") == 0) {
      long_sizes = true;
    } else {
      args.push_back(argv[i]);
    }
  }
  int count = static_cast<int>(args.size());
  register_benchmarks(long_sizes);
  benchmark::Initialize(&count, args.data());
  if (benchmark::ReportUnrecognizedArguments(count, args.data())) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
