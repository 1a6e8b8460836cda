// Reads what tests/data/test_cifar_py_to_bin.py converted and checks every image and label
// against the formula that the fake pickles were made from.
//
// Usage: cifar_roundtrip_check ROOT cifar10|cifar100
#include <cstdio>
#include <string>

#include "clr/data/cifar.hpp"

namespace {

int failures = 0;

void expect(bool ok, const std::string& what) {
  if (!ok) {
    std::fprintf(stderr, "cifar_roundtrip_check: %s\n", what.c_str());
    ++failures;
  }
}

// Image g's plane byte j = c·1024 + y·32 + x is (37 g + 11 j) mod 256.
void check_images(const clr::data::InMemoryDataset& dataset, int first, int count) {
  expect(dataset.size() == count, dataset.name() + ": size " + std::to_string(dataset.size()));
  for (int i = 0; i < dataset.size(); ++i) {
    const auto image = dataset.get(i).image;
    const int g = first + i;
    for (int y = 0; y < 32; ++y)
      for (int x = 0; x < 32; ++x)
        for (int c = 0; c < 3; ++c)
          expect(image.at(y, x, c) == (37 * g + 11 * (c * 1024 + y * 32 + x)) % 256,
                 dataset.name() + ": pixel of image " + std::to_string(i));
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: cifar_roundtrip_check ROOT cifar10|cifar100\n");
    return 2;
  }
  const std::string root = argv[1], kind = argv[2];
  using clr::data::Split;
  try {
    if (kind == "cifar10") {
      const auto train = clr::data::cifar10(root, Split::train);
      const auto test = clr::data::cifar10(root, Split::test);
      check_images(train, 0, 15);
      check_images(test, 100, 4);
      for (int i = 0; i < train.size(); ++i) expect(train.label(i) == i % 10, "train label");
      for (int i = 0; i < test.size(); ++i) expect(test.label(i) == (100 + i) % 10, "test label");
      expect(train.class_names().at(3) == "class3", "class name from batches.meta.txt");
    } else {
      const auto fine = clr::data::cifar100(root, Split::train);
      const auto coarse = clr::data::cifar100(root, Split::train, clr::data::CifarLabels::coarse);
      const auto test = clr::data::cifar100(root, Split::test);
      check_images(fine, 0, 6);
      check_images(test, 50, 2);
      for (int i = 0; i < fine.size(); ++i) {
        expect(fine.label(i) == (7 * i) % 100, "fine label");
        expect(coarse.label(i) == i % 20, "coarse label");
      }
      expect(test.label(1) == (7 * 51) % 100, "test fine label");
      expect(fine.class_names().at(42) == "fine42", "fine class name");
      expect(coarse.class_names().at(19) == "coarse19", "coarse class name");
    }
  } catch (const clr::Error& error) {
    std::fprintf(stderr, "cifar_roundtrip_check: %s\n", error.what());
    return 1;
  }
  std::printf("cifar_roundtrip_check: %s %s\n", kind.c_str(), failures ? "FAILED" : "ok");
  return failures ? 1 : 0;
}
