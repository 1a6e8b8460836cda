// NumPy's .npy files of float32, C-order arrays: how inputs and features move between clr
// and Python (np.load / np.save) with no conversion step.
//
// Layout (numpy.lib.format): "\x93NUMPY", major, minor; the header length (u16 for 1.0,
// u32 for 2.0 and 3.0, little-endian); a Python dict literal such as
//   {'descr': '<f4', 'fortran_order': False, 'shape': (4, 1, 28, 28), }
// padded with spaces and ended by '\n'; then the values. Readers check every field and
// that the file holds exactly the values its shape promises, so a truncated or foreign
// file gives a clr::Error naming the file, never garbage or a huge allocation.
#pragma once

#include <unistd.h>

#include <bit>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "clr/core/atomic_file.hpp"
#include "clr/core/error.hpp"
#include "clr/core/shape.hpp"

namespace clr::data {

static_assert(std::endian::native == std::endian::little,
              "npy.hpp reads and writes '<f4' as the host's float layout");

struct NpyArray {
  Shape shape;                // rank 1 to 4, as clr tensors
  std::vector<float> values;  // C order
};

namespace detail {

inline constexpr char kNpyMagic[6] = {'\x93', 'N', 'U', 'M', 'P', 'Y'};

// The header dict, as far as float32 arrays need it.
struct NpyHeader {
  std::string descr;
  bool fortran_order = true;
  std::vector<std::int64_t> shape;
  bool has_descr = false, has_fortran_order = false, has_shape = false;
};

// A parser for the one Python literal that numpy writes: a dict of str keys whose values
// are a str, True/False or a tuple of ints. Anything else is a corrupt header.
class NpyHeaderParser {
 public:
  NpyHeaderParser(std::string_view text, const std::string& path) : text_(text), path_(path) {}

  NpyHeader parse() {
    NpyHeader header;
    expect('{');
    while (!accept('}')) {
      const std::string key = string_literal();
      expect(':');
      if (key == "descr") {
        header.descr = string_literal();
        header.has_descr = true;
      } else if (key == "fortran_order") {
        header.fortran_order = boolean();
        header.has_fortran_order = true;
      } else if (key == "shape") {
        header.shape = int_tuple();
        header.has_shape = true;
      } else {
        fail("unknown key '" + key + "'");
      }
      if (!accept(',')) {
        expect('}');
        break;
      }
    }
    skip_space();
    if (at_ != text_.size()) fail("text after the closing '}'");
    return header;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw Error("read_npy: " + path_ + ": bad header (" + what + " at character " +
                std::to_string(at_) + " of \"" + std::string(text_) + "\")");
  }
  void skip_space() {
    while (at_ < text_.size() && (text_[at_] == ' ' || text_[at_] == '\n')) ++at_;
  }
  bool accept(char c) {
    skip_space();
    if (at_ < text_.size() && text_[at_] == c) {
      ++at_;
      return true;
    }
    return false;
  }
  void expect(char c) {
    if (!accept(c)) fail(std::string("expected '") + c + "'");
  }
  std::string string_literal() {
    skip_space();
    if (at_ >= text_.size() || (text_[at_] != '\'' && text_[at_] != '"'))
      fail("expected a quoted string");
    const char quote = text_[at_++];
    const std::size_t end = text_.find(quote, at_);
    if (end == std::string_view::npos) fail("unterminated string");
    std::string s(text_.substr(at_, end - at_));
    at_ = end + 1;
    return s;
  }
  bool boolean() {
    skip_space();
    for (const auto& [word, value] : {std::pair{"True", true}, std::pair{"False", false}}) {
      const std::string_view w(word);
      if (text_.substr(at_, w.size()) == w) {
        at_ += w.size();
        return value;
      }
    }
    fail("expected True or False");
  }
  std::vector<std::int64_t> int_tuple() {
    expect('(');
    std::vector<std::int64_t> values;
    while (!accept(')')) {
      skip_space();
      std::int64_t value = 0;
      const std::size_t start = at_;
      while (at_ < text_.size() && text_[at_] >= '0' && text_[at_] <= '9') {
        if (value > (std::numeric_limits<std::int64_t>::max() - 9) / 10) fail("extent too large");
        value = value * 10 + (text_[at_++] - '0');
      }
      if (at_ == start) fail("expected a non-negative integer");
      values.push_back(value);
      if (!accept(',')) {
        expect(')');
        break;
      }
    }
    return values;
  }

