// Writes a starting corpus for each fuzz target: small valid inputs in each target's input
// framing, so that fuzzing begins past the magic numbers instead of rediscovering them.
//
// Usage: fuzz_seeds DIR  (makes DIR/idx, DIR/cifar, DIR/image)
#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb/stb_image_write.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace {

using Bytes = std::vector<std::uint8_t>;

void save(const std::filesystem::path& path, const Bytes& bytes) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(bytes.data()),
             static_cast<std::streamsize>(bytes.size()));
}

void put_be32(Bytes& bytes, std::uint32_t value) {
  for (int shift = 24; shift >= 0; shift -= 8)
    bytes.push_back(static_cast<std::uint8_t>(value >> shift));
}

Bytes idx_input(int flags, std::uint32_t count, std::uint32_t rows, std::uint32_t cols) {
  Bytes images = {0, 0, 8, 3};
  put_be32(images, count);
  put_be32(images, rows);
  put_be32(images, cols);
  for (std::uint32_t k = 0; k < count * rows * cols; ++k)
    images.push_back(static_cast<std::uint8_t>(k * 7));
  Bytes labels = {0, 0, 8, 1};
  put_be32(labels, count);
  for (std::uint32_t k = 0; k < count; ++k) labels.push_back(static_cast<std::uint8_t>(k % 10));
  Bytes input = {static_cast<std::uint8_t>(flags), static_cast<std::uint8_t>(images.size()),
                 static_cast<std::uint8_t>(images.size() >> 8)};
  input.insert(input.end(), images.begin(), images.end());
  input.insert(input.end(), labels.begin(), labels.end());
  return input;
}

Bytes cifar_input(int flags, int records) {
  const int label_bytes = (flags & 1) ? 2 : 1;
  Bytes input = {static_cast<std::uint8_t>(flags)};
  for (int r = 0; r < records; ++r) {
    for (int k = 0; k < label_bytes; ++k) input.push_back(static_cast<std::uint8_t>(r + k));
    for (int p = 0; p < 3072; ++p) input.push_back(static_cast<std::uint8_t>(p * 13 + r));
  }
  return input;
}

void append(void* context, void* data, int size) {
  auto* bytes = static_cast<Bytes*>(context);
  bytes->insert(bytes->end(), static_cast<std::uint8_t*>(data),
                static_cast<std::uint8_t*>(data) + size);
}

Bytes image_input(const std::string& format, int height, int width, int channels) {
  Bytes pixels;
  for (int k = 0; k < height * width * channels; ++k)
    pixels.push_back(static_cast<std::uint8_t>(k * 29));
  Bytes input = {1};
  if (format == "png")
    stbi_write_png_to_func(append, &input, width, height, channels, pixels.data(),
                           width * channels);
  if (format == "bmp")
    stbi_write_bmp_to_func(append, &input, width, height, channels, pixels.data());
  if (format == "jpg")
    stbi_write_jpg_to_func(append, &input, width, height, channels, pixels.data(), 80);
  return input;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: fuzz_seeds DIR\n");
    return 2;
  }
  const std::filesystem::path dir = argv[1];
  save(dir / "idx/plain", idx_input(0, 3, 4, 5));
  save(dir / "idx/gzip", idx_input(3, 2, 6, 2));
  save(dir / "idx/classes", idx_input(4, 4, 2, 2));
  save(dir / "cifar/cifar10", cifar_input(0, 2));
  save(dir / "cifar/cifar100", cifar_input(1, 1));
  save(dir / "cifar/coarse", cifar_input(3, 1));
  save(dir / "image/rgb.png", image_input("png", 6, 5, 3));
  save(dir / "image/gray.png", image_input("png", 4, 4, 1));
  save(dir / "image/rgba.png", image_input("png", 3, 7, 4));
  save(dir / "image/rgb.jpg", image_input("jpg", 16, 9, 3));
  save(dir / "image/gray.jpg", image_input("jpg", 8, 8, 1));
  save(dir / "image/rgb.bmp", image_input("bmp", 5, 3, 3));
  std::printf("fuzz_seeds: corpora written to %s\n", dir.c_str());
  return 0;
}
