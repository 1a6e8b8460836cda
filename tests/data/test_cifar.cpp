#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "clr/data/cifar.hpp"
#include "data/data_test_util.hpp"

using namespace clr::testing;
using clr::data::CifarFormat;
using clr::data::CifarLabels;
using clr::data::Split;

namespace {

// Plane c (R, G, B) of image g holds value (g + 3 c + 5 y + 11 x) mod 256 at (y, x).
std::uint8_t cifar_pixel(int g, int c, int y, int x) {
  return static_cast<std::uint8_t>((g + 3 * c + 5 * y + 11 * x) % 256);
}

// Records of images first .. first + count - 1; label bytes from `labels(g)`.
template <class Labels>
Bytes cifar_records(int first, int count, Labels labels) {
  Bytes bytes;
  for (int g = first; g < first + count; ++g) {
    const std::vector<std::uint8_t> head = labels(g);
    bytes.insert(bytes.end(), head.begin(), head.end());
    for (int c = 0; c < 3; ++c)
      for (int y = 0; y < 32; ++y)
        for (int x = 0; x < 32; ++x) bytes.push_back(cifar_pixel(g, c, y, x));
  }
  return bytes;
}

Bytes cifar10_records(int first, int count) {
  return cifar_records(first, count, [](int g) {
    return std::vector<std::uint8_t>{static_cast<std::uint8_t>(g % 10)};
  });
}
Bytes cifar100_records(int first, int count) {
  return cifar_records(first, count, [](int g) {
    return std::vector<std::uint8_t>{static_cast<std::uint8_t>(g % 20),
                                     static_cast<std::uint8_t>((7 * g) % 100)};
  });
}

void check_pixels(const clr::data::InMemoryDataset& dataset, int first) {
  for (int i = 0; i < dataset.size(); ++i) {
    const auto image = dataset.get(i).image;
    REQUIRE(image.height() == 32);
    REQUIRE(image.width() == 32);
    REQUIRE(image.channels() == 3);
    for (int y : {0, 1, 17, 31})
      for (int x : {0, 2, 30, 31})
        for (int c = 0; c < 3; ++c) CHECK(image.at(y, x, c) == cifar_pixel(first + i, c, y, x));
  }
}

}  // namespace

TEST_CASE("CIFAR-10: batches read in order, planes interleaved to HWC") {
  TempDir dir;
  const auto batches = dir / "cifar-10-batches-bin";
  for (int b = 1; b <= 5; ++b)
    write_file(batches / ("data_batch_" + std::to_string(b) + ".bin"),
               cifar10_records(3 * (b - 1), 3));
  write_file(batches / "test_batch.bin", cifar10_records(100, 4));

  const auto train = clr::data::cifar10(dir.path(), Split::train);  // finds the archive's folder
  REQUIRE(train.size() == 15);
  CHECK(train.num_classes() == 10);
  CHECK(train.class_names().at(0) == "airplane");
  for (int i = 0; i < 15; ++i) CHECK(train.label(i) == i % 10);
  check_pixels(train, 0);

  const auto test = clr::data::cifar10(batches, Split::test);
  REQUIRE(test.size() == 4);
  CHECK(test.label(3) == 103 % 10);
  check_pixels(test, 100);

  write_file(batches / "batches.meta.txt",
             Bytes{'a',  '\n', 'b',  '\n', 'c',  '\n', 'd',  '\n', 'e',  '\n', 'f',
                   '\n', 'g',  '\n', 'h',  '\n', 'i',  '\n', 'j',  '\n', '\n'});
  CHECK(clr::data::cifar10(batches, Split::test).class_names().at(9) == "j");
}

TEST_CASE("CIFAR-100: fine labels by default, coarse as an option") {
  TempDir dir;
  write_file(dir / "cifar-100-binary/train.bin", cifar100_records(0, 6));
  write_file(dir / "cifar-100-binary/test.bin", cifar100_records(50, 2));
  const auto fine = clr::data::cifar100(dir.path(), Split::train);
  const auto coarse = clr::data::cifar100(dir.path(), Split::train, CifarLabels::coarse);
  REQUIRE(fine.size() == 6);
  CHECK(fine.num_classes() == 100);
  CHECK(coarse.num_classes() == 20);
  for (int i = 0; i < 6; ++i) {
    CHECK(fine.label(i) == (7 * i) % 100);
    CHECK(coarse.label(i) == i % 20);
  }
  check_pixels(fine, 0);
  const auto test = clr::data::cifar100(dir / "cifar-100-binary", Split::test);
  CHECK(test.label(1) == (7 * 51) % 100);
  check_pixels(test, 50);
}

TEST_CASE("CIFAR: truncated, empty and corrupt batches name the file and offset") {
  TempDir dir;
  const Bytes records = cifar10_records(0, 3);  // 3 x 3073 bytes
  for (std::size_t cut : {1, 3072, 3074, 9000, 9218}) {
    CAPTURE(cut);
    const auto path = dir / "data_batch_1.bin";
    write_file(path, Bytes(records.begin(), records.begin() + cut));
    const std::string message = error_of([&] { clr::data::cifar10(dir.path(), Split::train); });
    CHECK(contains(message, path.string()));
    CHECK(contains(message, "truncated at offset " + std::to_string(cut) +
                                ": the last record starts at offset " +
                                std::to_string(cut / 3073 * 3073)));
  }
  write_file(dir / "data_batch_1.bin", {});
  CHECK(contains(error_of([&] { clr::data::cifar10(dir.path(), Split::train); }), "empty file"));

  // Labels past the class count: CIFAR-10's only byte, CIFAR-100's coarse and fine bytes.
  Bytes bad = records;
  bad[3073] = 10;
  CHECK(contains(error_of([&] { clr::data::parse_cifar(bad, "b10", CifarFormat::cifar10); }),
                 "b10: label 10 at offset 3073 is out of range [0, 10)"));
  Bytes bad100 = cifar100_records(0, 2);
  bad100[3074] = 20;
  CHECK(contains(error_of([&] { clr::data::parse_cifar(bad100, "b", CifarFormat::cifar100); }),
                 "label 20 at offset 3074 is out of range [0, 20)"));
  bad100[3074] = 0;
  bad100[3075] = 100;
  CHECK(contains(error_of([&] { clr::data::parse_cifar(bad100, "b", CifarFormat::cifar100); }),
                 "label 100 at offset 3075 is out of range [0, 100)"));
  // The CIFAR-100 layout read as CIFAR-10 leaves a partial record.
  CHECK(contains(
      error_of([&] { clr::data::parse_cifar(cifar100_records(0, 2), "b", CifarFormat::cifar10); }),
      "truncated at offset 6148"));

  // Four of five train batches present.
  write_file(dir / "data_batch_1.bin", records);
  for (int b = 2; b <= 4; ++b)
    write_file(dir / ("data_batch_" + std::to_string(b) + ".bin"), records);
  CHECK(contains(error_of([&] { clr::data::cifar10(dir.path(), Split::train); }),
                 "cannot open " + (dir / "data_batch_5.bin").string()));
  CHECK(contains(error_of([&] { clr::data::cifar100(dir.path(), Split::train); }),
                 "cifar-100-binary: no train.bin in " + dir.path().string()));
}
