// IDX files (LeCun's MNIST format, also Fashion-MNIST's): images `idx3-ubyte` and labels
// `idx1-ubyte`, plain or gzip-compressed.
//
// Layout, big-endian: u8 0, u8 0, u8 type (0x08 = unsigned byte), u8 rank, then `rank` u32
// extents ([count, rows, cols] for images, [count] for labels), then the bytes row-major.
// The header is checked against the real (decompressed) size before anything is
// allocated for it, so a header claiming 2^31 images is an error naming the file and the
// offset, not a 1.6 TB allocation.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <iomanip>
#include <memory>
#include <span>
#include <sstream>
#include <string>
#include <vector>

#include "clr/core/error.hpp"
#include "clr/data/bytes.hpp"
#include "clr/data/dataset.hpp"

namespace clr::data {

namespace detail {

inline std::string hex32(std::uint32_t value) {
  std::ostringstream out;
  out << "0x" << std::hex << std::setw(8) << std::setfill('0') << value;
  return out.str();
}

struct IdxHeader {
  std::array<std::uint32_t, 3> dims{};
  std::size_t header_bytes = 0;
  std::uint64_t total_bytes = 0;  // header + data: what the file must hold exactly
};

// Checks the magic and extents of an unsigned-byte IDX file of rank 1 (labels) or 3 (images).
inline IdxHeader idx_header(std::span<const std::uint8_t> bytes, const std::string& name,
                            int rank) {
  const char* what = rank == 3 ? "images" : "labels";
  IdxHeader header;
  header.header_bytes = 4 + 4 * static_cast<std::size_t>(rank);
  require(bytes.size() >= 4, name, ": truncated at offset ", bytes.size(),
          ": an IDX file starts with a 4-byte magic");
  const std::uint32_t magic = load_be32(bytes.data());
  const std::uint32_t expected = 0x0800u | static_cast<std::uint32_t>(rank);
  require(magic == expected, name, ": bad magic ", hex32(magic), " at offset 0, expected ",
          hex32(expected), " (IDX ", what, ": unsigned bytes, ", rank, " dimension",
          rank > 1 ? "s" : "", ")");
  require(bytes.size() >= header.header_bytes, name, ": truncated at offset ", bytes.size(),
          ": the IDX header needs ", header.header_bytes, " bytes");
  std::uint64_t data = 1;
  for (int axis = 0; axis < rank; ++axis) {
    const std::uint32_t extent = load_be32(bytes.data() + 4 + 4 * axis);
    // Rows and columns become ints; 2^16 is far past any image stored this way.
    const std::uint32_t most = axis == 0 ? 0xffffffffu : 0xffffu;
    require(extent > 0 && extent <= most, name, ": dimension ", axis, " at offset ", 4 + 4 * axis,
            " is ", extent, ", expected 1 to ", most);
    header.dims[axis] = extent;
    data *= extent;  // < 2^32 · 2^16 · 2^16: no overflow
  }
  header.total_bytes = header.header_bytes + data;
  return header;
}

// The file's bytes, gunzipped if needed (reading no more than its header promises), and
// checked to be exactly as long as the header says.
inline std::pair<Bytes, IdxHeader> idx_contents(Bytes file, const std::string& name, int rank) {
  const std::size_t header_bytes = 4 + 4 * static_cast<std::size_t>(rank);
  Bytes bytes = decompress_if_gzip(
      std::move(file), name, header_bytes,
      [&](std::span<const std::uint8_t> head) { return idx_header(head, name, rank).total_bytes; });
  const IdxHeader header = idx_header(bytes, name, rank);
  require(bytes.size() >= header.total_bytes, name, ": truncated at offset ", bytes.size(),
          ": the header claims ", header.dims[0], rank == 3 ? " images" : " labels",
          rank == 3 ? " of " + std::to_string(header.dims[1]) + "x" + std::to_string(header.dims[2])
                    : std::string(),
          ", which need ", header.total_bytes, " bytes");
  require(bytes.size() == header.total_bytes, name, ": ", bytes.size() - header.total_bytes,
          " unexpected bytes after the data, at offset ", header.total_bytes);
  return {std::move(bytes), header};
}

}  // namespace detail

// Builds a dataset from the contents of an images file and a labels file (plain or gzip),
// as read from disk or handed over by a caller (the fuzzer). `num_classes` 0 takes the
// largest label + 1; otherwise every label must be below it.
inline InMemoryDataset parse_idx(detail::Bytes images_file, detail::Bytes labels_file,
                                 const std::string& images_name, const std::string& labels_name,
                                 int num_classes = 0, std::vector<std::string> class_names = {},
                                 std::string dataset_name = {}) {
  auto [image_bytes, images] = detail::idx_contents(std::move(images_file), images_name, 3);
  const auto [label_bytes, labels_header] =
      detail::idx_contents(std::move(labels_file), labels_name, 1);
  require(images.dims[0] == labels_header.dims[0], images_name, " holds ", images.dims[0],
          " images but ", labels_name, " holds ", labels_header.dims[0], " labels");
  std::vector<int> labels(label_bytes.begin() + 8, label_bytes.end());
  int largest = 0;
  for (std::size_t i = 0; i < labels.size(); ++i) {
    require(num_classes == 0 || labels[i] < num_classes, labels_name, ": label ", labels[i],
            " at offset ", 8 + i, " is out of range [0, ", num_classes, ")");
    largest = std::max(largest, labels[i]);
  }
  if (num_classes == 0) num_classes = largest + 1;
  if (dataset_name.empty()) dataset_name = "IDX " + images_name;
  return InMemoryDataset(
      std::move(dataset_name), std::make_shared<const detail::Bytes>(std::move(image_bytes)), 16,
      images.dims[0], static_cast<int>(images.dims[1]), static_cast<int>(images.dims[2]), 1,
      std::move(labels), num_classes, std::move(class_names));
}

inline InMemoryDataset read_idx(const std::filesystem::path& images,
                                const std::filesystem::path& labels, int num_classes = 0,
                                std::vector<std::string> class_names = {},
                                std::string dataset_name = {}) {
  return parse_idx(detail::read_file(images), detail::read_file(labels), images.string(),
                   labels.string(), num_classes, std::move(class_names), std::move(dataset_name));
}

namespace detail {

// `<split>-<kind>-idx<r>-ubyte` as distributed, or with a dot before "idx" (some mirrors),
// either with ".gz"; in root, root/raw or root/<folder>/raw (torchvision's layout).
inline std::filesystem::path find_idx_file(const std::filesystem::path& root,
                                           const std::string& folder, const std::string& split,
                                           const std::string& kind) {
  const std::string rank = kind == "images" ? "idx3" : "idx1";
  std::string tried;
  for (const auto& dir : {root, root / "raw", root / folder / "raw"}) {
    for (const char* sep : {"-", "."}) {
      for (const char* ext : {"", ".gz"}) {
        const auto path = dir / (split + "-" + kind + sep + rank + "-ubyte" + ext);
        std::error_code error;
        if (std::filesystem::is_regular_file(path, error)) return path;
        tried += tried.empty() ? "" : ", ";
        tried += path.string();
      }
    }
  }
  throw Error(folder + ": no " + kind + " file for the " + split + " split; looked for " + tried);
}

inline InMemoryDataset idx_dataset(const std::filesystem::path& root, Split split,
                                   const std::string& folder, const std::string& dataset,
                                   std::vector<std::string> class_names) {
  const std::string prefix = split == Split::train ? "train" : "t10k";
  const auto images = find_idx_file(root, folder, prefix, "images");
  const auto labels = find_idx_file(root, folder, prefix, "labels");
  return read_idx(images, labels, 10, std::move(class_names),
                  dataset + " " + to_string(split) + " (" + images.string() + ")");
}

}  // namespace detail

// MNIST: 60000 train / 10000 test digits, 28x28 grayscale, 10 classes.
inline InMemoryDataset mnist(const std::filesystem::path& root, Split split) {
  return detail::idx_dataset(root, split, "MNIST", "mnist",
                             {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"});
}

// Fashion-MNIST (Xiao et al. 2017): MNIST's layout and sizes, Zalando article pictures. The
// Debian package dataset-fashion-mnist puts it in /usr/share/datasets/fashion-mnist.
inline InMemoryDataset fashion_mnist(const std::filesystem::path& root, Split split) {
  return detail::idx_dataset(root, split, "FashionMNIST", "fashion-mnist",
                             {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal",
                              "Shirt", "Sneaker", "Bag", "Ankle boot"});
}

}  // namespace clr::data
