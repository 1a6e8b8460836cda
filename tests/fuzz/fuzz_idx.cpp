// libFuzzer target of the IDX reader (clr::data::parse_idx).
//
// Input: byte 0 holds flags (1: gzip the images part, 2: gzip the labels part, 4: require
// 10 classes), bytes 1-2 the images part's length (little-endian, clamped), then the images
// part, then the labels part. Gzipping here drives the bounded decompressor with valid
// streams whatever the contents; raw parts that start with 1f 8b give it corrupt ones.
// Anything but a clr::Error escaping, or a sanitizer report, is a finding.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "clr/data/idx.hpp"
#include "fuzz_util.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 3) return 0;
  const int flags = data[0];
  const std::size_t body = size - 3;
  const std::size_t split = std::min<std::size_t>(body, data[1] | (data[2] << 8));
  std::vector<std::uint8_t> images(data + 3, data + 3 + split);
  std::vector<std::uint8_t> labels(data + 3 + split, data + size);
  if (flags & 1) images = clr::fuzz::gzip(images);
  if (flags & 2) labels = clr::fuzz::gzip(labels);
  try {
    const auto dataset = clr::data::parse_idx(std::move(images), std::move(labels), "images",
                                              "labels", (flags & 4) ? 10 : 0);
    for (std::int64_t i : {std::int64_t{0}, dataset.size() - 1}) {
      const auto sample = dataset.get(i);
      clr::fuzz::expect(sample.image.size() ==
                        static_cast<std::size_t>(dataset.height()) * dataset.width());
      clr::fuzz::expect(sample.label >= 0 && sample.label < dataset.num_classes());
    }
  } catch (const clr::Error&) {
  }
  return 0;
}
