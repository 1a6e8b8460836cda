// The checkpoint file: named float tensors and string metadata, with a checksum, written
// atomically (a temporary file, flushed, then renamed), so a crash never leaves a
// half-written checkpoint in place of a good one.
//
// Layout, little-endian:
//   "CLRCKPT1"                       8 bytes
//   u32 metadata count, then per entry: u32 length + key bytes, u32 length + value bytes
//   u32 tensor count, then per tensor: u32 length + name bytes, u32 rank, i32 dims[rank],
//                                      f32 values[prod(dims)]
//   u64 FNV-1a hash of every byte before it
// Readers check every length against the bytes left, so a corrupt or hostile file gives a
// clr::Error naming the file and the offset, never a huge allocation.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "clr/core/atomic_file.hpp"
#include "clr/core/error.hpp"
#include "clr/core/shape.hpp"

namespace clr {

struct HostTensor {
  Shape shape;
  std::vector<float> values;
};

struct CheckpointContents {
  std::map<std::string, std::string> metadata;
  std::vector<std::pair<std::string, HostTensor>> tensors;  // in file order
};

namespace detail {

inline constexpr char kCheckpointMagic[8] = {'C', 'L', 'R', 'C', 'K', 'P', 'T', '1'};

inline std::uint64_t fnv1a(const char* data, std::size_t size) {
  std::uint64_t hash = 0xcbf29ce484222325ull;
  for (std::size_t i = 0; i < size; ++i) {
    hash ^= static_cast<unsigned char>(data[i]);
    hash *= 0x100000001b3ull;
  }
  return hash;
}

class ByteWriter {
 public:
  template <class T>
  void put(const T& value) {
    const auto* p = reinterpret_cast<const char*>(&value);
    bytes_.insert(bytes_.end(), p, p + sizeof(T));
  }
  void put_string(const std::string& s) {
    put(static_cast<std::uint32_t>(s.size()));
    bytes_.insert(bytes_.end(), s.begin(), s.end());
  }
  void put_floats(const std::vector<float>& values) {
    const auto* p = reinterpret_cast<const char*>(values.data());
    bytes_.insert(bytes_.end(), p, p + values.size() * sizeof(float));
  }
  std::vector<char>& bytes() { return bytes_; }

 private:
  std::vector<char> bytes_;
};

class ByteReader {
 public:
  ByteReader(const std::vector<char>& bytes, std::size_t end, const std::string& path)
      : bytes_(bytes), end_(end), path_(path) {}

  template <class T>
  T get(const char* what) {
    need(sizeof(T), what);
    T value;
    std::memcpy(&value, bytes_.data() + at_, sizeof(T));
    at_ += sizeof(T);
    return value;
  }
  std::string get_string(const char* what) {
    const auto size = get<std::uint32_t>(what);
    need(size, what);
    std::string s(bytes_.data() + at_, size);
    at_ += size;
    return s;
  }
  std::vector<float> get_floats(std::int64_t count, const char* what) {
    need(static_cast<std::uint64_t>(count) * sizeof(float), what);
    std::vector<float> values(count);
    std::memcpy(values.data(), bytes_.data() + at_, count * sizeof(float));
    at_ += count * sizeof(float);
    return values;
  }
  std::size_t offset() const { return at_; }

