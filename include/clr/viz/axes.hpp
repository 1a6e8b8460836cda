// viz::Axes: one panel of a figure — the frame, the grid, ticks and their labels, the axis
// labels, the title and a legend — laid out inside a rectangle of the canvas so that
// nothing overlaps: the margins are measured from the tick labels and text actually drawn.
// LinePlot and ScatterPlot draw their data through it.
#pragma once

#include <algorithm>
#include <string>
#include <vector>

#include "clr/viz/canvas.hpp"
#include "clr/viz/ticks.hpp"

namespace clr::viz {

struct Rect {
  double x = 0, y = 0, width = 0, height = 0;
  bool contains(Point p) const {
    return p.x >= x && p.x <= x + width && p.y >= y && p.y <= y + height;
  }
};

// Text sizes are cap heights in pixels; the defaults read well at about 100 dpi.
struct AxesStyle {
  double tick_size = 10, label_size = 11, title_size = 13, legend_size = 10;
  double tick_length = 5, frame_width = 1.0, grid_width = 1.0;
  bool grid = true, ticks = true;
};

struct LegendEntry {
  std::string label;
  Color color;
  bool marker = false;  // a dot (scatter) rather than a line sample
};

class Axes {
 public:
  // Lays the panel out in `area`; `right_reserve` keeps that many pixels free on the right
  // (a legend outside the frame).
  Axes(Rect area, Scale x, Scale y, std::string title, std::string x_label, std::string y_label,
       AxesStyle style = {}, double right_reserve = 0)
      : x_(std::move(x)),
        y_(std::move(y)),
        title_(std::move(title)),
        x_label_(std::move(x_label)),
        y_label_(std::move(y_label)),
        style_(style) {
    const double gap = 0.6 * style.tick_size;  // tick label to tick, text to text
    double tick_label_width = 0;
    if (style.ticks)
      for (const auto& label : y_.labels)
        tick_label_width = std::max(tick_label_width, Canvas::text_width(label, style.tick_size));
    const double tick_band = style.ticks ? style.tick_length + gap : 0;
    double left = 8 + tick_band + tick_label_width;
    if (!y_label_.empty()) left += style.label_size * 1.3 + gap;
    double bottom = 8 + (style.ticks ? tick_band + style.tick_size * 1.3 : 0);
    if (!x_label_.empty()) bottom += style.label_size * 1.3 + gap;
    const double top = title_.empty() ? 12 : style.title_size * 1.3 + 2 * gap + 4;
    // The last x tick label is centred on the frame's edge: keep room for its right half.
    double right = 14;
    if (style.ticks && !x_.labels.empty())
      right = std::max(right, Canvas::text_width(x_.labels.back(), style.tick_size) / 2 + 6);
    right += right_reserve;
    area_ = area;
    frame_ = {area.x + left, area.y + top, std::max(10.0, area.width - left - right),
              std::max(10.0, area.height - top - bottom)};
  }

  const Rect& frame() const { return frame_; }
  const Rect& area() const { return area_; }

  // Canvas position of data point (x, y); NaN where a log axis gets a value <= 0.
  Point map(double x, double y) const {
    return {frame_.x + x_.fraction(x) * frame_.width,
            frame_.y + (1 - y_.fraction(y)) * frame_.height};
  }

  // The grid, under the data.
  void draw_grid(Canvas& canvas) const {
    if (!style_.grid) return;
    for (double t : x_.ticks) {
      const double px = snap(frame_.x + x_.fraction(t) * frame_.width, style_.grid_width);
      canvas.line({px, frame_.y}, {px, frame_.y + frame_.height}, kGrid, style_.grid_width);
    }
    for (double t : y_.ticks) {
      const double py = snap(frame_.y + (1 - y_.fraction(t)) * frame_.height, style_.grid_width);
      canvas.line({frame_.x, py}, {frame_.x + frame_.width, py}, kGrid, style_.grid_width);
    }
  }

