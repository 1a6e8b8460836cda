// The compile-time policies that compose the SupCon loss family:
//   supervision   SelfSupervised | Supervised (labels) | MaskSupervised | AnySupervision
//   contrast mode ContrastAll | ContrastOne | ContrastFromOptions (runtime, SupContrast's
//                 `contrast_mode`)
//   view count    Views<N> (checked on every call) | DynamicViews
// e.g. `SupCon<cpu, Supervised, ContrastOne, Views<2>>`; the defaults give the
// runtime-configured loss.
#pragma once

#include <concepts>
#include <optional>

namespace clr::loss {

enum class ContrastMode { all, one };

struct SelfSupervised {
  static constexpr bool kNone = true, kLabels = false, kMask = false;
};
struct Supervised {
  static constexpr bool kNone = false, kLabels = true, kMask = false;
};
struct MaskSupervised {
  static constexpr bool kNone = false, kLabels = false, kMask = true;
};
struct AnySupervision {
  static constexpr bool kNone = true, kLabels = true, kMask = true;
};

struct ContrastAll {
  static constexpr std::optional<ContrastMode> kMode = ContrastMode::all;
};
struct ContrastOne {
  static constexpr std::optional<ContrastMode> kMode = ContrastMode::one;
};
struct ContrastFromOptions {
  static constexpr std::optional<ContrastMode> kMode = std::nullopt;
};

template <int N>
struct Views {
  static_assert(N >= 1, "Views<N>: a sample has at least one view");
  static constexpr int kCount = N;
};
struct DynamicViews {
  static constexpr int kCount = 0;
};

template <class P>
concept SupervisionPolicy = requires {
  { P::kNone } -> std::convertible_to<bool>;
  { P::kLabels } -> std::convertible_to<bool>;
  { P::kMask } -> std::convertible_to<bool>;
};

template <class P>
concept ContrastPolicy = requires {
  { P::kMode } -> std::convertible_to<std::optional<ContrastMode>>;
};

template <class P>
concept ViewPolicy = requires {
  { P::kCount } -> std::convertible_to<int>;
};

}  // namespace clr::loss
