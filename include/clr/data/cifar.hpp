// CIFAR-10 and CIFAR-100 in their binary versions (Krizhevsky 2009).
//
// CIFAR-10: data_batch_1.bin .. data_batch_5.bin (train), test_batch.bin; each record is
// 1 label byte then 3072 pixel bytes. CIFAR-100: train.bin, test.bin; each record is a
// coarse label byte (20 superclasses), a fine label byte (100 classes), then 3072 pixel
// bytes. Pixels are three 32x32 planes, R then G then B (CHW), which the reader interleaves
// into the HWC layout that augment::Image holds. torchvision's pickled "python versions"
// convert to these files with tools/cifar_py_to_bin.py.
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "clr/core/error.hpp"
#include "clr/data/bytes.hpp"
#include "clr/data/dataset.hpp"

namespace clr::data {

enum class CifarFormat { cifar10, cifar100 };
// CIFAR-100's two label sets; fine (100 classes) is what papers report.
enum class CifarLabels { fine, coarse };

namespace detail {

inline constexpr int kCifarSide = 32;
inline constexpr std::size_t kCifarPixels = 3 * kCifarSide * kCifarSide;

// Appends the records of one batch file: pixels as HWC to `pixels`, the chosen labels to
// `labels`. Every label byte is checked, the unused CIFAR-100 set too: a bad one means a
// corrupt file.
inline void append_cifar(std::span<const std::uint8_t> bytes, const std::string& name,
                         CifarFormat format, CifarLabels which, Bytes& pixels,
                         std::vector<int>& labels) {
  const std::size_t label_bytes = format == CifarFormat::cifar10 ? 1 : 2;
  const std::size_t record = label_bytes + kCifarPixels;
  require(!bytes.empty(), name, ": empty file, expected ", record, "-byte CIFAR records");
  require(bytes.size() % record == 0, name, ": truncated at offset ", bytes.size(),
          ": the last record starts at offset ", bytes.size() / record * record, " and is ",
          record - bytes.size() % record, " bytes short of ", record);
  const std::size_t count = bytes.size() / record;
  const std::size_t first = pixels.size();
  pixels.resize(first + count * kCifarPixels);
  labels.reserve(labels.size() + count);
  for (std::size_t r = 0; r < count; ++r) {
    const std::uint8_t* in = bytes.data() + r * record;
    for (std::size_t k = 0; k < label_bytes; ++k) {
      // CIFAR-100 stores the coarse label first.
      const int limit = format == CifarFormat::cifar10 ? 10 : (k == 0 ? 20 : 100);
      require(in[k] < limit, name, ": label ", int{in[k]}, " at offset ", r * record + k,
              " is out of range [0, ", limit, ")");
    }
    const std::size_t used = format == CifarFormat::cifar10 || which == CifarLabels::coarse ? 0 : 1;
    labels.push_back(in[used]);
    const std::uint8_t* planes = in + label_bytes;
    std::uint8_t* out = pixels.data() + first + r * kCifarPixels;
    constexpr std::size_t kPlane = kCifarSide * kCifarSide;
    for (std::size_t p = 0; p < kPlane; ++p)
      for (std::size_t c = 0; c < 3; ++c) out[p * 3 + c] = planes[c * kPlane + p];
  }
}

inline int cifar_classes(CifarFormat format, CifarLabels which) {
  return format == CifarFormat::cifar10 ? 10 : which == CifarLabels::fine ? 100 : 20;
}

// Class names from the meta file that ships with the binary version, one per line.
inline std::vector<std::string> cifar_names(const std::filesystem::path& file, int expected) {
  std::ifstream in(file);
  if (!in) return {};
  std::vector<std::string> names;
  for (std::string line; std::getline(in, line);) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (!line.empty()) names.push_back(line);
  }
  require(static_cast<int>(names.size()) == expected, file.string(), ": ", names.size(),
          " class names, expected ", expected);
  return names;
}

inline std::filesystem::path cifar_dir(const std::filesystem::path& root, const char* folder,
                                       const char* probe) {
  for (const auto& dir : {root, root / folder}) {
    std::error_code error;
    if (std::filesystem::is_regular_file(dir / probe, error)) return dir;
  }
  throw Error(std::string(folder) + ": no " + probe + " in " + root.string() + " or " +
              (root / folder).string());
}

}  // namespace detail

