#include <doctest/doctest.h>

// The tests' own PNG/JPEG/BMP writer; static, like clr's stb_image, so no symbol leaves
// this translation unit.
#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb/stb_image_write.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "clr/data/image_folder.hpp"
#include "clr/data/loader.hpp"
#include "data/data_test_util.hpp"

using namespace clr::testing;

namespace {

void append(void* context, void* data, int size) {
  auto* bytes = static_cast<Bytes*>(context);
  const auto* p = static_cast<const std::uint8_t*>(data);
  bytes->insert(bytes->end(), p, p + size);
}

// Pixel (y, x, c) = (40 y + 13 x + 90 c + seed) mod 256.
Bytes pattern(int height, int width, int channels, int seed) {
  Bytes pixels;
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x)
      for (int c = 0; c < channels; ++c)
        pixels.push_back(static_cast<std::uint8_t>((40 * y + 13 * x + 90 * c + seed) % 256));
  return pixels;
}

Bytes encode(const char* format, int height, int width, int channels, int seed) {
  const Bytes pixels = pattern(height, width, channels, seed);
  Bytes out;
  const std::string kind = format;
  int ok = 0;
  if (kind == "png")
    ok = stbi_write_png_to_func(append, &out, width, height, channels, pixels.data(),
                                width * channels);
  if (kind == "bmp")
    ok = stbi_write_bmp_to_func(append, &out, width, height, channels, pixels.data());
  if (kind == "jpg")
    ok = stbi_write_jpg_to_func(append, &out, width, height, channels, pixels.data(), 95);
  REQUIRE(ok != 0);
  return out;
}

// root/cat/{a.png, b.BMP}, root/dog/{c.png, deeper/d.jpg}, with litter that is skipped.
void make_tree(const TempDir& dir) {
  write_file(dir / "cat/a.png", encode("png", 3, 4, 3, 0));
  write_file(dir / "cat/b.BMP", encode("bmp", 2, 2, 3, 7));
  write_file(dir / "dog/c.png", encode("png", 5, 6, 1, 3));
  write_file(dir / "dog/deeper/d.jpg", encode("jpg", 16, 8, 3, 1));
  write_file(dir / "dog/notes.txt", {'h', 'i'});
  write_file(dir / "readme.md", {'h', 'i'});
  write_file(dir / ".cache/x.png", encode("png", 1, 1, 1, 0));
}

}  // namespace

TEST_CASE("ImageFolder: classes sorted by name, files found recursively, decoded on access") {
  TempDir dir;
  make_tree(dir);
  const clr::data::ImageFolder folder(dir.path());
  REQUIRE(folder.size() == 4);
  CHECK(folder.num_classes() == 2);
  CHECK(folder.class_names() == std::vector<std::string>{"cat", "dog"});
  CHECK(folder.file(0) == dir / "cat/a.png");
  CHECK(folder.file(1) == dir / "cat/b.BMP");
  CHECK(folder.file(2) == dir / "dog/c.png");
  CHECK(folder.file(3) == dir / "dog/deeper/d.jpg");
  CHECK(folder.label(1) == 0);
  CHECK(folder.label(3) == 1);

  // PNG and BMP are lossless: every pixel comes back; images keep their own sizes.
  const auto a = folder.get(0);
  CHECK(a.label == 0);
  CHECK(a.image == clr::augment::Image::from(pattern(3, 4, 3, 0), 3, 4, 3));
  CHECK(folder.get(1).image == clr::augment::Image::from(pattern(2, 2, 3, 7), 2, 2, 3));
  // A grayscale file asked for as RGB repeats its one channel.
  const auto c = folder.get(2).image;
  REQUIRE(c.channels() == 3);
  const Bytes gray = pattern(5, 6, 1, 3);
  for (int y = 0; y < 5; ++y)
    for (int x = 0; x < 6; ++x)
      for (int k = 0; k < 3; ++k) CHECK(c.at(y, x, k) == gray[y * 6 + x]);
  const auto d = folder.get(3).image;
  CHECK(d.height() == 16);
  CHECK(d.width() == 8);
  CHECK(std::abs(int{d.at(4, 4, 1)} - int{pattern(16, 8, 3, 1)[(4 * 8 + 4) * 3 + 1]}) < 24);
}

TEST_CASE("ImageFolder: one channel gives stb's luma of RGB files") {
  TempDir dir;
  make_tree(dir);
  const clr::data::ImageFolder folder(dir.path(), {.channels = 1});
  const auto a = folder.get(0).image;
  REQUIRE(a.channels() == 1);
  const Bytes rgb = pattern(3, 4, 3, 0);
  for (int p = 0; p < 12; ++p) {
    const int luma = (rgb[3 * p] * 77 + rgb[3 * p + 1] * 150 + rgb[3 * p + 2] * 29) >> 8;
    CHECK(a.at(p / 4, p % 4, 0) == luma);
  }
  CHECK(folder.get(2).image == clr::augment::Image::from(pattern(5, 6, 1, 3), 5, 6, 1));
}

