// libFuzzer target of the CIFAR reader (clr::data::parse_cifar).
//
// Input: byte 0 picks the layout (bit 0: CIFAR-100, bit 1: its coarse labels), the rest is
// one batch file. Anything but a clr::Error escaping, or a sanitizer report, is a finding.
#include <cstddef>
#include <cstdint>
#include <span>

#include "clr/data/cifar.hpp"
#include "fuzz_util.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const auto format =
      (data[0] & 1) ? clr::data::CifarFormat::cifar100 : clr::data::CifarFormat::cifar10;
  const auto which = (data[0] & 2) ? clr::data::CifarLabels::coarse : clr::data::CifarLabels::fine;
  try {
    const auto dataset =
        clr::data::parse_cifar(std::span(data + 1, size - 1), "batch", format, which);
    for (std::int64_t i : {std::int64_t{0}, dataset.size() - 1}) {
      const auto sample = dataset.get(i);
      clr::fuzz::expect(sample.image.size() == 3 * 32 * 32);
      clr::fuzz::expect(sample.label >= 0 && sample.label < dataset.num_classes());
    }
  } catch (const clr::Error&) {
  }
  return 0;
}
