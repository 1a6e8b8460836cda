// .npy files: exact round trips, the headers numpy writes (versions 1.0 to 3.0, any key
// order), and a clr::Error naming the file for truncated, foreign or corrupt ones.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "clr/data/npy.hpp"
#include "support/random.hpp"

using clr::Shape;
using clr::data::read_npy;
using clr::data::write_npy;

namespace {

std::string scratch(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() / "clr_test_npy";
  std::filesystem::create_directories(dir);
  return (dir / name).string();
}

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// A .npy file as numpy would lay it out, with any header text and version.
std::string npy_bytes(const std::string& dict, const std::vector<float>& values, int major = 1) {
  std::string header = dict + "\n";
  std::string bytes = "\x93NUMPY";
  bytes += static_cast<char>(major);
  bytes += '\0';
  const auto length = static_cast<std::uint32_t>(header.size());
  for (int i = 0; i < (major == 1 ? 2 : 4); ++i) bytes += static_cast<char>(length >> (8 * i));
  bytes += header;
  bytes.append(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(float));
  return bytes;
}

}  // namespace

TEST_CASE("write_npy / read_npy: every rank comes back exactly, in numpy's layout") {
  for (const Shape& shape : {Shape{7}, Shape{3, 5}, Shape{2, 3, 4}, Shape{4, 1, 12, 12}}) {
    CAPTURE(shape);
    const std::string path = scratch("round_trip.npy");
    const auto values = clr::testing::normal_values(shape.numel(), 5);
    write_npy(path, shape, values);
    CHECK_FALSE(std::filesystem::exists(path + ".tmp"));

    const auto array = read_npy(path);
    CHECK(array.shape == shape);
    CHECK(array.values == values);

    // Version 1.0, values 64-byte aligned, a header np.load accepts.
    const std::string bytes = read_bytes(path);
    CHECK(bytes.substr(0, 8) == std::string("\x93NUMPY\x01\x00", 8));
    CHECK((bytes.size() - values.size() * sizeof(float)) % 64 == 0);
    CHECK(bytes.find("'descr': '<f4', 'fortran_order': False") != std::string::npos);
  }
  const std::string path = scratch("vector.npy");
  write_npy(path, {3}, {1.0f, 2.0f, 3.0f});
  CHECK(read_bytes(path).find("'shape': (3,), }") != std::string::npos);
}

TEST_CASE("read_npy: the headers numpy writes, versions 2.0 and 3.0, empty arrays") {
  const std::string path = scratch("variants.npy");
  const std::vector<float> values{1.5f, -2.0f, 0.25f, 4.0f, 5.0f, 6.0f};
  // Keys in another order, double quotes, no trailing comma, padding spaces.
  for (int major : {1, 2, 3}) {
    CAPTURE(major);
    write_bytes(path, npy_bytes("{\"shape\": (2, 3), 'fortran_order': False, 'descr': '<f4'}   ",
                                values, major));
    const auto array = read_npy(path);
    CHECK(array.shape == Shape{2, 3});
    CHECK(array.values == values);
  }
  write_bytes(path, npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (0, 8), }", {}));
  CHECK(read_npy(path).shape == Shape{0, 8});
}

TEST_CASE("read_npy: truncated files name the file and what is missing") {
  const std::string path = scratch("truncated.npy");
  write_npy(path, {4, 3}, clr::testing::normal_values(12, 1));
  const std::string good = read_bytes(path);
  for (std::size_t size : {std::size_t{0}, std::size_t{7}, std::size_t{9}, std::size_t{30},
                           std::size_t{64}, good.size() - 4, good.size() - 1}) {
    CAPTURE(size);
    write_bytes(path, good.substr(0, size));
    CHECK_THROWS_WITH_AS(read_npy(path), doctest::Contains(path.c_str()), clr::Error);
  }
  write_bytes(path, good.substr(0, good.size() - 4));
  CHECK_THROWS_WITH_AS(read_npy(path), doctest::Contains("holds 44 bytes of values"), clr::Error);
  write_bytes(path, good + "xx");
  CHECK_THROWS_WITH_AS(read_npy(path), doctest::Contains("trailing bytes"), clr::Error);
  // A shape far beyond the file is refused before any allocation.
  write_bytes(path, npy_bytes("{'descr': '<f4', 'fortran_order': False, "
                              "'shape': (2000000000, 2000000000, 2000000000), }",
                              {1.0f}));
  CHECK_THROWS_WITH_AS(read_npy(path), doctest::Contains("(truncated)"), clr::Error);
  CHECK_THROWS_WITH_AS(read_npy(scratch("missing.npy")), doctest::Contains("cannot open"),
                       clr::Error);
}