TEST_CASE("ImageFolder: unreadable images name the file; empty class folders are errors") {
  TempDir dir;
  make_tree(dir);
  write_file(dir / "cat/broken.png", {0x89, 'P', 'N', 'G', 1, 2, 3});
  const Bytes png = encode("png", 8, 8, 3, 5);
  write_file(dir / "dog/half.png", Bytes(png.begin(), png.begin() + png.size() / 2));
  const clr::data::ImageFolder folder(dir.path());  // listing does not decode
  REQUIRE(folder.size() == 6);
  CHECK(folder.file(2) == dir / "cat/broken.png");
  CHECK(contains(error_of([&] { folder.get(2); }),
                 (dir / "cat/broken.png").string() + ": cannot decode the image"));
  CHECK(folder.file(5) == dir / "dog/half.png");
  CHECK(contains(error_of([&] { folder.get(5); }), (dir / "dog/half.png").string()));
  CHECK(contains(error_of([&] { folder.get(6); }), "index 6 out of range [0, 6)"));

  // The error reaches the consumer from a worker thread, at the batch holding the file.
  auto to_tensor = [](const clr::augment::Image&, clr::Rng&) {
    return clr::Tensor<clr::cpu>({1, 1, 1});
  };
  clr::data::DataLoader loader(folder, to_tensor,
                               {.batch_size = 2, .n_views = 1, .shuffle = false, .num_workers = 2});
  loader.begin_epoch(0);
  CHECK(loader.next()->indices == std::vector<std::int64_t>{0, 1});
  CHECK(contains(error_of([&] { loader.next(); }), "broken.png: cannot decode"));
  CHECK_FALSE(loader.next().has_value());

  std::filesystem::create_directories(dir / "empty");
  CHECK(contains(
      error_of([&] { clr::data::ImageFolder{dir.path()}; }),
      "class folder " + (dir / "empty").string() + " holds no image (.png .jpg .jpeg .bmp)"));
  TempDir bare;
  CHECK(contains(error_of([&] { clr::data::ImageFolder{bare.path()}; }), "no class folders"));
  CHECK(contains(error_of([&] { clr::data::ImageFolder{bare / "nowhere"}; }), "not a directory"));
  CHECK(contains(error_of([&] { clr::data::ImageFolder(dir.path(), {.channels = 4}); }),
                 "channels must be 1 or 3, got 4"));
}

TEST_CASE("decode_image: refuses images over max_pixels from their header") {
  const Bytes png = encode("png", 10, 12, 3, 0);
  CHECK(clr::data::decode_image(png, "ok.png").width() == 12);
  CHECK(contains(error_of([&] { clr::data::decode_image(png, "big.png", 3, 100); }),
                 "big.png: 12x10 pixels, more than the 100 allowed"));
  CHECK(contains(error_of([&] { clr::data::decode_image({}, "empty.png"); }),
                 "empty.png: cannot decode"));
}

TEST_CASE("decode_image: files that break stb_image 2.27 are refused before it reads them") {
  // A JPEG Huffman table declaring 16 x 255 codes: stb would write past its 257-entry array.
  Bytes dht = {0xff, 0xd8, 0xff, 0xc4, 0x00, 0x13, 0x00};
  dht.resize(dht.size() + 16, 0xff);
  CHECK(contains(error_of([&] { clr::data::decode_image(dht, "dht.jpg"); }),
                 "dht.jpg: corrupt JPEG: the Huffman table at offset 6 declares 4080 codes"));
  // The same between scans, where only a superset of stb's reading is known.
  Bytes late = {0xff, 0xd8, 0xff, 0xda, 0x00, 0x02, 0x12, 0x34, 0xff, 0xc4, 0x00, 0x13, 0x10};
  late.resize(late.size() + 16, 0x20);
  CHECK(contains(error_of([&] { clr::data::decode_image(late, "late.jpg"); }),
                 "at offset 12 declares 512 codes"));
  // A PNG chunk declaring 2 GiB in a 60-byte file: stb would allocate for it first.
  Bytes png = encode("png", 1, 1, 3, 0);
  const std::size_t idat = 33;  // signature 8 + IHDR chunk 25
  REQUIRE(std::string(png.begin() + idat + 4, png.begin() + idat + 8) == "IDAT");
  png[idat] = 0x7f, png[idat + 1] = png[idat + 2] = png[idat + 3] = 0xff;
  CHECK(contains(error_of([&] { clr::data::decode_image(png, "big.png"); }),
                 "big.png: corrupt PNG: the chunk at offset 33 declares 2147483647 bytes"));
  // A top-down BMP (negative height in its header) counts its pixels all the same.
  const Bytes bmp = {0x42, 0x4d, 0x72, 0,    0,    0, 0, 0, 0,    0,    0x31, 0,    0, 0,   0x7c,
                     0,    0,    0,    0x34, 0x48, 0, 0, 0, 0xff, 0xff, 0xff, 0x01, 0, 0x04};
  CHECK(contains(error_of([&] { clr::data::decode_image(bmp, "tall.bmp", 3, 1 << 20); }),
                 "tall.bmp: 18484x256 pixels, more than the 1048576 allowed"));
}
