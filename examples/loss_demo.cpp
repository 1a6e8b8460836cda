// The smallest "include and call" program: SimCLR, SupCon and NT-Xent losses and their
// gradients on a random batch of L2-normalised features.
//
//   loss_demo [--bsz 256] [--n_views 2] [--dim 128] [--temp 0.07] [--seed 0]
#include <clr/clr.hpp>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

struct Flags {
  int bsz = 256;
  int n_views = 2;
  int dim = 128;
  float temp = 0.07f;
  unsigned long seed = 0;
};

Flags parse(int argc, char** argv) {
  Flags flags;
  for (int i = 1; i < argc; ++i) {
    const std::string name = argv[i];
    clr::require(i + 1 < argc, "loss_demo: flag ", name, " needs a value");
    const char* value = argv[++i];
    if (name == "--bsz")
      flags.bsz = std::atoi(value);
    else if (name == "--n_views")
      flags.n_views = std::atoi(value);
    else if (name == "--dim")
      flags.dim = std::atoi(value);
    else if (name == "--temp")
      flags.temp = std::strtof(value, nullptr);
    else if (name == "--seed")
      flags.seed = std::strtoul(value, nullptr, 10);
    else
      throw clr::Error("loss_demo: unknown flag " + name);
  }
  return flags;
}

double norm(const std::vector<float>& v) {
  double sum = 0;
  for (float x : v) sum += double(x) * x;
  return std::sqrt(sum);
}

}  // namespace

int main(int argc, char** argv) try {
  const Flags flags = parse(argc, argv);
  clr::Rng rng(flags.seed);

  // features [bsz, n_views, dim], each row on the unit sphere, as a projection head emits.
  const int rows = flags.bsz * flags.n_views;
  std::vector<float> values(static_cast<std::size_t>(rows) * flags.dim);
  for (auto& v : values) v = rng.normal();
  clr::Tensor<clr::cpu> raw = clr::Tensor<clr::cpu>::from(values, {rows, flags.dim});
  clr::Tensor<clr::cpu> norms;
  clr::Tensor<clr::cpu> features =
      clr::ops::l2_normalize_rows(raw, norms).reshape({flags.bsz, flags.n_views, flags.dim});

  std::vector<int> labels(flags.bsz);
  for (auto& label : labels) label = static_cast<int>(rng.uniform_int(10));

  clr::loss::SupCon<clr::cpu> loss({.temperature = flags.temp,
                                    .base_temperature = 0.07f,
                                    .contrast_mode = clr::loss::ContrastMode::all});
  const float simclr = loss.forward(features);
  const double simclr_grad = norm(loss.backward().to_vector());
  const float supcon = loss.forward(features, labels);
  const double supcon_grad = norm(loss.backward().to_vector());

  std::printf("features [%d, %d, %d], temperature %.3f\n", flags.bsz, flags.n_views, flags.dim,
              flags.temp);
  std::printf("SimCLR loss %.6f   |grad| %.6f\n", simclr, simclr_grad);
  std::printf("SupCon loss %.6f   |grad| %.6f   (10 random classes)\n", supcon, supcon_grad);
  if (flags.n_views == 2) {
    clr::loss::NTXent<clr::cpu> ntxent({.temperature = flags.temp});
    const auto result = ntxent.forward(features);
    std::printf("NT-Xent loss %.6f  contrastive accuracy %.3f  entropy %.3f\n", result.loss,
                result.accuracy, result.entropy);
  }
  return 0;
} catch (const clr::Error& error) {
  std::fprintf(stderr, "%s\n", error.what());
  return 1;
}
