// viz::ScatterPlot: 2-D points coloured by integer class, with a legend of the classes
// beside the frame — the t-SNE figure of SupContrast's README.
//
//   viz::ScatterPlot plot;
//   plot.title("SupCon, Fashion-MNIST test").class_names({"T-shirt/top", "Trouser", ...});
//   plot.set(xs, ys, labels);
//   viz::write_png(plot.render(900, 700), "tsne.png");
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <string>
#include <vector>

#include "clr/core/error.hpp"
#include "clr/core/rng.hpp"
#include "clr/viz/axes.hpp"
#include "clr/viz/canvas.hpp"
#include "clr/viz/ticks.hpp"

namespace clr::viz {

class ScatterPlot {
 public:
  ScatterPlot& title(std::string text) { return title_ = std::move(text), *this; }
  ScatterPlot& x_label(std::string text) { return x_label_ = std::move(text), *this; }
  ScatterPlot& y_label(std::string text) { return y_label_ = std::move(text), *this; }
  // Names of classes 0, 1, ...; a class without a name is shown as its number.
  ScatterPlot& class_names(std::vector<std::string> names) {
    return names_ = std::move(names), *this;
  }
  // Marker radius in pixels; 0 (the default) picks one from the number of points.
  ScatterPlot& marker_radius(double r) { return radius_ = r, *this; }
  ScatterPlot& alpha(double a) { return alpha_ = a, *this; }
  // t-SNE coordinates carry no meaning: figures of them usually hide the ticks.
  ScatterPlot& ticks(bool on) { return style_.ticks = on, style_.grid = on, *this; }
  ScatterPlot& style(AxesStyle s) { return style_ = s, *this; }

  ScatterPlot& set(std::vector<double> x, std::vector<double> y, std::vector<int> labels) {
    require(x.size() == y.size() && x.size() == labels.size(), "viz::ScatterPlot::set: ", x.size(),
            " x values, ", y.size(), " y values and ", labels.size(),
            " labels; expected as many of each");
    for (std::size_t i = 0; i < labels.size(); ++i)
      require(labels[i] >= 0 && labels[i] < 1000, "viz::ScatterPlot::set: label ", labels[i],
              " of point ", i, " is outside [0, 1000)");
    x_ = std::move(x), y_ = std::move(y), labels_ = std::move(labels);
    return *this;
  }

  Canvas render(int width, int height) const {
    Canvas canvas(width, height);
    draw(canvas, {0, 0, static_cast<double>(width), static_cast<double>(height)});
    return canvas;
  }

  void draw(Canvas& canvas, Rect area) const {
    double x_lo = INFINITY, x_hi = -INFINITY, y_lo = INFINITY, y_hi = -INFINITY;
    int classes = 0;
    for (std::size_t i = 0; i < x_.size(); ++i) {
      classes = std::max(classes, labels_[i] + 1);
      if (!std::isfinite(x_[i]) || !std::isfinite(y_[i])) continue;
      x_lo = std::min(x_lo, x_[i]), x_hi = std::max(x_hi, x_[i]);
      y_lo = std::min(y_lo, y_[i]), y_hi = std::max(y_hi, y_[i]);
    }
    if (x_lo > x_hi) x_lo = y_lo = 0, x_hi = y_hi = 1;
    std::vector<LegendEntry> legend;
    for (int c = 0; c < classes; ++c)
      legend.push_back(
          {c < static_cast<int>(names_.size()) ? names_[c] : std::to_string(c), palette(c), true});
    const Scale x = linear_scale(x_lo, x_hi, std::max(2, static_cast<int>(area.width / 110)));
    const Scale y = linear_scale(y_lo, y_hi, std::max(2, static_cast<int>(area.height / 70)));
    // The legend sits right of the frame, so no class hides another's points.
    const Axes probe(area, x, y, title_, x_label_, y_label_, style_);
    const double reserve = legend.empty() ? 0 : probe.legend_size(legend).x + 16;
    const Axes axes(area, x, y, title_, x_label_, y_label_, style_, reserve);
    axes.draw_grid(canvas);
    const double n = static_cast<double>(std::max<std::size_t>(1, x_.size()));
    const double radius = radius_ > 0 ? radius_ : std::clamp(40.0 / std::sqrt(n), 1.6, 5.0);
    // In a fixed shuffled order, so that the class drawn last does not cover the others
    // where clusters touch; the same order every time, so renders are reproducible.
    std::vector<std::size_t> order(x_.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    Rng rng(0x5CA77E4);
    for (std::size_t i = order.size(); i > 1; --i)
      std::swap(order[i - 1], order[rng.uniform_int(static_cast<std::uint32_t>(i))]);
    for (std::size_t i : order)
      if (std::isfinite(x_[i]) && std::isfinite(y_[i]))
        canvas.circle(axes.map(x_[i], y_[i]), radius, palette(labels_[i]), alpha_);
    axes.draw_decorations(canvas);
    const Rect& f = axes.frame();
    axes.draw_legend(canvas, legend, {f.x + f.width + 12, f.y});
  }

 private:
  std::string title_, x_label_, y_label_;
  std::vector<std::string> names_;
  std::vector<double> x_, y_;
  std::vector<int> labels_;
  double radius_ = 0, alpha_ = 0.8;
  AxesStyle style_;
};

}  // namespace clr::viz
