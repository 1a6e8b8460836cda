// Checkpoints of a model's state: exact round trips, atomic writes, and clear errors for
// truncated, corrupted or mismatched files.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "support/backends.hpp"
#include "support/random.hpp"

using clr::Rng;
using clr::Tensor;
using namespace clr::nn;

namespace {

std::filesystem::path scratch(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() / "clr_test_state_io";
  std::filesystem::create_directories(dir);
  return dir / name;
}

std::vector<char> read_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_bytes(const std::filesystem::path& path, const std::vector<char>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

}  // namespace

TEST_CASE_TEMPLATE("save_state / load_state: a ResNet comes back exactly, running stats too", B,
                   CLR_TEST_BACKENDS) {
  CLR_SKIP_WITHOUT_DEVICE(B);
  Rng rng(1), other(2);
  const auto path = scratch(std::string("resnet_") + B::name + ".clr");
  ResNet18<B> saved(rng, {.in_channels = 1, .width = 0.125f});
  const auto x = Tensor<B>::from(clr::testing::normal_values(4 * 16 * 16, 3), {4, 1, 16, 16});
  saved.forward(x, Mode::train);  // moves the running statistics off their initial values
  save_state(saved, path.string(), {{"epoch", "3"}});
  CHECK_FALSE(std::filesystem::exists(path.string() + ".tmp"));

  ResNet18<B> loaded(other, {.in_channels = 1, .width = 0.125f});
  const auto contents = load_state(loaded, path.string());
  CHECK(contents.metadata.at("epoch") == "3");
  CHECK(loaded.forward(x, Mode::eval).to_vector() == saved.forward(x, Mode::eval).to_vector());
}

TEST_CASE_TEMPLATE("load_state: mismatched models and damaged files raise clr::Error", B,
                   CLR_TEST_BACKENDS) {
  CLR_SKIP_WITHOUT_DEVICE(B);
  Rng rng(1);
  const auto path = scratch(std::string("head_") + B::name + ".clr");
  MLPHead<B> head(8, 4, rng);
  save_state(head, path.string());
  const std::vector<char> good = read_bytes(path);

  MLPHead<B> wider(16, 4, rng);
  CHECK_THROWS_WITH_AS(load_state(wider, path.string()),
                       doctest::Contains("0.weight has shape [8, 8], the model expects [16, 16]"),
                       clr::Error);
  Linear<B> linear(8, 4, rng);
  CHECK_THROWS_WITH_AS(load_state(linear, path.string()), doctest::Contains("has no tensor weight"),
                       clr::Error);
  CHECK_THROWS_WITH_AS(load_state(head, (path.string() + ".missing")),
                       doctest::Contains("cannot open"), clr::Error);

  // Every truncation is refused, naming the file; the model keeps its weights.
  const auto before = clr::nn::state(head)[0].value->to_vector();
  for (std::size_t size :
       {std::size_t{0}, std::size_t{5}, std::size_t{20}, good.size() / 2, good.size() - 1}) {
    CAPTURE(size);
    write_bytes(path, std::vector<char>(good.begin(), good.begin() + static_cast<long>(size)));
    CHECK_THROWS_WITH_AS(load_state(head, path.string()), doctest::Contains(path.string().c_str()),
                         clr::Error);
  }
  CHECK(clr::nn::state(head)[0].value->to_vector() == before);

  std::vector<char> flipped = good;
  flipped[good.size() / 2] ^= 0x10;
  write_bytes(path, flipped);
  CHECK_THROWS_WITH_AS(load_state(head, path.string()),
                       doctest::Contains("checksum does not match"), clr::Error);

  write_bytes(path, good);
  CHECK_NOTHROW(load_state(head, path.string()));
  CHECK_THROWS_WITH_AS(save_state(head, (scratch("no_such_dir") / "x" / "head.clr").string()),
                       doctest::Contains("cannot create"), clr::Error);
}
