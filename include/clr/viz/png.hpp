// A Canvas as a PNG file: encoded by stb_image_write, written to a temporary file, flushed
// and renamed (as checkpoints are), so a crash never leaves a half-written figure under
// the final name and a reader (a notebook, a web page) sees the old plot or the new one.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "clr/core/error.hpp"
#include "clr/viz/canvas.hpp"
#include "clr/viz/detail/stb_image_write.hpp"

namespace clr::viz {

// The PNG bytes of `canvas` (8-bit RGB). Deterministic: the same pixels give the same bytes.
inline std::vector<std::uint8_t> encode_png(const Canvas& canvas) {
  std::vector<std::uint8_t> bytes;
  const int ok = stbi_write_png_to_func(
      [](void* context, void* data, int size) {
        auto* out = static_cast<std::vector<std::uint8_t>*>(context);
        const auto* begin = static_cast<const std::uint8_t*>(data);
        out->insert(out->end(), begin, begin + size);
      },
      &bytes, canvas.width(), canvas.height(), 3, canvas.pixels().data(), canvas.width() * 3);
  require(ok != 0 && !bytes.empty(), "viz::encode_png: stb_image_write failed on a ",
          canvas.width(), "x", canvas.height(), " canvas (out of memory?)");
  return bytes;
}

inline void write_png(const Canvas& canvas, const std::string& path) {
  const std::vector<std::uint8_t> bytes = encode_png(canvas);
  const std::string temporary = path + ".tmp";
  std::FILE* file = std::fopen(temporary.c_str(), "wb");
  require(file != nullptr, "viz::write_png: cannot create ", temporary,
          " (does the folder exist and is it writable?)");
  const bool written = std::fwrite(bytes.data(), 1, bytes.size(), file) == bytes.size() &&
                       std::fflush(file) == 0 && ::fsync(::fileno(file)) == 0;
  if (std::fclose(file) != 0 || !written) {
    std::remove(temporary.c_str());
    throw Error("viz::write_png: writing " + temporary + " failed (disk full?)");
  }
  std::error_code error;
  std::filesystem::rename(temporary, path, error);
  if (error) {
    std::remove(temporary.c_str());
    throw Error("viz::write_png: cannot move " + temporary + " to " + path + ": " +
                error.message());
  }
}

}  // namespace clr::viz
