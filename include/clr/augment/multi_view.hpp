// MultiView: n independent augmentations of one picture, SupContrast's TwoCropTransform
// generalised — `multi_view<2>(aug)` (a fixed count, std::array) or `multi_view(aug,
// n_views)` (a count given at run time, std::vector); `stacked` gives one tensor
// [n_views, C, H, W].
// Draws: view 0's, then view 1's, ... from the same generator. Give each sample its own
// stream (`rng.split(sample_index)`) and the views do not depend on threading.
#pragma once

#include <algorithm>
#include <array>
#include <concepts>
#include <cstddef>
#include <utility>
#include <vector>

#include "clr/augment/transform.hpp"
#include "clr/backend/cpu/cpu.hpp"
#include "clr/core/error.hpp"
#include "clr/core/rng.hpp"
#include "clr/core/tensor.hpp"

namespace clr::augment {

// The view count of a MultiView given at run time.
inline constexpr int kRuntimeViews = 0;

template <int N, Transform Aug>
requires(N >= 0) class MultiView {
 public:
  explicit MultiView(Aug aug) requires(N > 0) : aug_(std::move(aug)), n_views_(N) {}
  MultiView(Aug aug, int n_views) requires(N == kRuntimeViews)
      : aug_(std::move(aug)), n_views_(n_views) {
    require(n_views >= 1, "MultiView: n_views must be >= 1, got ", n_views);
  }

  // The views: std::array<view, N>, or std::vector<view> of n_views().
  template <class In>
  requires TransformOf<Aug, const In&>
  auto operator()(const In& picture, Rng& rng) const {
    using View = transform_result_t<Aug, const In&>;
    if constexpr (N == kRuntimeViews) {
      std::vector<View> views;
      views.reserve(n_views_);
      for (int v = 0; v < n_views_; ++v) views.push_back(aug_(picture, rng));
      return views;
    } else {
      return make_array(picture, rng, std::make_index_sequence<N>());
    }
  }

  // The views side by side: [n_views, C, H, W].
  template <class In>
  Tensor<cpu> stacked(const In& picture, Rng& rng) const {
    static_assert(std::same_as<transform_result_t<Aug, const In&>, Tensor<cpu>>,
                  "MultiView::stacked: the augmentation must end in a Tensor<cpu> (Normalize "
                  "or ToTensor)");
    Tensor<cpu> out;
    for (int v = 0; v < n_views_; ++v) {
      const Tensor<cpu> view = aug_(picture, rng);  // [C, H, W]
      require(view.rank() == 3, "MultiView::stacked: views must be [C, H, W], got ", view.shape());
      if (v == 0)
        out = Tensor<cpu>::uninitialized({n_views_, view.dim(0), view.dim(1), view.dim(2)});
      require(view.numel() * n_views_ == out.numel(), "MultiView::stacked: view ", v, " has shape ",
              view.shape(), ", unlike view 0");
      std::copy_n(view.data(), view.numel(), out.data() + v * view.numel());
    }
    return out;
  }

  int n_views() const { return n_views_; }
  const Aug& augmentation() const { return aug_; }

 private:
  template <class In, std::size_t... I>
  auto make_array(const In& picture, Rng& rng, std::index_sequence<I...>) const {
    using View = transform_result_t<Aug, const In&>;
    // Braced initialisation runs the views in order, 0 first.
    return std::array<View, N>{((void)I, aug_(picture, rng))...};
  }

  Aug aug_;
  int n_views_;
};

// N views per picture (TwoCropTransform: N = 2).
template <int N, Transform Aug>
requires(N > 0) MultiView<N, Aug> multi_view(Aug aug) {
  return MultiView<N, Aug>(std::move(aug));
}

// n_views views per picture, the count chosen at run time (a --n_views flag).
template <Transform Aug>
MultiView<kRuntimeViews, Aug> multi_view(Aug aug, int n_views) {
  return MultiView<kRuntimeViews, Aug>(std::move(aug), n_views);
}

}  // namespace clr::augment
