#include <doctest/doctest.h>

#include <array>
#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "clr/data/idx.hpp"
#include "data/data_test_util.hpp"

using namespace clr::testing;
using clr::data::Split;

namespace {

void check_idx_contents(const clr::data::InMemoryDataset& dataset) {
  REQUIRE(dataset.size() == 5);
  CHECK(dataset.height() == 3);
  CHECK(dataset.width() == 4);
  CHECK(dataset.channels() == 1);
  CHECK(dataset.num_classes() == 8);  // largest label + 1
  CHECK(dataset.labels() == std::vector<int>{3, 0, 7, 1, 2});
  for (int i = 0; i < 5; ++i) {
    const auto sample = dataset.get(i);
    CHECK(sample.image.height() == 3);
    CHECK(sample.image.width() == 4);
    for (int y = 0; y < 3; ++y)
      for (int x = 0; x < 4; ++x) CHECK(sample.image.at(y, x, 0) == idx_pixel(i, y, x));
  }
}

const std::vector<std::uint8_t> kLabels = {3, 0, 7, 1, 2};

}  // namespace

TEST_CASE("IDX: plain and gzip files round trip, the format told by the magic") {
  TempDir dir;
  write_file(dir / "img", idx_images(5, 3, 4));
  write_file(dir / "lab", idx_labels(kLabels));
  write_file(dir / "img.gz", gzip(idx_images(5, 3, 4)));
  write_file(dir / "lab.gz", gzip(idx_labels(kLabels)));
  check_idx_contents(clr::data::read_idx(dir / "img", dir / "lab"));
  check_idx_contents(clr::data::read_idx(dir / "img.gz", dir / "lab.gz"));
  check_idx_contents(clr::data::read_idx(dir / "img.gz", dir / "lab"));

  // Two gzip members, as `cat a.gz b.gz` makes, decompress to their concatenation.
  const Bytes whole = idx_images(5, 3, 4);
  Bytes two = gzip(Bytes(whole.begin(), whole.begin() + 21));
  const Bytes rest = gzip(Bytes(whole.begin() + 21, whole.end()));
  two.insert(two.end(), rest.begin(), rest.end());
  write_file(dir / "two.gz", two);
  check_idx_contents(clr::data::read_idx(dir / "two.gz", dir / "lab"));

  const auto copy = clr::data::read_idx(dir / "img", dir / "lab", 10);
  CHECK(copy.num_classes() == 10);
  CHECK(contains(copy.name(), "img"));
}

TEST_CASE("IDX: truncated files name the file and the offset where they end") {
  TempDir dir;
  const Bytes images = idx_images(5, 3, 4);  // 16 + 60 bytes
  write_file(dir / "lab", idx_labels(kLabels));
  for (std::size_t cut : {0, 2, 4, 9, 15, 16, 17, 50, 75}) {
    CAPTURE(cut);
    write_file(dir / "img", Bytes(images.begin(), images.begin() + cut));
    const std::string message = error_of([&] { clr::data::read_idx(dir / "img", dir / "lab"); });
    CHECK(contains(message, (dir / "img").string()));
    CHECK(contains(message, "truncated at offset " + std::to_string(cut)));
  }
  const Bytes labels = idx_labels(kLabels);
  write_file(dir / "img", images);
  write_file(dir / "lab", Bytes(labels.begin(), labels.end() - 1));
  CHECK(contains(error_of([&] { clr::data::read_idx(dir / "img", dir / "lab"); }),
                 "lab: truncated at offset 12"));

  // The same file gzipped: the decompressed stream ends early (the offset counts
  // decompressed bytes), or the gzip stream itself is cut.
  write_file(dir / "lab", labels);
  write_file(dir / "img.gz", gzip(Bytes(images.begin(), images.begin() + 40)));
  CHECK(contains(error_of([&] { clr::data::read_idx(dir / "img.gz", dir / "lab"); }),
                 "truncated at offset 40"));
  const Bytes compressed = gzip(images);
  for (std::size_t cut : {std::size_t{1}, std::size_t{3}, std::size_t{10}, compressed.size() / 2,
                          compressed.size() - 4}) {
    CAPTURE(cut);
    write_file(dir / "img.gz", Bytes(compressed.begin(), compressed.begin() + cut));
    const std::string message = error_of([&] { clr::data::read_idx(dir / "img.gz", dir / "lab"); });
    CHECK(contains(message, (dir / "img.gz").string()));
    CHECK((contains(message, "truncated") || contains(message, "corrupt")));
  }
}

