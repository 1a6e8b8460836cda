#include <doctest/doctest.h>

#include <array>
#include <cmath>
#include <set>
#include <vector>

#include "clr/core/rng.hpp"

using clr::Rng;

TEST_CASE("Rng: Philox4x32-10 matches the Random123 known-answer vectors") {
  CHECK(Rng::philox({0, 0, 0, 0}, {0, 0}) ==
        Rng::Block{0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u});
  CHECK(Rng::philox({0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu},
                    {0xffffffffu, 0xffffffffu}) ==
        Rng::Block{0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu});
  CHECK(Rng::philox({0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u},
                    {0xa4093822u, 0x299f31d0u}) ==
        Rng::Block{0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u});
}

TEST_CASE("Rng: the same seed and stream give the same sequence; others differ") {
  Rng a(42), b(42), c(43);
  std::vector<std::uint32_t> sa, sb, sc;
  for (int i = 0; i < 64; ++i) {
    sa.push_back(a.next_u32());
    sb.push_back(b.next_u32());
    sc.push_back(c.next_u32());
  }
  CHECK(sa == sb);
  CHECK(sa != sc);

  const Rng parent(7);
  Rng s0 = parent.split(0), s0_again = parent.split(0), s1 = parent.split(1);
  Rng s01 = parent.split(0).split(1), s10 = parent.split(1).split(0);
  const auto first = s0.next_u64();
  CHECK(first == s0_again.next_u64());
  CHECK(first != s1.next_u64());
  CHECK(s01.next_u64() != s10.next_u64());
  Rng fresh(7);
  CHECK(fresh.next_u64() != first);
}

TEST_CASE("Rng: uniform, integer and normal draws have the right distribution") {
  Rng rng(1);
  constexpr int kDraws = 200000;
  double sum = 0, sum_sq = 0;
  float low = 1, high = 0;
  for (int i = 0; i < kDraws; ++i) {
    const float u = rng.uniform();
    low = std::min(low, u);
    high = std::max(high, u);
    sum += u;
  }
  CHECK(low >= 0.0f);
  CHECK(high < 1.0f);
  CHECK(sum / kDraws == doctest::Approx(0.5).epsilon(0.01));

  std::array<int, 7> counts{};
  for (int i = 0; i < kDraws; ++i) ++counts[rng.uniform_int(7)];
  for (int count : counts) CHECK(count == doctest::Approx(kDraws / 7.0).epsilon(0.03));

  sum = 0;
  for (int i = 0; i < kDraws; ++i) {
    const float z = rng.normal();
    sum += z;
    sum_sq += double(z) * z;
  }
  CHECK(std::abs(sum / kDraws) < 0.01);
  CHECK(sum_sq / kDraws == doctest::Approx(1.0).epsilon(0.02));
}
