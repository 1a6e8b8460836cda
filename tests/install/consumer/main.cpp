// Calls the installed library once and checks the result: SimCLR loss of two identical
// views of two orthogonal samples at temperature 1 is -log(e / (e + 2)).
#include <clr/clr.hpp>
#include <cmath>
#include <cstdio>
#include <vector>

int main() {
  const std::vector<float> values = {1, 0, 1, 0, 0, 1, 0, 1};  // [2 samples, 2 views, 2]
  clr::loss::SupCon<clr::cpu> loss({.temperature = 1.0f, .base_temperature = 1.0f});
  const float value = loss.forward(clr::Tensor<clr::cpu>::from(values, {2, 2, 2}));
  const double expected = -std::log(std::exp(1.0) / (std::exp(1.0) + 2.0));
  std::printf("consumer: SimCLR loss %.6f (expected %.6f)\n", value, expected);
  return std::abs(value - expected) < 1e-5 ? 0 : 1;
}
