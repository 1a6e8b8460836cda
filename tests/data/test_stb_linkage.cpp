// A program that uses stb_image itself, with the usual external-linkage implementation,
// includes it before clr: clr then decodes through the program's stb. Linked into test_data
// beside test_image_folder.cpp, whose clr headers compile clr's own static copy, this also
// checks that the two copies and the program's symbols coexist without duplicates.
#define STB_IMAGE_IMPLEMENTATION
#include <stb/stb_image.h>
#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <doctest/doctest.h>
#include <stb/stb_image_write.h>

#include <cstdint>
#include <vector>

#include "clr/data/image_folder.hpp"

TEST_CASE("stb_image: a program's own stb, included before clr, serves clr's decoding") {
  static_assert(!CLR_DATA_HAS_OWN_STB_IMAGE);
  const std::vector<std::uint8_t> pixels = {10, 20, 30, 40, 50, 60};  // 1x2 RGB
  std::vector<std::uint8_t> png;
  stbi_write_png_to_func(
      [](void* context, void* data, int size) {
        auto* out = static_cast<std::vector<std::uint8_t>*>(context);
        out->insert(out->end(), static_cast<std::uint8_t*>(data),
                    static_cast<std::uint8_t*>(data) + size);
      },
      &png, 2, 1, 3, pixels.data(), 6);
  const auto image = clr::data::decode_image(png, "own.png");
  CHECK(image == clr::augment::Image::from(pixels, 1, 2, 3));
  int width = 0, height = 0, channels = 0;  // the program's stb still works for itself
  CHECK(stbi_info_from_memory(png.data(), static_cast<int>(png.size()), &width, &height,
                              &channels) == 1);
  CHECK(width == 2);
}