  std::string_view text_;
  const std::string& path_;
  std::size_t at_ = 0;
};

inline std::string tuple_text(const std::vector<std::int64_t>& extents) {
  std::string text = "(";
  for (std::size_t i = 0; i < extents.size(); ++i)
    text += (i ? ", " : "") + std::to_string(extents[i]);
  return text + (extents.size() == 1 ? ",)" : ")");
}

inline std::uint32_t little_endian(const unsigned char* bytes, int count) {
  std::uint32_t value = 0;
  for (int i = count - 1; i >= 0; --i) value = value << 8 | bytes[i];
  return value;
}

}  // namespace detail

inline NpyArray read_npy(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  require(file.good(), "read_npy: cannot open ", path);
  std::error_code error;
  const std::uintmax_t file_size = std::filesystem::file_size(path, error);
  require(!error, "read_npy: cannot read the size of ", path, ": ", error.message());

  unsigned char preamble[12] = {};
  file.read(reinterpret_cast<char*>(preamble), 8);
  require(file.gcount() == 8 && std::memcmp(preamble, detail::kNpyMagic, 6) == 0,
          "read_npy: ", path, " is not a .npy file (no \\x93NUMPY magic; ", file_size, " bytes)");
  const int major = preamble[6], minor = preamble[7];
  require((major == 1 || major == 2 || major == 3) && minor == 0, "read_npy: ", path,
          ": unsupported .npy version ", major, ".", minor, " (expected 1.0, 2.0 or 3.0)");
  const int length_bytes = major == 1 ? 2 : 4;
  file.read(reinterpret_cast<char*>(preamble + 8), length_bytes);
  require(file.gcount() == length_bytes, "read_npy: ", path, " is truncated inside its header");
  const std::uint64_t header_length = detail::little_endian(preamble + 8, length_bytes);
  const std::uint64_t data_offset = 8 + length_bytes + header_length;
  require(data_offset <= file_size, "read_npy: ", path, " is truncated: its header claims ",
          header_length, " bytes, the file has ", file_size);

  std::string text(header_length, '\0');
  file.read(text.data(), static_cast<std::streamsize>(header_length));
  require(static_cast<std::uint64_t>(file.gcount()) == header_length, "read_npy: ", path,
          " is truncated inside its header");
  const detail::NpyHeader header = detail::NpyHeaderParser(text, path).parse();
  require(header.has_descr && header.has_fortran_order && header.has_shape, "read_npy: ", path,
          ": bad header (needs 'descr', 'fortran_order' and 'shape'): ", text);
  require(header.descr == "<f4", "read_npy: ", path, " has dtype '", header.descr,
          "', expected '<f4' (little-endian float32; save with x.astype(np.float32))");
  require(!header.fortran_order, "read_npy: ", path,
          " is in Fortran order, expected C order (save np.ascontiguousarray(x))");
  const auto rank = static_cast<int>(header.shape.size());
  require(rank >= 1 && rank <= Shape::kMaxRank, "read_npy: ", path, " has rank ", rank,
          ", clr tensors have rank 1 to ", Shape::kMaxRank);

  // The product is bounded by the values the file holds before it is formed: a hostile
  // shape neither overflows nor allocates.
  const std::uint64_t data_bytes = file_size - data_offset;
  const std::uint64_t available = data_bytes / sizeof(float);
  int extents[Shape::kMaxRank] = {1, 1, 1, 1};
  bool empty = false;
  for (int axis = 0; axis < rank; ++axis) {
    require(header.shape[axis] <= std::numeric_limits<int>::max(), "read_npy: ", path, ": extent ",
            header.shape[axis], " of axis ", axis, " is too large");
    extents[axis] = static_cast<int>(header.shape[axis]);
    empty = empty || extents[axis] == 0;
  }
  std::uint64_t count = empty ? 0 : 1;
  for (int axis = 0; axis < rank && !empty; ++axis) {
    const auto extent = static_cast<std::uint64_t>(extents[axis]);
    require(count <= available / extent, "read_npy: ", path, " holds ", data_bytes,
            " bytes of values, too few for its shape ", detail::tuple_text(header.shape),
            " (truncated)");
    count *= extent;
  }
  const Shape shape = rank == 1   ? Shape{extents[0]}
                      : rank == 2 ? Shape{extents[0], extents[1]}
                      : rank == 3 ? Shape{extents[0], extents[1], extents[2]}
                                  : Shape{extents[0], extents[1], extents[2], extents[3]};
  require(data_bytes == count * sizeof(float), "read_npy: ", path, " holds ", data_bytes,
          " bytes of values, its shape ", detail::tuple_text(header.shape), " needs ",
          count * sizeof(float),
          data_bytes < count * sizeof(float) ? " (truncated)" : " (trailing bytes)");

  NpyArray array{shape, std::vector<float>(count)};
  file.read(reinterpret_cast<char*>(array.values.data()),
            static_cast<std::streamsize>(count * sizeof(float)));
  require(static_cast<std::uint64_t>(file.gcount()) == count * sizeof(float), "read_npy: ", path,
          ": reading the values failed");
  return array;
}

// Writes version 1.0 (2.0 if the header outgrows 64 KiB) to path + ".tmp", flushed and
// fsync'ed, then renamed: readers see the old file or the whole new one.
inline void write_npy(const std::string& path, const Shape& shape,
                      const std::vector<float>& values) {
  require(shape.rank() >= 1, "write_npy: ", path, ": the shape is empty");
  require(static_cast<std::int64_t>(values.size()) == shape.numel(), "write_npy: ", path, ": ",
          values.size(), " values for shape ", shape, ", which holds ", shape.numel());
  std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (";
  for (int axis = 0; axis < shape.rank(); ++axis)
    dict += std::to_string(shape[axis]) + (shape.rank() == 1 || axis + 1 < shape.rank() ? "," : "");
  dict += "), }";
  // numpy pads the header with spaces so that the values start on a 64-byte boundary.
  const bool v2 = dict.size() + 1 + 10 > 65535;
  const std::size_t preamble = v2 ? 12 : 10;
  const std::size_t total = (preamble + dict.size() + 1 + 63) / 64 * 64;
  dict.append(total - preamble - dict.size() - 1, ' ');
  dict += '\n';

  std::string bytes(detail::kNpyMagic, sizeof(detail::kNpyMagic));
  bytes += static_cast<char>(v2 ? 2 : 1);
  bytes += '\0';
  const auto length = static_cast<std::uint32_t>(dict.size());
  for (std::size_t i = 0; i < (v2 ? 4u : 2u); ++i) bytes += static_cast<char>(length >> (8 * i));
  bytes += dict;

  write_file_atomically(
      path, {{bytes.data(), bytes.size()}, {values.data(), values.size() * sizeof(float)}},
      "write_npy");
}

}  // namespace clr::data
