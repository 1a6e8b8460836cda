// RandomApply<T>(transform, p = 0.5): torchvision's RandomApply of one transform — applies
// it with probability p. Also RandomApply(p, transform).
// Draws: one uniform, always; then the transform's own draws only when it is applied.
#pragma once

#include <concepts>
#include <type_traits>
#include <utility>

#include "clr/augment/transform.hpp"
#include "clr/core/error.hpp"
#include "clr/core/rng.hpp"

namespace clr::augment {

template <Transform T>
class RandomApply {
 public:
  explicit RandomApply(T transform, float p = 0.5f) : transform_(std::move(transform)), p_(p) {
    require(p >= 0.0f && p <= 1.0f, "RandomApply: p must be in [0, 1], got ", p);
  }
  RandomApply(float p, T transform) : RandomApply(std::move(transform), p) {}

  // Skipped, the picture still becomes what T would have made of it (an 8-bit image
  // becomes a FloatImage), so the type after this step does not depend on the draw.
  template <class In>
  requires TransformOf<T, In> transform_result_t<T, In>
  operator()(In&& in, Rng& rng) const {
    using Out = transform_result_t<T, In>;
    static_assert(std::constructible_from<Out, In>,
                  "clr::augment::RandomApply: the transform changes the kind of picture in a "
                  "way that cannot be done without it");
    if (rng.bernoulli(p_)) return transform_(std::forward<In>(in), rng);
    return Out(std::forward<In>(in));
  }

  const T& transform() const { return transform_; }
  float p() const { return p_; }

 private:
  T transform_;
  float p_;
};

}  // namespace clr::augment
