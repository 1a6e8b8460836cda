// The encoder on the CPU: Conv2d on the ResNet-18 CIFAR layer shapes, the GEMMs that
// Conv2d lowers them to, and ResNet-18 (CIFAR stem) inference and SupCon train steps,
// as SupContrast's main_supcon.py runs them. GEMM peak: bench_loss's BM_sgemm in the same
// run (bench/compare_nn.py runs both).
//
//   bench_nn [--long] [google benchmark flags]
//   BM_conv2d       one Conv2d (3x3, padding 1, no bias), batch 64: forward, or forward +
//                   backward; 2 N out oh ow in 9 flops forward, 3x that with backward (im2col's
//                   flop count for every algorithm, so Winograd's GFLOP/s are "effective");
//                   algo 0: the automatic choice, 1: im2col forced, 2: Winograd F(4x4)
//                   forced, 3: Winograd F(2x2) forced, 4: F(2x2) with the channels as the
//                   vector lanes forced, 6: F(4x4) with the channels as the vector lanes
//                   forced (2, 3, 4 and 6: the stride-1 shapes), 5: im2col with the
//                   channels last forced (with 1, the stride-2 shapes), at full and quarter
//                   width
//   BM_conv_gemm    the three GEMMs of that layer, and of its quarter-width version
//                   (y = W cols, dW += dy cols^T, dcols = W^T dy), for one image, as
//                   Conv2d runs them, or for the 64 images' columns side by side, as a
//                   batched lowering would
//   BM_resnet18_inference  encoder.forward(x, eval), x [bsz, 3, 32, 32]
//   BM_supcon_step  2 views: encoder forward on [2 bsz, 3, 32, 32] (train mode), 'mlp'
//                   head + L2 normalisation, SupCon with labels, backward through head
//                   and encoder, zero_grad; images/s counts bsz images per step
//   --long adds bsz 256 and 512 to the two model benchmarks (a train step of bsz 256 puts
//   512 views through the encoder).
// Each model benchmark runs one step before timing (Conv2d's column buffers, first
// touches); peak_extra_bytes is the high-water mark of clr's allocator above what was held
// before that step (the model, its gradients and the input are held before);
// peak_rss_growth_bytes is the process's peak resident set above its size when the first
// model benchmark of the process began (filter to one of them for a clean figure).
#include <benchmark/benchmark.h>
#include <sys/resource.h>
#include <unistd.h>

#include <clr/clr.hpp>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace {

using B = clr::cpu;
constexpr int kConvBatch = 64;
constexpr int kViews = 2;
constexpr int kProjection = 128;  // SupContrast's feat_dim
constexpr int kClasses = 100;     // CIFAR-100

clr::Tensor<B> normal_tensor(clr::Shape shape, std::uint64_t seed) {
  clr::Rng rng(seed);
  std::vector<float> values(shape.numel());
  for (auto& v : values) v = rng.normal();
  return clr::Tensor<B>::from(values, shape);
}

// Resident set now (statm) and its high-water mark so far (getrusage), in bytes.
double resident_bytes() {
  long pages = 0, resident = 0;
  if (std::FILE* f = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
    std::fclose(f);
  }
  return static_cast<double>(resident) * static_cast<double>(sysconf(_SC_PAGESIZE));
}
double peak_resident_bytes() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) * 1024.0;
}

// Tracks clr's allocator from construction to report(), and the process's resident set
// against its size at the first construction in the process: the peak resident set is
// process-wide and never falls, and Google Benchmark may call a benchmark several times
// (a trial run, repetitions), each building its model anew where the last one was freed.
class ExtraMemory {
 public:
  ExtraMemory() : held_before_(B::memory().stats().current_bytes) {
    static const double first_resident = resident_bytes();
    resident_before_ = first_resident;
    B::memory().reset_peak();
  }
  void report(benchmark::State& state) const {
    state.counters["peak_extra_bytes"] =
        static_cast<double>(B::memory().stats().peak_bytes - held_before_);
    state.counters["peak_rss_growth_bytes"] = peak_resident_bytes() - resident_before_;
  }

 private:
  std::int64_t held_before_;
  double resident_before_;
};

struct ConvShape {
  int in, out, size, stride;  // size: input height = width
  int out_size() const { return (size + 2 - 3) / stride + 1; }
  double forward_flops(int batch) const {
    return 2.0 * batch * out * out_size() * out_size() * in * 9;
  }
};

// ResNet-18's 3x3 convs on 32x32 CIFAR images, one of each shape.
constexpr ConvShape kResNet18Convs[] = {
    {3, 64, 32, 1},    {64, 64, 32, 1},  {64, 128, 32, 2}, {128, 128, 16, 1},
    {128, 256, 16, 2}, {256, 256, 8, 1}, {256, 512, 8, 2}, {512, 512, 4, 1},
};

ConvShape conv_shape(const benchmark::State& state) {
  return {static_cast<int>(state.range(0)), static_cast<int>(state.range(1)),
          static_cast<int>(state.range(2)), static_cast<int>(state.range(3))};
}

