// The Transform concept: what Compose, RandomApply and MultiView accept.
//
// A transform is a small copyable class whose const call operator takes a picture and the
// generator, `out = t(in, rng)`, as torchvision's transforms take a picture and draw from
// torch's global generator. Pictures flow Image (uint8 HWC) -> FloatImage (float CHW in
// [0, 1]) -> Tensor<cpu> [C, H, W]; each transform takes what it can and says so through
// its overloads.
#pragma once

#include <concepts>
#include <type_traits>
#include <utility>

#include "clr/augment/float_image.hpp"
#include "clr/augment/image.hpp"
#include "clr/backend/cpu/cpu.hpp"
#include "clr/core/rng.hpp"
#include "clr/core/tensor.hpp"

namespace clr::augment {

// T can take an `In` (with the generator): `t(in, rng)` is well formed.
template <class T, class In>
concept TransformOf = requires(const T& t, In&& in, Rng& rng) {
  t(std::forward<In>(in), rng);
};

// A transform takes at least one of the three kinds of picture.
template <class T>
concept Transform = std::copy_constructible<T> &&
    (TransformOf<T, const Image&> || TransformOf<T, FloatImage> || TransformOf<T, Tensor<cpu>>);

// What T makes of an `In`.
template <class T, class In>
requires TransformOf<T, In>
using transform_result_t = std::remove_cvref_t<decltype(std::declval<const T&>()(
    std::declval<In>(), std::declval<Rng&>()))>;

// A closed interval [min, max] of a drawn parameter (torchvision's `scale`, `ratio`,
// `sigma` pairs).
struct Range {
  double min;
  double max;
};

// An output size in pixels.
struct Size {
  int height;
  int width;
};

namespace detail {

// The picture as a FloatImage: converted from 8 bits, or taken over.
inline FloatImage to_float(const Image& image) {
  return FloatImage(image);
}
inline FloatImage to_float(FloatImage image) {
  return image;
}

}  // namespace detail

}  // namespace clr::augment
