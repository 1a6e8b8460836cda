// clr::Rng: a counter-based Philox4x32-10 generator (Salmon et al., SC'11).
//
// The state is a key (seed, stream) and a 128-bit counter, so `split(i)` gives stream i an
// independent sequence without touching the parent: a sample's augmentation draws from
// `rng.split(sample_index)` and results do not depend on how work is spread over threads.
#pragma once

#include <array>
#include <cmath>
#include <cstdint>
#include <numbers>

#include "clr/core/error.hpp"

namespace clr {

class Rng {
 public:
  explicit Rng(std::uint64_t seed)
      : key_seed_(seed),
        key_{static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32)} {}

  using Block = std::array<std::uint32_t, 4>;
  using Key = std::array<std::uint32_t, 2>;

  // The Philox4x32-10 bijection itself: ten rounds of two 32x32->64 multiplies.
  static Block philox(Block x, Key key) {
    for (int round = 0; round < 10; ++round) {
      const std::uint64_t p0 = static_cast<std::uint64_t>(0xD2511F53u) * x[0];
      const std::uint64_t p1 = static_cast<std::uint64_t>(0xCD9E8D57u) * x[2];
      x = {static_cast<std::uint32_t>(p1 >> 32) ^ x[1] ^ key[0], static_cast<std::uint32_t>(p1),
           static_cast<std::uint32_t>(p0 >> 32) ^ x[3] ^ key[1], static_cast<std::uint32_t>(p0)};
      key[0] += 0x9E3779B9u;
      key[1] += 0xBB67AE85u;
    }
    return x;
  }

  // An independent generator for stream `stream` of this generator's seed. Splitting is
  // hierarchical: split(i).split(j) differs from split(j).split(i) and from this one.
  Rng split(std::uint64_t stream) const {
    return Rng(mix(key_seed_ ^ mix(stream + 0x9E3779B97F4A7C15ull)));
  }

  std::uint32_t next_u32() {
    if (index_ == 4) refill();
    return block_[index_++];
  }
  std::uint64_t next_u64() {
    const std::uint64_t high = next_u32();
    return (high << 32) | next_u32();
  }
  // Uniform in [0, 1), 24 random bits: every value is an exact float.
  float uniform() { return static_cast<float>(next_u32() >> 8) * 0x1.0p-24f; }
  float uniform(float low, float high) { return low + (high - low) * uniform(); }
  // Uniform integer in [0, n), without modulo bias (Lemire's method).
  std::uint32_t uniform_int(std::uint32_t n) {
    require(n > 0, "Rng::uniform_int: n must be > 0");
    std::uint64_t product = static_cast<std::uint64_t>(next_u32()) * n;
    auto low = static_cast<std::uint32_t>(product);
    if (low < n) {
      const std::uint32_t threshold = static_cast<std::uint32_t>(-n) % n;
      while (low < threshold) {
        product = static_cast<std::uint64_t>(next_u32()) * n;
        low = static_cast<std::uint32_t>(product);
      }
    }
    return static_cast<std::uint32_t>(product >> 32);
  }
  bool bernoulli(float p) { return uniform() < p; }
  // Standard normal by Box-Muller; the second value of each pair is kept for the next call.
  float normal() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    const float u1 = (static_cast<float>(next_u32() >> 8) + 1.0f) * 0x1.0p-24f;  // (0, 1]
    const float u2 = uniform();
    const float radius = std::sqrt(-2.0f * std::log(u1));
    const float angle = 2.0f * std::numbers::pi_v<float> * u2;
    spare_ = radius * std::sin(angle);
    has_spare_ = true;
    return radius * std::cos(angle);
  }

 private:
  // SplitMix64 finaliser: turns (seed, stream) into well-spread keys.
  static std::uint64_t mix(std::uint64_t z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }

  void refill() {
    block_ = philox(counter_, key_);
    index_ = 0;
    for (auto& word : counter_)  // 128-bit increment
      if (++word != 0) break;
  }

  std::uint64_t key_seed_;
  Key key_;
  Block counter_{};
  Block block_{};
  int index_ = 4;
  float spare_ = 0.0f;
  bool has_spare_ = false;
};

}  // namespace clr
