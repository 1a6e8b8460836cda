// Writing a file all-or-nothing: the bytes go to "<path>.tmp", are flushed and fsynced,
// then renamed over `path`, so a crash or a full disk leaves either the old file or the
// whole new one, never half of it (checkpoints, .npy outputs, plots).
#pragma once

#include <unistd.h>

#include <cstddef>
#include <cstdio>
#include <filesystem>
#include <initializer_list>
#include <string>

#include "clr/core/error.hpp"

namespace clr {

struct FilePart {
  const void* data;
  std::size_t size;
};

// `who` starts the error messages (e.g. "write_checkpoint"); the parts are written in order.
inline void write_file_atomically(const std::string& path, std::initializer_list<FilePart> parts,
                                  const std::string& who) {
  // fsync before the rename: after a power cut the new name holds the whole new file.
  const std::string temporary = path + ".tmp";
  std::FILE* file = std::fopen(temporary.c_str(), "wb");
  require(file != nullptr, who, ": cannot create ", temporary,
          " (does the folder exist and is it writable?)");
  bool written = true;
  for (const FilePart& part : parts)
    written =
        written && (part.size == 0 || std::fwrite(part.data, 1, part.size, file) == part.size);
  written = written && std::fflush(file) == 0 && ::fsync(::fileno(file)) == 0;
  if (std::fclose(file) != 0 || !written) {
    std::remove(temporary.c_str());
    throw Error(who + ": writing " + temporary + " failed (disk full?)");
  }
  std::error_code error;
  std::filesystem::rename(temporary, path, error);
  if (error) {
    std::remove(temporary.c_str());
    throw Error(who + ": cannot move " + temporary + " to " + path + ": " + error.message());
  }
}

}  // namespace clr