 private:
  void need(std::uint64_t size, const char* what) const {
    require(size <= end_ - at_, "checkpoint ", path_, ": truncated or corrupt at offset ", at_,
            " reading ", what, " (", size, " bytes needed, ", end_ - at_, " left)");
  }
  const std::vector<char>& bytes_;
  std::size_t end_;
  const std::string& path_;
  std::size_t at_ = 0;
};

}  // namespace detail

inline void write_checkpoint(const std::string& path, const CheckpointContents& contents) {
  detail::ByteWriter out;
  for (char c : detail::kCheckpointMagic) out.put(c);
  out.put(static_cast<std::uint32_t>(contents.metadata.size()));
  for (const auto& [key, value] : contents.metadata) {
    out.put_string(key);
    out.put_string(value);
  }
  out.put(static_cast<std::uint32_t>(contents.tensors.size()));
  for (const auto& [name, tensor] : contents.tensors) {
    require(static_cast<std::int64_t>(tensor.values.size()) == tensor.shape.numel(),
            "write_checkpoint: tensor ", name, " has ", tensor.values.size(), " values for shape ",
            tensor.shape);
    out.put_string(name);
    out.put(static_cast<std::uint32_t>(tensor.shape.rank()));
    for (int axis = 0; axis < tensor.shape.rank(); ++axis)
      out.put(static_cast<std::int32_t>(tensor.shape[axis]));
    out.put_floats(tensor.values);
  }
  std::vector<char>& bytes = out.bytes();
  out.put(detail::fnv1a(bytes.data(), bytes.size()));

  write_file_atomically(path, {{bytes.data(), bytes.size()}}, "write_checkpoint");
}

inline CheckpointContents read_checkpoint(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  require(file.good(), "read_checkpoint: cannot open ", path);
  const std::vector<char> bytes((std::istreambuf_iterator<char>(file)),
                                std::istreambuf_iterator<char>());
  constexpr std::size_t kHashBytes = sizeof(std::uint64_t);
  require(bytes.size() >= sizeof(detail::kCheckpointMagic) + kHashBytes &&
              std::memcmp(bytes.data(), detail::kCheckpointMagic,
                          sizeof(detail::kCheckpointMagic)) == 0,
          "read_checkpoint: ", path, " is not a clr checkpoint (bad magic, or ", bytes.size(),
          " bytes)");
  const std::size_t body = bytes.size() - kHashBytes;
  std::uint64_t stored;
  std::memcpy(&stored, bytes.data() + body, kHashBytes);
  require(stored == detail::fnv1a(bytes.data(), body), "read_checkpoint: ", path,
          " is corrupt: its checksum does not match its contents");

  detail::ByteReader in(bytes, body, path);
  for (std::size_t i = 0; i < sizeof(detail::kCheckpointMagic); ++i) in.get<char>("the magic");
  CheckpointContents contents;
  const auto metadata = in.get<std::uint32_t>("the metadata count");
  for (std::uint32_t i = 0; i < metadata; ++i) {
    std::string key = in.get_string("a metadata key");
    contents.metadata[key] = in.get_string("a metadata value");
  }
  const auto count = in.get<std::uint32_t>("the tensor count");
  for (std::uint32_t i = 0; i < count; ++i) {
    std::string name = in.get_string("a tensor name");
    const auto rank = in.get<std::uint32_t>("a tensor rank");
    require(rank >= 1 && rank <= Shape::kMaxRank, "read_checkpoint: ", path, ": tensor ", name,
            " at offset ", in.offset(), " has rank ", rank, ", expected 1 to 4");
    std::int32_t dims[Shape::kMaxRank] = {1, 1, 1, 1};
    for (std::uint32_t axis = 0; axis < rank; ++axis) {
      dims[axis] = in.get<std::int32_t>("a tensor extent");
      require(dims[axis] >= 0, "read_checkpoint: ", path, ": tensor ", name,
              " has a negative extent");
    }
    const Shape shape = rank == 1   ? Shape{dims[0]}
                        : rank == 2 ? Shape{dims[0], dims[1]}
                        : rank == 3 ? Shape{dims[0], dims[1], dims[2]}
                                    : Shape{dims[0], dims[1], dims[2], dims[3]};
    HostTensor tensor{shape, in.get_floats(shape.numel(), "tensor values")};
    contents.tensors.emplace_back(std::move(name), std::move(tensor));
  }
  require(in.offset() == body, "read_checkpoint: ", path, ": ", body - in.offset(),
          " unexpected bytes after the last tensor");
  return contents;
}

}  // namespace clr
