// Axis scales with "nice" ticks: linear axes step by 1, 2 or 5 times a power of ten (the
// steps a reader counts in, as matplotlib's MaxNLocator), log axes by decades (with 2 and
// 5 between them when the data spans less than two decades, every multiple under one),
// and tick labels with just the decimals the step needs.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "clr/core/error.hpp"

namespace clr::viz {

struct Scale {
  double lo = 0.0, hi = 1.0;  // the axis' ends, in data units
  bool log = false;           // log10 axis: lo and hi are data values > 0
  std::vector<double> ticks;  // data values, inside [lo, hi]
  std::vector<std::string> labels;

  // Position of `value` along the axis, 0 at lo and 1 at hi (NaN for log of v <= 0).
  double fraction(double value) const {
    if (log) {
      if (!(value > 0)) return std::nan("");
      return (std::log10(value) - std::log10(lo)) / (std::log10(hi) - std::log10(lo));
    }
    return (value - lo) / (hi - lo);
  }
};

// The smallest 1/2/5 x 10^k step that cuts `span` into at most `target` intervals.
inline double nice_step(double span, int target) {
  const double raw = span / std::max(1, target);
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (m * magnitude >= raw * (1 - 1e-9)) return m * magnitude;
  return 10 * magnitude;
}

namespace detail {

inline std::string format_tick(double value, double step) {
  char text[32];
  const double magnitude = std::max(std::fabs(value), step);
  if (magnitude >= 1e5 || magnitude < 1e-4) {
    std::snprintf(text, sizeof text, "%.0e", value);  // 1e+06, 2e-05: matplotlib's offset-free
  } else {
    const int decimals = std::max(0, static_cast<int>(-std::floor(std::log10(step) + 1e-9)));
    std::snprintf(text, sizeof text, "%.*f", decimals, value);
  }
  return text;
}

}  // namespace detail

// A linear axis over data in [lo, hi], widened by `margin` of the span on each side.
// `min_step` > 0 keeps the step at least that (1 for epochs: no tick at epoch 2.5).
inline Scale linear_scale(double lo, double hi, int target = 6, double margin = 0.05,
                          double min_step = 0.0) {
  require(std::isfinite(lo) && std::isfinite(hi) && lo <= hi, "viz::linear_scale: bad range [", lo,
          ", ", hi, "]");
  if (hi - lo <= 1e-12 * std::max(1.0, std::fabs(hi))) {  // one value: centre it
    const double half = lo != 0 ? std::fabs(lo) * 0.1 : 1.0;
    lo -= half, hi += half;
  }
  const double pad = (hi - lo) * margin;
  Scale scale{lo - pad, hi + pad, false, {}, {}};
  const double step = std::max(nice_step(hi - lo, target), min_step);
  for (double k = std::ceil(scale.lo / step - 1e-9); k * step <= scale.hi * (1 + 1e-12) + 1e-300;
       ++k) {
    const double value = std::fabs(k) < 0.5 ? 0.0 : k * step;  // no "-0.0"
    scale.ticks.push_back(value);
    scale.labels.push_back(detail::format_tick(value, step));
  }
  return scale;
}

// A log10 axis over data in [lo, hi] (both > 0), widened by `margin` of the log span.
inline Scale log_scale(double lo, double hi, double margin = 0.05) {
  require(std::isfinite(lo) && std::isfinite(hi) && lo > 0 && lo <= hi,
          "viz::log_scale: needs a range of positive values, got [", lo, ", ", hi, "]");
  double llo = std::log10(lo), lhi = std::log10(hi);
  if (lhi - llo < 1e-9) llo -= 0.5, lhi += 0.5;
  const double pad = (lhi - llo) * margin;
  llo -= pad, lhi += pad;
  Scale scale{std::pow(10.0, llo), std::pow(10.0, lhi), true, {}, {}};
  // Under two decades 1-2-5 marks as well, under one every whole multiple (2, 3, ... 9).
  const std::vector<double> marks = lhi - llo < 1.0 ? std::vector<double>{1, 2, 3, 4, 5, 6, 7, 8, 9}
                                    : lhi - llo < 2.0 ? std::vector<double>{1, 2, 5}
                                                      : std::vector<double>{1};
  for (int decade = static_cast<int>(std::floor(llo)); decade <= static_cast<int>(std::ceil(lhi));
       ++decade) {
    for (double m : marks) {
      const double value = m * std::pow(10.0, decade);
      const double l = std::log10(value);
      if (l < llo - 1e-9 || l > lhi + 1e-9) continue;
      char text[32];
      std::snprintf(text, sizeof text, "%g", value);
      scale.ticks.push_back(value);
      scale.labels.emplace_back(text);
    }
  }
  // Less than a decade: the 1-2-5 marks may miss the range; fall back to linear ticks.
  if (scale.ticks.size() < 2) {
    Scale linear = linear_scale(lo, hi, 4, 0.0);
    scale.ticks.clear(), scale.labels.clear();
    for (std::size_t i = 0; i < linear.ticks.size(); ++i)
      if (linear.ticks[i] >= scale.lo && linear.ticks[i] <= scale.hi && linear.ticks[i] > 0) {
        scale.ticks.push_back(linear.ticks[i]);
        scale.labels.push_back(linear.labels[i]);
      }
  }
  return scale;
}

}  // namespace clr::viz