std::string conv_label(const ConvShape& s) {
  return std::to_string(s.in) + "->" + std::to_string(s.out) + " " + std::to_string(s.size) + "x" +
         std::to_string(s.size) + (s.stride == 2 ? " s2" : "");
}

// Forces the CPU's convolution algorithm for one benchmark run.
class ForcedAlgorithm {
 public:
  explicit ForcedAlgorithm(clr::cpu_impl::ConvAlgorithm algorithm) : saved_(B::conv_algorithm()) {
    B::conv_algorithm() = algorithm;
  }
  ~ForcedAlgorithm() { B::conv_algorithm() = saved_; }
  ForcedAlgorithm(const ForcedAlgorithm&) = delete;
  ForcedAlgorithm& operator=(const ForcedAlgorithm&) = delete;

 private:
  clr::cpu_impl::ConvAlgorithm saved_;
};

using clr::cpu_impl::ConvAlgorithm;
constexpr ConvAlgorithm kAlgorithms[] = {ConvAlgorithm::automatic,
                                         ConvAlgorithm::im2col,
                                         ConvAlgorithm::winograd,
                                         ConvAlgorithm::winograd_2x2,
                                         ConvAlgorithm::winograd_2x2_channels_last,
                                         ConvAlgorithm::im2col_channels_last,
                                         ConvAlgorithm::winograd_4x4_channels_last};
constexpr const char* kAlgorithmNames[] = {"",
                                           " im2col",
                                           " winograd",
                                           " winograd_2x2",
                                           " winograd_2x2_channels_last",
                                           " im2col_channels_last",
                                           " winograd_4x4_channels_last"};

void BM_conv2d(benchmark::State& state) {
  const ConvShape s = conv_shape(state);
  const bool backward = state.range(4) != 0;
  const ForcedAlgorithm forced(kAlgorithms[state.range(5)]);
  clr::Rng rng(1);
  clr::nn::Conv2d<B> conv(s.in, s.out, 3, rng, {.stride = s.stride, .padding = 1, .bias = false});
  const auto x = normal_tensor({kConvBatch, s.in, s.size, s.size}, 2);
  const auto dy = normal_tensor({kConvBatch, s.out, s.out_size(), s.out_size()}, 3);
  for (auto _ : state) {
    benchmark::DoNotOptimize(conv.forward(x, clr::nn::Mode::train).data());
    if (backward) benchmark::DoNotOptimize(conv.backward(dy).data());
  }
  state.counters["GFLOP/s"] = benchmark::Counter(
      s.forward_flops(kConvBatch) * (backward ? 3 : 1) * 1e-9 * state.iterations(),
      benchmark::Counter::kIsRate);
  state.SetLabel(conv_label(s) + (backward ? " fwd+bwd" : " fwd") +
                 kAlgorithmNames[state.range(5)]);
}

// Conv2d's GEMMs without im2col / col2im: per image (n = oh ow), or the batch's columns
// side by side (n = 64 oh ow).
void BM_conv_gemm(benchmark::State& state) {
  const ConvShape s = conv_shape(state);
  const int images = static_cast<int>(state.range(4));
  const int patch = s.in * 9, positions = images * s.out_size() * s.out_size();
  const auto w = normal_tensor({s.out, patch}, 1);
  const auto cols = normal_tensor({patch, positions}, 2);
  const auto dy = normal_tensor({s.out, positions}, 3);
  clr::Tensor<B> y({s.out, positions}), dw({s.out, patch}), dcols({patch, positions});
  for (auto _ : state) {
    clr::ops::gemm<B>(w.matrix(), cols.matrix(), y.matrix());
    clr::ops::gemm<B>(dy.matrix(), cols.matrix().t(), dw.matrix(), 1.0f, 1.0f);
    clr::ops::gemm<B>(w.matrix().t(), dy.matrix(), dcols.matrix());
    benchmark::DoNotOptimize(dcols.data());
  }
  const double flops = 3.0 * 2.0 * s.out * double(patch) * positions;
  state.counters["GFLOP/s"] =
      benchmark::Counter(flops * 1e-9 * state.iterations(), benchmark::Counter::kIsRate);
  state.SetLabel(conv_label(s) + (images == 1 ? " per image" : " batched"));
}

clr::nn::ResNetOptions resnet_options(const benchmark::State& state) {
  return {.in_channels = 3, .width = static_cast<float>(state.range(0)) / 100.0f};
}

void BM_resnet18_inference(benchmark::State& state) {
  const int bsz = static_cast<int>(state.range(1));
  clr::Rng rng(1);
  clr::nn::ResNet18<B, clr::nn::CifarStem> encoder(rng, resnet_options(state));
  const auto x = normal_tensor({bsz, 3, 32, 32}, 2);
  const ExtraMemory memory;
  benchmark::DoNotOptimize(encoder.forward(x, clr::nn::Mode::inference).data());
  for (auto _ : state)
    benchmark::DoNotOptimize(encoder.forward(x, clr::nn::Mode::inference).data());
  state.counters["images/s"] =
      benchmark::Counter(double(bsz) * state.iterations(), benchmark::Counter::kIsRate);
  memory.report(state);
  state.SetLabel(state.range(0) == 100 ? "full width"
                                       : "width " + std::to_string(state.range(0)) + "%");
}