TEST_CASE("read_npy: other dtypes, Fortran order and unsupported ranks are refused") {
  const std::string path = scratch("dtype.npy");
  for (const char* descr : {"<f8", ">f4", "<i8", "|u1", "<f2"}) {
    CAPTURE(descr);
    write_bytes(path, npy_bytes(std::string("{'descr': '") + descr +
                                    "', 'fortran_order': False, 'shape': (2,), }",
                                {1.0f, 2.0f}));
    CHECK_THROWS_WITH_AS(read_npy(path),
                         doctest::Contains((std::string("has dtype '") + descr + "'").c_str()),
                         clr::Error);
  }
  write_bytes(path,
              npy_bytes("{'descr': '<f4', 'fortran_order': True, 'shape': (1, 2), }", {1, 2}));
  CHECK_THROWS_WITH_AS(read_npy(path), doctest::Contains("Fortran order"), clr::Error);
  write_bytes(path, npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (), }", {1}));
  CHECK_THROWS_WITH_AS(read_npy(path), doctest::Contains("has rank 0"), clr::Error);
  write_bytes(path, npy_bytes("{'descr': '<f4', 'fortran_order': False, "
                              "'shape': (1, 1, 1, 1, 2), }",
                              {1, 2}));
  CHECK_THROWS_WITH_AS(read_npy(path), doctest::Contains("has rank 5"), clr::Error);
}

TEST_CASE("read_npy: bad magic, versions and headers are refused") {
  const std::string path = scratch("header.npy");
  const std::vector<float> two{1.0f, 2.0f};
  const std::string good =
      npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", two);
  write_bytes(path, "PK\x03\x04" + good.substr(4));
  CHECK_THROWS_WITH_AS(read_npy(path), doctest::Contains("is not a .npy file"), clr::Error);
  std::string version = good;
  version[6] = '\x04';
  write_bytes(path, version);
  CHECK_THROWS_WITH_AS(read_npy(path), doctest::Contains("unsupported .npy version 4.0"),
                       clr::Error);
  std::string long_header = good;
  long_header[8] = '\xff';
  long_header[9] = '\x7f';
  write_bytes(path, long_header);
  CHECK_THROWS_WITH_AS(read_npy(path), doctest::Contains("its header claims 32767 bytes"),
                       clr::Error);

  for (const char* dict : {"['descr', '<f4']", "{'descr': '<f4', 'fortran_order': False}",
                           "{'descr': '<f4', 'fortran_order': Nope, 'shape': (2,)}",
                           "{'descr': '<f4', 'fortran_order': False, 'shape': (-2,)}",
                           "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 1}",
                           "{'descr': '<f4, 'fortran_order': False, 'shape': (2,)}",
                           "{'descr': '<f4', 'fortran_order': False, 'shape': (2,)} tail"}) {
    CAPTURE(dict);
    write_bytes(path, npy_bytes(dict, two));
    CHECK_THROWS_WITH_AS(read_npy(path), doctest::Contains("bad header"), clr::Error);
  }
}

TEST_CASE("write_npy: wrong value counts and unwritable paths raise clr::Error") {
  CHECK_THROWS_WITH_AS(write_npy(scratch("count.npy"), {2, 3}, {1.0f, 2.0f}),
                       doctest::Contains("2 values for shape [2, 3]"), clr::Error);
  const std::string path = scratch("no_such_dir") + "/x.npy";
  CHECK_THROWS_WITH_AS(write_npy(path, {1}, {1.0f}), doctest::Contains("cannot create"),
                       clr::Error);
  CHECK_FALSE(std::filesystem::exists(path + ".tmp"));
}