TEST_CASE("IDX: bad magic, bad extents, trailing bytes and mismatched counts are errors") {
  TempDir dir;
  write_file(dir / "lab", idx_labels(kLabels));
  Bytes images = idx_images(5, 3, 4);
  images[3] = 1;
  write_file(dir / "img", images);
  CHECK(contains(error_of([&] { clr::data::read_idx(dir / "img", dir / "lab"); }),
                 "bad magic 0x00000801 at offset 0, expected 0x00000803"));
  // Labels handed over as images, and the reverse.
  write_file(dir / "img", idx_images(5, 3, 4));
  CHECK(contains(error_of([&] { clr::data::read_idx(dir / "lab", dir / "img"); }),
                 "bad magic 0x00000801"));
  CHECK(contains(error_of([&] { clr::data::read_idx(dir / "img", dir / "img"); }),
                 "bad magic 0x00000803 at offset 0, expected 0x00000801"));

  write_file(dir / "zero", idx_images(5, 0, 4));
  CHECK(contains(error_of([&] { clr::data::read_idx(dir / "zero", dir / "lab"); }),
                 "dimension 1 at offset 8 is 0"));
  Bytes wide = idx_images(1, 3, 4);
  wide[15] = 0, wide[14] = 0, wide[13] = 1;  // 65536 columns
  write_file(dir / "wide", wide);
  CHECK(contains(error_of([&] { clr::data::read_idx(dir / "wide", dir / "lab"); }),
                 "dimension 2 at offset 12 is 65536"));

  Bytes trailing = idx_images(5, 3, 4);
  trailing.push_back(0);
  write_file(dir / "trailing", trailing);
  CHECK(contains(error_of([&] { clr::data::read_idx(dir / "trailing", dir / "lab"); }),
                 "1 unexpected bytes after the data, at offset 76"));
  write_file(dir / "trailing.gz", gzip(trailing));
  CHECK(contains(error_of([&] { clr::data::read_idx(dir / "trailing.gz", dir / "lab"); }),
                 "more data than the header's 76 bytes"));

  write_file(dir / "four", idx_images(4, 3, 4));
  CHECK(contains(error_of([&] { clr::data::read_idx(dir / "four", dir / "lab"); }),
                 "holds 4 images but " + (dir / "lab").string() + " holds 5 labels"));

  CHECK(contains(error_of([&] { clr::data::read_idx(dir / "missing", dir / "lab"); }),
                 "cannot open " + (dir / "missing").string()));
}

TEST_CASE("IDX: hostile counts fail fast without allocating for them") {
  TempDir dir;
  // 2^31 images of 28x28 claimed, 100 bytes present: 1.6 TB never requested.
  Bytes images = {0, 0, 8, 3};
  put_be32(images, 0x80000000u);
  put_be32(images, 28);
  put_be32(images, 28);
  images.resize(images.size() + 100, 7);
  write_file(dir / "img", images);
  Bytes labels = {0, 0, 8, 1};
  put_be32(labels, 0xffffffffu);
  write_file(dir / "lab", labels);
  const auto start = std::chrono::steady_clock::now();
  CHECK(contains(error_of([&] { clr::data::read_idx(dir / "img", dir / "lab"); }),
                 "truncated at offset 116: the header claims 2147483648 images of 28x28, which "
                 "need 1683627180048 bytes"));
  // Gzipped, the claim is believed only as far as the stream really goes.
  write_file(dir / "img.gz", gzip(images));
  CHECK(contains(error_of([&] { clr::data::read_idx(dir / "img.gz", dir / "lab"); }),
                 "truncated at offset 116"));
  write_file(dir / "img", idx_images(5, 3, 4));
  write_file(dir / "lab.gz", gzip(labels));
  CHECK(contains(error_of([&] { clr::data::read_idx(dir / "img", dir / "lab.gz"); }),
                 "truncated at offset 8: the header claims 4294967295 labels"));
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
}

