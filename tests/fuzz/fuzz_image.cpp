// libFuzzer target of the image decoding behind ImageFolder (clr::data::decode_image, stb_image
// compiled as clr compiles it).
//
// Input: byte 0's low bit picks 3 channels or 1, the rest is the file. Images are capped at
// 2^20 pixels, as a smaller max_pixels, so that the fuzzer spends its time on parsing.
// Anything but a clr::Error escaping, or a sanitizer report, is a finding.
#include <cstddef>
#include <cstdint>
#include <span>

#include "clr/data/image_folder.hpp"
#include "fuzz_util.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const int channels = (data[0] & 1) ? 3 : 1;
  try {
    const auto image =
        clr::data::decode_image(std::span(data + 1, size - 1), "image", channels, 1 << 20);
    clr::fuzz::expect(image.channels() == channels);
    clr::fuzz::expect(static_cast<std::int64_t>(image.height()) * image.width() <= 1 << 20);
  } catch (const clr::Error&) {
  }
  return 0;
}
