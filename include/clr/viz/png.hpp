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

#include "clr/core/atomic_file.hpp"
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
  write_file_atomically(path, {{bytes.data(), bytes.size()}}, "viz::write_png");
}

}  // namespace clr::viz