// One step of main_supcon.py without the optimizer: SupConResNet(name='resnet18',
// head='mlp'): encoder -> Linear(d, d) -> ReLU -> Linear(d, 128) -> normalize, then
// SupConLoss(features [bsz, 2, 128], labels). Rows 2i and 2i + 1 of the input are the
// two views of sample i, so that the projections reshape to [bsz, 2, 128] in place
// (SupContrast concatenates the views instead and splits them again: the same work).
void BM_supcon_step(benchmark::State& state) {
  using namespace clr::nn;
  const int bsz = static_cast<int>(state.range(1));
  clr::Rng rng(1);
  // The images need no gradient (PyTorch's do not require one either).
  ResNetOptions options = resnet_options(state);
  options.input_gradient = false;
  ResNet18<B, CifarStem> encoder(rng, options);
  const int dim = encoder.feature_dim();
  Sequential<Linear<B>, ReLU<B>, Linear<B>, L2Normalize<B>> head(
      Linear<B>(dim, dim, rng), ReLU<B>(), Linear<B>(dim, kProjection, rng), L2Normalize<B>());
  clr::loss::SupCon<B> loss;
  const auto x = normal_tensor({kViews * bsz, 3, 32, 32}, 2);  // [2 bsz, 3, 32, 32]
  std::vector<int> labels(bsz);
  for (int i = 0; i < bsz; ++i) labels[i] = i % kClasses;

  auto step = [&] {
    zero_grad(encoder);
    zero_grad(head);
    const auto z = head.forward(encoder.forward(x, Mode::train), Mode::train);  // [2 bsz, 128]
    const float value = loss.forward(z.reshape({bsz, kViews, kProjection}), labels);
    const auto dz = loss.backward().reshape({kViews * bsz, kProjection});
    encoder.backward(head.backward(dz));
    return value;
  };
  const ExtraMemory memory;
  benchmark::DoNotOptimize(step());
  for (auto _ : state) benchmark::DoNotOptimize(step());
  state.counters["images/s"] =
      benchmark::Counter(double(bsz) * state.iterations(), benchmark::Counter::kIsRate);
  memory.report(state);
  state.SetLabel(state.range(0) == 100 ? "full width"
                                       : "width " + std::to_string(state.range(0)) + "%");
}

void register_benchmarks(bool long_sizes) {
  auto* conv = benchmark::RegisterBenchmark("BM_conv2d", BM_conv2d)
                   ->ArgNames({"in", "out", "hw", "stride", "backward", "algo"})
                   ->Unit(benchmark::kMillisecond)
                   ->UseRealTime();
  auto* gemm = benchmark::RegisterBenchmark("BM_conv_gemm", BM_conv_gemm)
                   ->ArgNames({"in", "out", "hw", "stride", "images"})
                   ->Unit(benchmark::kMillisecond)
                   ->UseRealTime();
  for (const ConvShape& s : kResNet18Convs)
    for (int backward : {0, 1}) conv->Args({s.in, s.out, s.size, s.stride, backward, 0});
  for (int divisor : {1, 4})  // every path of each shape, full and quarter width
    for (const ConvShape& s : kResNet18Convs)
      for (int backward : {0, 1})
        for (int algo : {1, 2, 3, 4, 5, 6})
          if ((s.stride == 1 && algo != 5) || (s.stride == 2 && (algo == 1 || algo == 5)))
            conv->Args({s.in == 3 ? 3 : s.in / divisor, s.out / divisor, s.size, s.stride, backward,
                        algo});
  for (int divisor : {1, 4})  // full and quarter width
    for (const ConvShape& s : kResNet18Convs)
      for (int images : {1, kConvBatch})
        gemm->Args({s.in == 3 ? 3 : s.in / divisor, s.out / divisor, s.size, s.stride, images});

  std::vector<int> sizes = {64};
  if (long_sizes) sizes.insert(sizes.end(), {256, 512});
  auto* inference = benchmark::RegisterBenchmark("BM_resnet18_inference", BM_resnet18_inference)
                        ->ArgNames({"width_pct", "bsz"})
                        ->Unit(benchmark::kMillisecond)
                        ->UseRealTime();
  auto* train = benchmark::RegisterBenchmark("BM_supcon_step", BM_supcon_step)
                    ->ArgNames({"width_pct", "bsz"})
                    ->Unit(benchmark::kMillisecond)
                    ->UseRealTime();
  for (int width : {100, 25})
    for (int bsz : sizes) {
      inference->Args({width, bsz});
      train->Args({width, bsz});
    }
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