// One batch's bytes (read from disk or handed over by a caller such as the fuzzer).
inline InMemoryDataset parse_cifar(std::span<const std::uint8_t> bytes, const std::string& name,
                                   CifarFormat format, CifarLabels which = CifarLabels::fine) {
  detail::Bytes pixels;
  std::vector<int> labels;
  detail::append_cifar(bytes, name, format, which, pixels, labels);
  const auto count = static_cast<std::int64_t>(labels.size());
  return InMemoryDataset(name, std::make_shared<const detail::Bytes>(std::move(pixels)), 0, count,
                         detail::kCifarSide, detail::kCifarSide, 3, std::move(labels),
                         detail::cifar_classes(format, which));
}

// Batch files concatenated in the order given.
inline InMemoryDataset read_cifar(const std::vector<std::filesystem::path>& files,
                                  CifarFormat format, CifarLabels which = CifarLabels::fine,
                                  std::string dataset_name = {},
                                  std::vector<std::string> class_names = {}) {
  require(!files.empty(), "read_cifar: no batch files given");
  detail::Bytes pixels;
  std::vector<int> labels;
  for (const auto& file : files)  // one file in memory at a time besides the result
    detail::append_cifar(detail::read_file(file), file.string(), format, which, pixels, labels);
  if (dataset_name.empty()) dataset_name = "CIFAR " + files.front().string();
  const auto count = static_cast<std::int64_t>(labels.size());
  return InMemoryDataset(std::move(dataset_name),
                         std::make_shared<const detail::Bytes>(std::move(pixels)), 0, count,
                         detail::kCifarSide, detail::kCifarSide, 3, std::move(labels),
                         detail::cifar_classes(format, which), std::move(class_names));
}

// CIFAR-10 from `root` or `root/cifar-10-batches-bin` (the archive's folder): 50000 train
// or 10000 test images, 32x32 RGB, 10 classes.
inline InMemoryDataset cifar10(const std::filesystem::path& root, Split split) {
  const auto dir = detail::cifar_dir(root, "cifar-10-batches-bin",
                                     split == Split::train ? "data_batch_1.bin" : "test_batch.bin");
  std::vector<std::filesystem::path> files;
  if (split == Split::train) {
    for (int i = 1; i <= 5; ++i)
      files.push_back(dir / ("data_batch_" + std::to_string(i) + ".bin"));
  } else {
    files.push_back(dir / "test_batch.bin");
  }
  auto names = detail::cifar_names(dir / "batches.meta.txt", 10);
  if (names.empty())
    names = {"airplane", "automobile", "bird",  "cat",  "deer",
             "dog",      "frog",       "horse", "ship", "truck"};
  return read_cifar(files, CifarFormat::cifar10, CifarLabels::fine,
                    std::string("cifar10 ") + to_string(split) + " (" + dir.string() + ")",
                    std::move(names));
}

// CIFAR-100 from `root` or `root/cifar-100-binary`: 50000 train or 10000 test images, 100
// fine classes (default) or 20 coarse ones.
inline InMemoryDataset cifar100(const std::filesystem::path& root, Split split,
                                CifarLabels which = CifarLabels::fine) {
  const char* file = split == Split::train ? "train.bin" : "test.bin";
  const auto dir = detail::cifar_dir(root, "cifar-100-binary", file);
  const bool fine = which == CifarLabels::fine;
  auto names = detail::cifar_names(dir / (fine ? "fine_label_names.txt" : "coarse_label_names.txt"),
                                   fine ? 100 : 20);
  return read_cifar({dir / file}, CifarFormat::cifar100, which,
                    std::string("cifar100 ") + to_string(split) + " (" + dir.string() + ")",
                    std::move(names));
}

}  // namespace clr::data