  // Frame, ticks, labels and title, over the data.
  void draw_decorations(Canvas& canvas) const {
    const Rect& f = frame_;
    const double w = style_.frame_width;
    canvas.stroke_rect(snap(f.x, w), snap(f.y, w), snap(f.x + f.width, w), snap(f.y + f.height, w),
                       kAxis, w);
    const double gap = 0.6 * style_.tick_size;
    if (style_.ticks) {
      for (std::size_t i = 0; i < x_.ticks.size(); ++i) {
        const double px = snap(f.x + x_.fraction(x_.ticks[i]) * f.width, w);
        const double base = f.y + f.height;
        canvas.line({px, base}, {px, base + style_.tick_length}, kAxis, w);
        canvas.text(px, base + style_.tick_length + gap, x_.labels[i], kText, style_.tick_size,
                    Align::center, Align::start);
      }
      for (std::size_t i = 0; i < y_.ticks.size(); ++i) {
        const double py = snap(f.y + (1 - y_.fraction(y_.ticks[i])) * f.height, w);
        canvas.line({f.x - style_.tick_length, py}, {f.x, py}, kAxis, w);
        canvas.text(f.x - style_.tick_length - gap, py, y_.labels[i], kText, style_.tick_size,
                    Align::end, Align::center);
      }
    }
    if (!x_label_.empty())
      canvas.text(f.x + f.width / 2, area_.y + area_.height - 8, x_label_, kText, style_.label_size,
                  Align::center, Align::end);
    if (!y_label_.empty())
      canvas.text(area_.x + 8, f.y + f.height / 2, y_label_, kText, style_.label_size,
                  Align::center, Align::start, /*rotated=*/true);
    if (!title_.empty())
      canvas.text(f.x + f.width / 2, area_.y + gap + 4, title_, kText, style_.title_size,
                  Align::center, Align::start);
  }

  // The legend box's size for these entries.
  Point legend_size(const std::vector<LegendEntry>& entries) const {
    const double s = style_.legend_size;
    double text = 0;
    for (const auto& e : entries) text = std::max(text, Canvas::text_width(e.label, s));
    return {s * 0.8 + 2.2 * s + 0.8 * s + text + s * 0.8, s * 0.8 + entries.size() * s * 1.8};
  }

  // Draws the legend with its top-left corner at `corner`.
  void draw_legend(Canvas& canvas, const std::vector<LegendEntry>& entries, Point corner) const {
    if (entries.empty()) return;
    const double s = style_.legend_size;
    const Point size = legend_size(entries);
    canvas.fill_rect(corner.x, corner.y, corner.x + size.x, corner.y + size.y, kWhite, 0.85);
    canvas.stroke_rect(snap(corner.x, 1), snap(corner.y, 1), snap(corner.x + size.x, 1),
                       snap(corner.y + size.y, 1), kLegendEdge, 1.0);
    for (std::size_t i = 0; i < entries.size(); ++i) {
      const double cy = corner.y + s * 0.4 + (i + 0.5) * s * 1.8;
      const double x0 = corner.x + s * 0.8;
      if (entries[i].marker) {
        canvas.circle({x0 + 1.1 * s, cy}, 0.45 * s, entries[i].color);
      } else {
        canvas.line({x0, cy}, {x0 + 2.2 * s, cy}, entries[i].color, 2.0);
      }
      canvas.text(x0 + 3.0 * s, cy, entries[i].label, kText, s, Align::start, Align::center);
    }
  }

  // matplotlib's loc="best" among the frame's four inner corners: the one whose box covers
  // the fewest of `points` (canvas positions), upper right on a tie.
  Point best_legend_corner(const std::vector<LegendEntry>& entries,
                           const std::vector<Point>& points) const {
    const Point size = legend_size(entries);
    const double pad = 8;
    const Rect& f = frame_;
    const Point corners[4] = {{f.x + f.width - pad - size.x, f.y + pad},
                              {f.x + pad, f.y + pad},
                              {f.x + f.width - pad - size.x, f.y + f.height - pad - size.y},
                              {f.x + pad, f.y + f.height - pad - size.y}};
    Point best = corners[0];
    long fewest = -1;
    for (const Point& c : corners) {
      const Rect box{c.x - 4, c.y - 4, size.x + 8, size.y + 8};
      long covered = 0;
      for (const Point& p : points) covered += box.contains(p);
      if (fewest < 0 || covered < fewest) fewest = covered, best = c;
    }
    return best;
  }

 private:
  // A line of odd pixel width lands on pixel centres, so it is drawn crisp, not as two
  // half-covered rows.
  static double snap(double v, double width) {
    const double shift = static_cast<long>(width) % 2 ? 0.5 : 0.0;
    return std::floor(v) + shift;
  }

  Scale x_, y_;
  std::string title_, x_label_, y_label_;
  AxesStyle style_;
  Rect area_, frame_;
};

}  // namespace clr::viz
