// The augmentation pipelines on the CPU: views per second of SupContrast's SimCLR CIFAR
// pipeline (simclr_cifar(32) on 32x32 RGB pictures) and of SimCLR's ImageNet pipeline
// (simclr_imagenet(224), blur included, on 375x500 RGB pictures), on 1 and 2 threads, and
// each transform alone. bench/compare_augment.py runs torchvision's equivalent beside it.
//
//   bench_augment [google benchmark flags]
//   BM_pipeline     one view of each of a batch of pictures per iteration (256 at 32x32,
//                   16 at 224); threads > 1 share the batch (std::thread), each picture
//                   drawing from its own stream rng.split(index), as a loader would;
//                   views/s (wall clock), views/s/thread, views/cpu_s (per CPU-second of
//                   all threads: the per-core rate even when other programs hold a core)
//   BM_transform    one transform alone on its usual input (the crop on the 8-bit picture,
//                   the rest on the FloatImage that the crop yields), p = 1 for the random
//                   ones; ns per picture
#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include <atomic>
#include <clr/augment/augment.hpp>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace clr::augment;

enum Pipeline { kCifar = 0, kImageNet = 1 };

// CPU seconds of the whole process (every thread) so far.
double process_cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         1e-6 * static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec);
}

std::vector<Image> pictures(int count, int height, int width, std::uint64_t seed) {
  clr::Rng rng(seed);
  std::vector<Image> out;
  for (int i = 0; i < count; ++i) {
    Image image(height, width, 3);
    for (std::size_t k = 0; k < image.size(); ++k)
      image.data()[k] = static_cast<std::uint8_t>(rng.next_u32());
    out.push_back(std::move(image));
  }
  return out;
}

template <class Aug>
void run_batches(benchmark::State& state, const Aug& aug, const std::vector<Image>& batch,
                 int threads) {
  const clr::Rng root(1);
  const int n = static_cast<int>(batch.size());
  std::int64_t next_index = 0;
  double checksum = 0;
  const double cpu_before = process_cpu_seconds();
  for (auto _ : state) {
    // Pictures handed out one at a time from a shared counter; the calling thread works
    // too. Plain threads rather than OpenMP: its spin-waiting between batches takes a
    // core from the work wherever other programs share the machine.
    std::atomic<int> next_picture{0};
    auto work = [&] {
      double sum = 0;
      for (int i = next_picture++; i < n; i = next_picture++) {
        clr::Rng rng = root.split(next_index + i);
        sum += aug(batch[i], rng).data()[0];
      }
      return sum;
    };
    std::vector<std::thread> helpers;
    std::vector<double> sums(threads - 1);
    for (int t = 1; t < threads; ++t) helpers.emplace_back([&, t] { sums[t - 1] = work(); });
    checksum += work();
    for (auto& helper : helpers) helper.join();
    for (double sum : sums) checksum += sum;
    next_index += n;
  }
  const double cpu_seconds = process_cpu_seconds() - cpu_before;
  benchmark::DoNotOptimize(checksum);
  // Per CPU-second of all threads: the per-core rate even where other programs hold the
  // cores (wall-clock views/s then understates what 2 threads do).
  state.counters["views/cpu_s"] = static_cast<double>(n) * state.iterations() / cpu_seconds;
  state.counters["views/s"] =
      benchmark::Counter(static_cast<double>(n) * state.iterations(), benchmark::Counter::kIsRate);
  state.counters["views/s/thread"] = benchmark::Counter(
      static_cast<double>(n) * state.iterations() / threads, benchmark::Counter::kIsRate);
}

void BM_pipeline(benchmark::State& state) {
  const auto pipeline = static_cast<Pipeline>(state.range(0));
  const int threads = static_cast<int>(state.range(1));
  if (pipeline == kCifar) {
    run_batches(state, simclr_cifar(32), pictures(256, 32, 32, 2), threads);
    state.SetLabel("simclr_cifar(32), 32x32 in");
  } else {
    run_batches(state, simclr_imagenet(224), pictures(16, 375, 500, 3), threads);
    state.SetLabel("simclr_imagenet(224), 375x500 in");
  }
}

enum Step { kCrop, kFlip, kJitter, kGrayscale, kBlur, kNormalize };
const char* const kStepNames[] = {"RandomResizedCrop", "RandomHorizontalFlip", "ColorJitter",
                                  "RandomGrayscale",   "GaussianBlur",         "Normalize"};

void BM_transform(benchmark::State& state) {
  const int size = static_cast<int>(state.range(0));
  const auto step = static_cast<Step>(state.range(1));
  const bool cifar = size == 32;
  const Image image = pictures(1, cifar ? 32 : 375, cifar ? 32 : 500, 4)[0];
  const RandomResizedCrop crop(size, {cifar ? 0.2 : 0.08, 1.0});
  clr::Rng rng(5);
  const FloatImage cropped = crop(image, rng);
  const float s = cifar ? 0.5f : 1.0f;  // ColorJitter(0.4, ..., 0.1) or (0.8, ..., 0.2)
  const ColorJitter jitter(0.8f * s, 0.8f * s, 0.8f * s, 0.2f * s);
  const GaussianBlur blur(simclr_blur_kernel(size));
  const Normalize normalize(kCifar10Mean, kCifar10Std);
  for (auto _ : state) {
    switch (step) {
      case kCrop:
        benchmark::DoNotOptimize(crop(image, rng).data());
        break;
      case kFlip:
        benchmark::DoNotOptimize(RandomHorizontalFlip(1.0f)(cropped, rng).data());
        break;
      case kJitter:
        benchmark::DoNotOptimize(jitter(cropped, rng).data());
        break;
      case kGrayscale:
        benchmark::DoNotOptimize(RandomGrayscale(1.0f)(cropped, rng).data());
        break;
      case kBlur:
        benchmark::DoNotOptimize(blur(cropped, rng).data());
        break;
      case kNormalize:
        benchmark::DoNotOptimize(normalize(cropped, rng).data());
        break;
    }
  }
  // The steps after the crop copy `cropped` first (a deep copy, as each takes its picture
  // by value): that copy is in their time, as small as a pass of Normalize.
  state.SetLabel(std::string(kStepNames[step]) + " " + std::to_string(size));
}

}  // namespace

BENCHMARK(BM_pipeline)
    ->ArgNames({"pipeline", "threads"})
    ->ArgsProduct({{kCifar, kImageNet}, {1, 2}})
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();
BENCHMARK(BM_transform)
    ->ArgNames({"size", "step"})
    ->ArgsProduct({{32, 224}, {kCrop, kFlip, kJitter, kGrayscale, kBlur, kNormalize}})
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();

BENCHMARK_MAIN();
