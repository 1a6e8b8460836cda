// viz::LinePlot: series of (x, y) drawn as lines on one panel — training curves (loss,
// learning rate, accuracy per epoch). Ranges are fitted to the data with nice ticks, y can
// be log10, each series takes the next palette colour, and a legend names them.
//
//   viz::LinePlot plot;
//   plot.title("SupCon").x_label("epoch").y_label("loss").log_y(true);
//   plot.add({1, 2, 3}, {5.1, 4.2, 3.9}, "batch 256");
//   viz::write_png(plot.render(800, 500), "loss.png");
#pragma once

#include <cmath>
#include <string>
#include <vector>

#include "clr/core/error.hpp"
#include "clr/viz/axes.hpp"
#include "clr/viz/canvas.hpp"
#include "clr/viz/ticks.hpp"

namespace clr::viz {

struct Series {
  std::vector<double> x, y;  // NaN in either: a gap in the line
  std::string label;         // empty: not in the legend
  Color color;
};

class LinePlot {
 public:
  LinePlot& title(std::string text) { return title_ = std::move(text), *this; }
  LinePlot& x_label(std::string text) { return x_label_ = std::move(text), *this; }
  LinePlot& y_label(std::string text) { return y_label_ = std::move(text), *this; }
  LinePlot& log_y(bool on) { return log_y_ = on, *this; }
  LinePlot& style(AxesStyle s) { return style_ = s, *this; }
  LinePlot& line_width(double width) { return line_width_ = width, *this; }
  // Show a dot at each point as well (for short curves: a few epochs).
  LinePlot& markers(bool on) { return markers_ = on, *this; }

  // Adds a series in the next palette colour.
  LinePlot& add(std::vector<double> x, std::vector<double> y, std::string label = {}) {
    const Color color = palette(series_.size());
    return add(std::move(x), std::move(y), std::move(label), color);
  }
  LinePlot& add(std::vector<double> x, std::vector<double> y, std::string label, Color color) {
    require(x.size() == y.size(), "viz::LinePlot::add: series '", label, "' has ", x.size(),
            " x values and ", y.size(), " y values");
    series_.push_back({std::move(x), std::move(y), std::move(label), color});
    return *this;
  }
  const std::vector<Series>& series() const { return series_; }

  Canvas render(int width, int height) const {
    Canvas canvas(width, height);
    draw(canvas, {0, 0, static_cast<double>(width), static_cast<double>(height)});
    return canvas;
  }

  // Draws the panel inside `area` of `canvas` (figures with several panels).
  void draw(Canvas& canvas, Rect area) const {
    double x_lo = INFINITY, x_hi = -INFINITY, y_lo = INFINITY, y_hi = -INFINITY;
    for (const Series& s : series_)
      for (std::size_t i = 0; i < s.x.size(); ++i) {
        if (!usable(s.x[i], s.y[i])) continue;
        x_lo = std::min(x_lo, s.x[i]), x_hi = std::max(x_hi, s.x[i]);
        y_lo = std::min(y_lo, s.y[i]), y_hi = std::max(y_hi, s.y[i]);
      }
    const bool empty = x_lo > x_hi;
    if (empty) x_lo = 0, x_hi = 1, y_lo = log_y_ ? 1 : 0, y_hi = log_y_ ? 10 : 1;
    bool whole = true;  // x values all integers (epochs): integer ticks
    for (const Series& s : series_)
      for (double v : s.x) whole = whole && (!std::isfinite(v) || v == std::floor(v));
    const Scale x = linear_scale(x_lo, x_hi, std::max(2, static_cast<int>(area.width / 110)), 0.05,
                                 whole ? 1.0 : 0.0);
    const Scale y = log_y_
                        ? log_scale(y_lo, y_hi)
                        : linear_scale(y_lo, y_hi, std::max(2, static_cast<int>(area.height / 70)));
    const Axes axes(area, x, y, title_, x_label_, y_label_, style_);
    axes.draw_grid(canvas);
    std::vector<LegendEntry> legend;
    std::vector<Point> drawn;
    for (const Series& s : series_) {
      std::vector<Point> points;
      for (std::size_t i = 0; i < s.x.size(); ++i)
        points.push_back(usable(s.x[i], s.y[i]) ? axes.map(s.x[i], s.y[i]) : Point{NAN, NAN});
      // A point alone between gaps has no segment: draw it as a dot.
      if (points.size() == 1 || markers_) {
        for (const Point& p : points)
          if (std::isfinite(p.x)) canvas.circle(p, line_width_ * 1.6, s.color);
      }
      canvas.polyline(points, s.color, line_width_);
      for (const Point& p : points)
        if (std::isfinite(p.x)) drawn.push_back(p);
      if (!s.label.empty()) legend.push_back({s.label, s.color, false});
    }
    axes.draw_decorations(canvas);
    if (!legend.empty()) axes.draw_legend(canvas, legend, axes.best_legend_corner(legend, drawn));
  }

 private:
  bool usable(double x, double y) const {
    return std::isfinite(x) && std::isfinite(y) && (!log_y_ || y > 0);
  }

  std::string title_, x_label_, y_label_;
  bool log_y_ = false, markers_ = false;
  double line_width_ = 2.0;
  AxesStyle style_;
  std::vector<Series> series_;
};

}  // namespace clr::viz
