// Bytes in, checked: whole-file reads, big-endian fields, and gzip decompression that only
// ever allocates for data the stream really holds. The dataset readers build on these, so
// every truncated, corrupt or hostile file becomes a clr::Error naming the file and offset.
#pragma once

#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include "clr/core/error.hpp"

namespace clr::data::detail {

using Bytes = std::vector<std::uint8_t>;

// The whole file; its real size bounds the allocation whatever the contents claim.
inline Bytes read_file(const std::filesystem::path& path) {
  std::ifstream file(path, std::ios::binary | std::ios::ate);
  require(file.good(), "cannot open ", path.string());
  const std::streamoff size = file.tellg();
  require(size >= 0, "cannot read the size of ", path.string());
  Bytes bytes(static_cast<std::size_t>(size));
  file.seekg(0);
  file.read(reinterpret_cast<char*>(bytes.data()), size);
  require(file.gcount() == size, "cannot read ", path.string(), ": got ", file.gcount(), " of ",
          size, " bytes");
  return bytes;
}

inline std::uint32_t load_be32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         std::uint32_t{p[3]};
}

inline bool is_gzip(std::span<const std::uint8_t> bytes) {
  return bytes.size() >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b;
}

// Streams a gzip file (one or more members, as `cat a.gz b.gz` makes) through zlib. The
// caller asks for as many bytes as it can justify — a header first, then what the header
// promises — and the output grows only as decompressed data arrives, so neither a header
// claiming 2^31 images nor a zip bomb makes a large allocation up front.
class GzipReader {
 public:
  GzipReader(std::span<const std::uint8_t> compressed, std::string name)
      : compressed_(compressed), name_(std::move(name)) {
    // 16 + MAX_WBITS: a gzip wrapper, not a raw zlib stream.
    require(inflateInit2(&stream_, 16 + MAX_WBITS) == Z_OK, name_, ": zlib cannot start");
    stream_.next_in = const_cast<Bytef*>(compressed_.data());
    stream_.avail_in = static_cast<uInt>(std::min<std::size_t>(compressed_.size(), kChunk));
  }
  GzipReader(const GzipReader&) = delete;
  GzipReader& operator=(const GzipReader&) = delete;
  ~GzipReader() { inflateEnd(&stream_); }

  // Appends up to `count` decompressed bytes to `out`; fewer only at the end of the data.
  std::size_t read(Bytes& out, std::uint64_t count) {
    std::uint64_t got = 0;
    while (got < count && !finished_) {
      // Grow by at most 1 MiB a step, never by what was asked: the request may be a lie.
      const std::size_t step =
          static_cast<std::size_t>(std::min<std::uint64_t>(count - got, kChunk));
      const std::size_t before = out.size();
      out.resize(before + step);
      stream_.next_out = out.data() + before;
      stream_.avail_out = static_cast<uInt>(step);
      inflate_some();
      const std::size_t produced = step - stream_.avail_out;
      out.resize(before + produced);
      got += produced;
    }
    return static_cast<std::size_t>(got);
  }

  // The decompressed bytes handed out so far: the offset that errors report.
  std::uint64_t offset() const { return produced_total_; }
  bool at_end() {
    Bytes probe;
    return read(probe, 1) == 0;
  }

 private:
  static constexpr std::size_t kChunk = std::size_t{1} << 20;

  std::size_t consumed() const {
    return static_cast<std::size_t>(stream_.next_in - compressed_.data());
  }

  void inflate_some() {
    while (stream_.avail_out > 0 && !finished_) {
      if (stream_.avail_in == 0) {
        const std::size_t left = compressed_.size() - consumed();
        stream_.avail_in = static_cast<uInt>(std::min(left, kChunk));
      }
      const uInt room = stream_.avail_out;
      const int status = inflate(&stream_, Z_NO_FLUSH);
      produced_total_ += room - stream_.avail_out;
      if (status == Z_STREAM_END) {
        // Another member may follow; anything else after the last member is corrupt.
        if (consumed() == compressed_.size()) {
          finished_ = true;
        } else {
          require(inflateReset(&stream_) == Z_OK, name_, ": zlib cannot reset");
        }
      } else if (status == Z_BUF_ERROR && stream_.avail_in == 0 &&
                 consumed() == compressed_.size()) {
        throw Error(detail_message("the gzip stream is truncated (compressed data ends at byte " +
                                   std::to_string(consumed()) + ")"));
      } else if (status != Z_OK) {
        throw Error(detail_message(
            std::string("corrupt gzip data at compressed byte ") + std::to_string(consumed()) +
            " (zlib: " + (stream_.msg ? stream_.msg : "error " + std::to_string(status)) + ")"));
      }
    }
  }

  std::string detail_message(const std::string& what) const {
    return name_ + ": " + what + ", after " + std::to_string(produced_total_) +
           " decompressed bytes";
  }

  std::span<const std::uint8_t> compressed_;
  std::string name_;
  z_stream stream_{};
  std::uint64_t produced_total_ = 0;
  bool finished_ = false;
};

// A file's contents, decompressed when they start with the gzip magic (the extension is not
// trusted). `header_bytes` is read first; `total_from_header(header)` then says how many bytes
// the whole file must hold, and only that many are decompressed — one more byte proves there
// is no trailing data. Plain files are returned as they are: their size is already real, and
// the parser checks it against the header.
template <class TotalFromHeader>
Bytes decompress_if_gzip(Bytes bytes, const std::string& name, std::size_t header_bytes,
                         TotalFromHeader total_from_header) {
  if (!is_gzip(bytes)) return bytes;
  GzipReader reader(bytes, name);
  Bytes out;
  if (reader.read(out, header_bytes) < header_bytes) return out;  // the parser says "truncated"
  const std::uint64_t total = total_from_header(std::span<const std::uint8_t>(out));
  if (total > out.size()) reader.read(out, total - out.size());
  require(out.size() < total || reader.at_end(), name, ": more data than the header's ", total,
          " bytes (decompressed offset ", total, ")");
  return out;
}

}  // namespace clr::data::detail