TEST_CASE("IDX: labels at or past num_classes are errors naming the offset") {
  TempDir dir;
  write_file(dir / "img", idx_images(5, 3, 4));
  write_file(dir / "lab", idx_labels({1, 2, 3, 10, 4}));
  CHECK(contains(error_of([&] { clr::data::read_idx(dir / "img", dir / "lab", 10); }),
                 "lab: label 10 at offset 11 is out of range [0, 10)"));
  // mnist() expects 10 classes.
  write_file(dir / "train-images-idx3-ubyte", idx_images(5, 3, 4));
  write_file(dir / "train-labels-idx1-ubyte", idx_labels({1, 2, 3, 10, 4}));
  CHECK(contains(error_of([&] { clr::data::mnist(dir.path(), Split::train); }),
                 "label 10 at offset 11"));
}

TEST_CASE("IDX: mnist() and fashion_mnist() find the standard names, gzipped or not") {
  TempDir dir;
  write_file(dir / "raw/t10k-images-idx3-ubyte.gz", gzip(idx_images(5, 3, 4)));
  write_file(dir / "raw/t10k-labels.idx1-ubyte", idx_labels(kLabels));
  const auto test = clr::data::fashion_mnist(dir.path(), Split::test);
  CHECK(test.size() == 5);
  CHECK(test.num_classes() == 10);
  CHECK(test.class_names().at(9) == "Ankle boot");
  CHECK(test.get(2).label == 7);
  CHECK(test.get(4).image.at(2, 3, 0) == idx_pixel(4, 2, 3));
  const std::string message = error_of([&] { clr::data::mnist(dir.path(), Split::train); });
  CHECK(contains(message, "no images file for the train split"));
  CHECK(contains(message, (dir.path() / "MNIST/raw/train-images.idx3-ubyte.gz").string()));
}

TEST_CASE("IDX: the Fashion-MNIST files of Debian's dataset-fashion-mnist") {
  const std::filesystem::path root = "/usr/share/datasets/fashion-mnist";
  if (!std::filesystem::exists(root / "train-images-idx3-ubyte.gz")) {
    MESSAGE("skipped: ", root.string(), " absent (apt-get install dataset-fashion-mnist)");
    return;
  }
  const auto train = clr::data::fashion_mnist(root, Split::train);
  const auto test = clr::data::fashion_mnist(root, Split::test);
  REQUIRE(train.size() == 60000);
  REQUIRE(test.size() == 10000);
  CHECK(train.height() == 28);
  CHECK(train.width() == 28);
  CHECK(train.channels() == 1);
  CHECK(train.label(0) == 9);  // an ankle boot opens the training set
  CHECK(test.label(0) == 9);
  // Both splits are balanced: 6000 and 1000 images per class.
  std::array<int, 10> train_counts{}, test_counts{};
  for (int label : train.labels()) ++train_counts.at(label);
  for (int label : test.labels()) ++test_counts.at(label);
  for (int k = 0; k < 10; ++k) {
    CHECK(train_counts[k] == 6000);
    CHECK(test_counts[k] == 1000);
  }
  // Fashion-MNIST images are centred objects on a black background.
  const auto first = train.get(0).image;
  CHECK(first.at(0, 0, 0) == 0);
  int lit = 0;
  for (int y = 0; y < 28; ++y)
    for (int x = 0; x < 28; ++x) lit += first.at(y, x, 0) > 0;
  CHECK(lit > 100);
}
