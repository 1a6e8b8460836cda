// Compose<Ts...>: the transforms applied in order, fixed at compile time (torchvision's
// Compose as a type). Each step takes what the one before returns; a step that cannot
// (a colour transform after Normalize, say) stops compilation with one message naming
// Compose, and a type that is no transform at all fails the Transform concept.
// Draws: each step's, in order.
#pragma once

#include <concepts>
#include <cstddef>
#include <tuple>
#include <type_traits>
#include <utility>

#include "clr/augment/transform.hpp"
#include "clr/core/rng.hpp"

namespace clr::augment {

namespace detail {

// Whether Ts... can run in turn on an `In`, each on what the one before returns.
template <class In, class... Ts>
struct Chains : std::true_type {};
template <class In, class T, class... Rest>
struct Chains<In, T, Rest...> {
  static constexpr bool value = [] {
    if constexpr (TransformOf<T, In>)
      return Chains<transform_result_t<T, In>, Rest...>::value;
    else
      return false;
  }();
};

// Whether the first of Ts... takes an `In` (any `In` when there is none).
template <class In, class... Ts>
struct TakesFirst : std::true_type {};
template <class In, class T, class... Rest>
struct TakesFirst<In, T, Rest...> : std::bool_constant<TransformOf<T, In>> {};

}  // namespace detail

template <Transform... Ts>
class Compose {
 public:
  Compose() requires(std::default_initializable<Ts>&&...) = default;
  explicit Compose(Ts... steps) requires(sizeof...(Ts) > 0) : steps_(std::move(steps)...) {}

  // Whether the steps chain on an `In` (what the call's static_assert checks).
  template <class In>
  static constexpr bool accepts = detail::Chains<In, Ts...>::value;

  // Constrained on the first step only, so that `TransformOf<Compose<...>, X>` is false
  // for a picture X it cannot start from; a chain broken further on is a bug in the
  // composition and fails the static_assert below.
  template <class In>
  requires detail::TakesFirst<In, Ts...>::value auto operator()(In&& in, Rng& rng) const {
    return run<0>(std::forward<In>(in), rng);
  }

  // Step I, to read its parameters.
  template <std::size_t I>
  const auto& get() const {
    return std::get<I>(steps_);
  }
  static constexpr std::size_t size() { return sizeof...(Ts); }

 private:
  template <std::size_t I, class In>
  auto run(In&& in, Rng& rng) const {
    if constexpr (I == sizeof...(Ts)) {
      return std::remove_cvref_t<In>(std::forward<In>(in));
    } else {
      using Step = std::tuple_element_t<I, std::tuple<Ts...>>;
      static_assert(TransformOf<Step, In>,
                    "clr::augment::Compose: a step cannot take what the step before it returns "
                    "(pictures go Image -> FloatImage -> Tensor<cpu>; only Normalize takes a "
                    "Tensor); the 'In instantiation of' lines name the step and its input");
      if constexpr (TransformOf<Step, In>) {
        return run<I + 1>(std::get<I>(steps_)(std::forward<In>(in), rng), rng);
      } else {
        return std::remove_cvref_t<In>(std::forward<In>(in));  // no follow-on errors
      }
    }
  }

  std::tuple<Ts...> steps_;
};

}  // namespace clr::augment
