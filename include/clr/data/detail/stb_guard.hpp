// Checks that run before stb_image sees a file, for the hostile inputs that Debian 12's
// stb_image 2.27 mishandles (found by tests/fuzz/fuzz_image). Each walks the file the way stb
// does and refuses what would hurt, with a clr::Error naming the file and the offset.
//
// JPEG: stb copies a DHT segment's code lengths into a 257-entry array and its symbols into a
// 256-entry one without checking the 16 counts' sum, which a hostile file sets to up to 4080:
// a heap overflow inside stb's decoder state (upstream added the check in 2.28). The walk
// checks every DHT segment stb could reach; past the first scan, where stb's position depends
// on how far its entropy decoder read, every FF C4 pair counts as a DHT marker, a superset of
// what stb may parse.
//
// PNG: stb grows its IDAT buffer to a chunk's declared length before reading it, so a 100-byte
// file claiming a 2 GiB chunk makes a 2 GiB allocation. The walk refuses chunks longer than
// the bytes left.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "clr/core/error.hpp"

namespace clr::data::detail {

// Checks the DHT segment whose length field starts at `at` as stb_image parses it.
inline void check_jpeg_dht(std::span<const std::uint8_t> bytes, std::size_t at,
                           const std::string& name) {
  // Past the end stb reads zeros, and goes on: so does this walk.
  const auto byte = [&](std::size_t i) -> long { return i < bytes.size() ? bytes[i] : 0; };
  long left = ((byte(at) << 8) | byte(at + 1)) - 2;
  at += 2;
  while (left > 0 && at < bytes.size()) {
    const long table = byte(at);
    if ((table >> 4) > 1 || (table & 15) > 3) return;  // stb stops: "bad DHT header"
    long codes = 0;
    for (int i = 1; i <= 16; ++i) codes += byte(at + i);
    require(codes <= 256, name, ": corrupt JPEG: the Huffman table at offset ", at, " declares ",
            codes, " codes, at most 256");
    left -= 17 + codes;
    at += 17 + static_cast<std::size_t>(codes);
  }
}

inline void check_png_chunks(std::span<const std::uint8_t> bytes, const std::string& name) {
  static constexpr std::uint8_t kSignature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  if (bytes.size() < 8 || !std::equal(kSignature, kSignature + 8, bytes.begin())) return;
  const auto be32 = [&](std::size_t at) {
    return (std::uint32_t{bytes[at]} << 24) | (std::uint32_t{bytes[at + 1]} << 16) |
           (std::uint32_t{bytes[at + 2]} << 8) | bytes[at + 3];
  };
  for (std::size_t pos = 8; pos + 8 <= bytes.size();) {
    const std::uint32_t length = be32(pos), type = be32(pos + 4);
    if (type == 0x49454e44u) return;  // IEND: stb stops reading
    const std::size_t left = bytes.size() - pos - 8;
    require(length <= left, name, ": corrupt PNG: the chunk at offset ", pos, " declares ", length,
            " bytes, the file has ", left, " left");
    pos += 12 + std::size_t{length};  // length, type, data, CRC
  }
}

inline void check_jpeg_tables(std::span<const std::uint8_t> bytes, const std::string& name) {
  // stb reads a file as JPEG when its first marker is SOI (FF, fill bytes FF, D8).
  std::size_t pos = 0;
  while (pos < bytes.size() && bytes[pos] == 0xff) ++pos;
  if (pos == 0 || pos >= bytes.size() || bytes[pos] != 0xd8) return;
  ++pos;
  // The header: markers and their length-prefixed segments, up to the first scan.
  while (pos < bytes.size()) {
    if (bytes[pos] != 0xff) {  // stb skips padding between segments
      ++pos;
      continue;
    }
    while (pos < bytes.size() && bytes[pos] == 0xff) ++pos;
    if (pos + 2 >= bytes.size()) return;
    const int marker = bytes[pos++];
    const bool segment = (marker >= 0xc0 && marker <= 0xcf) || marker == 0xdb || marker == 0xdd ||
                         (marker >= 0xe0 && marker <= 0xef) || marker == 0xfe;
    if (!segment) break;  // a scan, or what stb rejects: check the rest conservatively
    if (marker == 0xc4) check_jpeg_dht(bytes, pos, name);
    const std::size_t length = (bytes[pos] << 8) | bytes[pos + 1];
    if (length < 2) break;
    pos += length;
  }
  for (; pos + 1 < bytes.size(); ++pos)
    if (bytes[pos] == 0xff && bytes[pos + 1] == 0xc4) check_jpeg_dht(bytes, pos + 2, name);
}

inline void check_before_stb(std::span<const std::uint8_t> bytes, const std::string& name) {
  check_jpeg_tables(bytes, name);
  check_png_chunks(bytes, name);
}

}  // namespace clr::data::detail
