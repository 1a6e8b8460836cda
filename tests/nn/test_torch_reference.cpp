// Layers against PyTorch: each fixture (written by fixtures/make_fixtures.py, PyTorch in
// float64 on float32 inputs) holds a layer's configuration, input, parameters and buffers,
// an upstream gradient dy, and PyTorch's y, dx, parameter gradients and buffers after the
// forward pass. The clr layer is built with the same configuration, loaded by its state()
// names (PyTorch's state_dict keys), run forward and backward, and compared.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <set>
#include <string>
#include <vector>

#include "support/backends.hpp"
#include "support/json.hpp"

using clr::Rng;
using clr::Tensor;
using clr::testing::Json;
using namespace clr::nn;

namespace {

std::vector<Json> fixtures(const std::string& kind) {
  return clr::testing::fixtures_of_kind(CLR_NN_FIXTURE_DIR, kind);
}

clr::Shape shape_of(const Json& tensor) {
  const auto dims = tensor["shape"].numbers<int>();
  clr::Shape shape;
  switch (dims.size()) {
    case 0:  // PyTorch's 0-dim scalars (num_batches_tracked) are clr's [1]
      shape = clr::Shape{1};
      break;
    case 1:
      shape = clr::Shape{dims[0]};
      break;
    case 2:
      shape = clr::Shape{dims[0], dims[1]};
      break;
    case 4:
      shape = clr::Shape{dims[0], dims[1], dims[2], dims[3]};
      break;
    default:
      FAIL("unexpected rank ", dims.size());
  }
  return shape;
}

template <class B>
Tensor<B> tensor(const Json& json) {
  return Tensor<B>::from(json["values"].numbers<float>(), shape_of(json));
}

// |got - expected| <= 1e-4 (|expected| + rms(expected)): relative to each value, and to
// the tensor's scale for values near zero (float32 against a float64 reference; sums and
// BatchNorm's cancellations lose a few digits).
template <class B>
void check_close(const std::string& what, const Tensor<B>& got, const Json& expected) {
  CAPTURE(what);
  REQUIRE(got.shape() == shape_of(expected));
  const auto values = got.to_vector();
  const auto reference = expected["values"].numbers<double>();
  double squares = 0;
  for (double v : reference) squares += v * v;
  const double rms = std::sqrt(squares / double(std::max<std::size_t>(reference.size(), 1)));
  double worst = 0;
  std::size_t worst_at = 0;
  for (std::size_t i = 0; i < values.size(); ++i) {
    const double difference = std::abs(values[i] - reference[i]);
    // Exact agreement passes even where the tensor is all zeros (dx of rows no window
    // reads); a NaN never does.
    const double error = difference == 0.0        ? 0.0
                         : std::isnan(difference) ? std::numeric_limits<double>::infinity()
                                                  : difference / (std::abs(reference[i]) + rms);
    if (error > worst) {
      worst = error;
      worst_at = i;
    }
  }
  CAPTURE(worst_at);
  CAPTURE(values.empty() ? 0.0 : values[worst_at]);
  CAPTURE(reference.empty() ? 0.0 : reference[worst_at]);
  CHECK(worst <= 1e-4);
}

Mode mode_of(const Json& c) {
  return c["mode"].string() == "train" ? Mode::train : Mode::eval;
}

// Loads the fixture's parameters and buffers by name, runs forward and backward, and checks
// y, dx, every parameter gradient and every buffer afterwards. clr's state and PyTorch's
// state_dict must hold the same names.
template <Layer L>
void check_against_torch(L& layer, const Json& c) {
  using B = typename L::backend;
  std::set<std::string> names, fixture_names;
  for (const auto& [name, value] : c["state"].object()) fixture_names.insert(name);
  for (auto& entry : state(layer)) {
    CAPTURE(entry.name);
    names.insert(entry.name);
    REQUIRE(c["state"].has(entry.name));
    const Json& value = c["state"][entry.name];
    REQUIRE(entry.value->shape() == shape_of(value));
    *entry.value = tensor<B>(value);
  }
  CHECK(names == fixture_names);

  const Tensor<B> y = layer.forward(tensor<B>(c["input"]), mode_of(c));
  check_close("y", y, c["y"]);
  check_close("dx", layer.backward(tensor<B>(c["dy"])), c["dx"]);
  std::size_t checked = 0;
  for (auto& entry : state(layer)) {
    if (entry.grad) {
      check_close(entry.name + ".grad", *entry.grad, c["grads"][entry.name]);
      ++checked;
    } else {
      check_close(entry.name + " after forward", *entry.value, c["state_after"][entry.name]);
    }
  }
  CHECK(checked == c["grads"].object().size());
}

int integer(const Json& config, const std::string& key) {
  return static_cast<int>(config[key].number());
}

template <class B>
void check_batch_norm_cases(const std::string& kind, std::size_t at_least) {
  const auto cases = fixtures(kind);
  REQUIRE(cases.size() >= at_least);
  for (const Json& c : cases) {
    CAPTURE(c["name"].string());
    const Json& config = c["config"];
    const BatchNormOptions options{.eps = static_cast<float>(config["eps"].number()),
                                   .momentum = static_cast<float>(config["momentum"].number()),
                                   .scale = config["scale"].boolean(),
                                   .center = config["center"].boolean()};
    if (kind == "batch_norm2d") {
      BatchNorm2d<B> bn(integer(config, "channels"), options);
      check_against_torch(bn, c);
    } else {
      BatchNorm1d<B> bn(integer(config, "channels"), options);
      check_against_torch(bn, c);
    }
  }
}

template <class Block>
void check_block_cases(const std::string& kind) {
  const auto cases = fixtures(kind);
  REQUIRE(cases.size() >= 2);
  std::set<std::string> modes;
  for (const Json& c : cases) {
    CAPTURE(c["name"].string());
    const Json& config = c["config"];
    Rng rng(1);
    Block block(integer(config, "in_planes"), integer(config, "planes"), integer(config, "stride"),
                rng);
    check_against_torch(block, c);
    modes.insert(c["mode"].string());
  }
  CHECK(modes == std::set<std::string>{"eval", "train"});
}

}  // namespace

