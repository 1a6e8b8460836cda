// Helpers of the optimizer tests: a set of parameter tensors with gradients that stands in
// for a model (its entries are what nn::parameters(model) yields), the reference fixtures
// of fixtures/make_fixtures.py, and a tolerance check.
#pragma once

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <deque>
#include <filesystem>
#include <string>
#include <vector>

#include "clr/core/tensor.hpp"
#include "clr/nn/layer.hpp"
#include "support/json.hpp"

namespace clr::testing {

// Owns value and gradient tensors; the deque keeps their addresses stable as it grows.
template <Backend B>
struct ParameterSet {
  struct Owned {
    Tensor<B> value, grad;
  };
  std::deque<Owned> owned;
  nn::State<B> entries;

  void add(const std::string& name, nn::ParameterKind kind, std::vector<float> value, Shape shape) {
    owned.push_back({Tensor<B>::from(value, shape), Tensor<B>(shape)});
    entries.push_back({name, &owned.back().value, &owned.back().grad, kind});
  }
  void set_grad(std::size_t i, const std::vector<float>& grad) {
    *entries[i].grad = Tensor<B>::from(grad, entries[i].grad->shape());
  }
  std::vector<float> value(std::size_t i) const { return entries[i].value->to_vector(); }
};

inline nn::ParameterKind parameter_kind(const std::string& kind) {
  if (kind == "weight") return nn::ParameterKind::weight;
  if (kind == "bias") return nn::ParameterKind::bias;
  if (kind == "batch_norm") return nn::ParameterKind::batch_norm;
  FAIL("unknown parameter kind " << kind);
  return nn::ParameterKind::buffer;
}

inline Shape json_shape(const Json& dims) {
  const auto d = dims.numbers<int>();
  return d.size() == 1 ? Shape{d[0]} : d.size() == 2 ? Shape{d[0], d[1]} : Shape{d[0], d[1], d[2]};
}

inline std::vector<Json> optim_fixtures(const std::string& file) {
  const auto path = std::filesystem::path(__FILE__).parent_path() / "fixtures" / file;
  return Json::parse_file(path.string())["cases"].array();
}

// The fixture's parameters, as a model would list them.
template <Backend B>
ParameterSet<B> fixture_parameters(const Json& c) {
  ParameterSet<B> set;
  for (const Json& p : c["params"].array())
    set.add(p["name"].string(), parameter_kind(p["kind"].string()), p["value"].numbers<float>(),
            json_shape(p["shape"]));
  return set;
}

// |got - expected| <= tolerance (1 + |expected|): absolute near zero, relative above one.
inline double worst_error(const std::vector<float>& got, const std::vector<double>& expected) {
  REQUIRE(got.size() == expected.size());
  double worst = 0.0;
  for (std::size_t i = 0; i < got.size(); ++i)
    worst = std::max(worst, std::abs(got[i] - expected[i]) / (1.0 + std::abs(expected[i])));
  return worst;
}

}  // namespace clr::testing
