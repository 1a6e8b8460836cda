// Class labels from a NumPy .npy file of any integer dtype (what np.save writes for an
// int64 label array by default), or of floats holding whole numbers: shape (N,).
// The header is parsed by data/npy.hpp's parser; only the dtypes differ from read_npy.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "clr/core/error.hpp"
#include "clr/data/npy.hpp"

namespace clr::viz {

inline std::vector<int> read_npy_labels(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  require(file.good(), "read_npy_labels: cannot open ", path);
  const std::vector<char> bytes((std::istreambuf_iterator<char>(file)),
                                std::istreambuf_iterator<char>());
  require(bytes.size() >= 10 && std::memcmp(bytes.data(), data::detail::kNpyMagic, 6) == 0,
          "read_npy_labels: ", path, " is not a .npy file (no \\x93NUMPY magic)");
  const int major = static_cast<unsigned char>(bytes[6]);
  const int length_bytes = major == 1 ? 2 : 4;
  require(major >= 1 && major <= 3 && bytes.size() >= 8u + length_bytes, "read_npy_labels: ", path,
          ": unsupported .npy version ", major);
  const std::uint64_t header_length = data::detail::little_endian(
      reinterpret_cast<const unsigned char*>(bytes.data()) + 8, length_bytes);
  const std::uint64_t offset = 8 + length_bytes + header_length;
  require(offset <= bytes.size(), "read_npy_labels: ", path, " is truncated inside its header");
  const std::string text(bytes.data() + 8 + length_bytes, header_length);
  const data::detail::NpyHeader header = data::detail::NpyHeaderParser(text, path).parse();
  require(header.has_descr && header.has_shape && !header.fortran_order && header.shape.size() == 1,
          "read_npy_labels: ", path, " must hold a C-order vector (N,), its header is ", text);
  const std::string& d = header.descr;
  const bool integer = d.size() == 3 && (d[1] == 'i' || d[1] == 'u') &&
                       (d[2] == '1' || d[2] == '2' || d[2] == '4' || d[2] == '8');
  const bool real = d.size() == 3 && d[1] == 'f' && (d[2] == '4' || d[2] == '8');
  require((integer || real) && (d[0] == '<' || d[0] == '|'), "read_npy_labels: ", path,
          " has dtype '", d, "', expected little-endian integers or floats (e.g. '<i8')");
  const int size = d[2] - '0';
  const std::uint64_t n = static_cast<std::uint64_t>(header.shape[0]);
  require((bytes.size() - offset) == n * size, "read_npy_labels: ", path, " holds ",
          bytes.size() - offset, " bytes of values, its shape (", n, ",) needs ", n * size);
  std::vector<int> labels(n);
  const char* p = bytes.data() + offset;
  for (std::uint64_t i = 0; i < n; ++i, p += size) {
    double value = 0;
    if (d[1] == 'f') {
      if (size == 4) {
        float f;
        std::memcpy(&f, p, 4);
        value = f;
      } else {
        std::memcpy(&value, p, 8);
      }
    } else {
      std::int64_t v = 0;
      std::uint64_t u = 0;
      std::memcpy(&u, p, size);
      v = static_cast<std::int64_t>(u);
      if (d[1] == 'i' && size < 8 && (u >> (8 * size - 1)) & 1) v -= std::int64_t{1} << (8 * size);
      value = static_cast<double>(v);
    }
    require(value >= 0 && value < (1 << 20) && value == std::floor(value),
            "read_npy_labels: ", path, ": label ", i, " is ", value,
            ", expected a whole number >= 0");
    labels[i] = static_cast<int>(value);
  }
  return labels;
}

}  // namespace clr::viz