TEST_CASE_TEMPLATE("Conv2d matches PyTorch's nn.Conv2d (stride 2, padding, odd sizes)", B,
                   CLR_TEST_BACKENDS) {
  CLR_SKIP_WITHOUT_DEVICE(B);
  const auto cases = fixtures("conv2d");
  REQUIRE(cases.size() >= 5);
  for (const Json& c : cases) {
    CAPTURE(c["name"].string());
    const Json& config = c["config"];
    Rng rng(1);
    Conv2d<B> conv(integer(config, "in_channels"), integer(config, "out_channels"),
                   integer(config, "kernel_size"), rng,
                   {.stride = integer(config, "stride"),
                    .padding = integer(config, "padding"),
                    .bias = config["bias"].boolean()});
    check_against_torch(conv, c);
  }
}

TEST_CASE_TEMPLATE("BatchNorm2d matches PyTorch in train and eval mode", B, CLR_TEST_BACKENDS) {
  CLR_SKIP_WITHOUT_DEVICE(B);
  check_batch_norm_cases<B>("batch_norm2d", 4);
}

TEST_CASE_TEMPLATE("BatchNorm1d matches PyTorch in train and eval mode", B, CLR_TEST_BACKENDS) {
  CLR_SKIP_WITHOUT_DEVICE(B);
  check_batch_norm_cases<B>("batch_norm1d", 5);
}

TEST_CASE_TEMPLATE("BasicBlock matches SupContrast's BasicBlock", B, CLR_TEST_BACKENDS) {
  CLR_SKIP_WITHOUT_DEVICE(B);
  check_block_cases<BasicBlock<B>>("basic_block");
}

TEST_CASE_TEMPLATE("Bottleneck matches SupContrast's Bottleneck", B, CLR_TEST_BACKENDS) {
  CLR_SKIP_WITHOUT_DEVICE(B);
  check_block_cases<Bottleneck<B>>("bottleneck");
}

TEST_CASE_TEMPLATE("MaxPool2d matches PyTorch's nn.MaxPool2d (3x3, stride 2, padding 1)", B,
                   CLR_TEST_BACKENDS) {
  CLR_SKIP_WITHOUT_DEVICE(B);
  const auto cases = fixtures("max_pool2d");
  REQUIRE(cases.size() >= 2);
  for (const Json& c : cases) {
    CAPTURE(c["name"].string());
    const Json& config = c["config"];
    MaxPool2d<B> pool(integer(config, "kernel_size"), integer(config, "stride"),
                      integer(config, "padding"));
    check_against_torch(pool, c);
  }
}
