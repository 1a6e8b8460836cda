// viz::Canvas: an RGB raster that the plots draw on, with anti-aliased primitives: lines
// and polylines of any width, filled circles, rectangles and text. Pixel (x, y) covers
// [x, x+1) x [y, y+1), y down; coordinates are doubles, so shapes land between pixels and
// their edges are shaded by the fraction of each pixel they cover.
//
// Every shape is first rasterised into a coverage mask over its bounding box and then
// composited once: overlapping strokes of one polyline (its joints) or one string (its
// glyph rectangles) do not darken where they overlap, which alpha-blending each piece in
// turn would do.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string_view>
#include <vector>

#include "clr/core/error.hpp"
#include "clr/viz/color.hpp"
#include "clr/viz/detail/font.hpp"

namespace clr::viz {

struct Point {
  double x = 0.0, y = 0.0;
};

// Where text sits relative to its anchor point.
enum class Align { start, center, end };

class Canvas {
 public:
  Canvas(int width, int height, Color background = kWhite) : width_(width), height_(height) {
    require(width > 0 && height > 0 && width <= (1 << 14) && height <= (1 << 14),
            "viz::Canvas: size must be 1 to 16384 pixels a side, got ", width, "x", height);
    pixels_.resize(static_cast<std::size_t>(width) * height * 3);
    fill(background);
  }

  int width() const { return width_; }
  int height() const { return height_; }
  // Row-major RGB, 3 bytes a pixel.
  const std::vector<std::uint8_t>& pixels() const { return pixels_; }
  Color pixel(int x, int y) const {
    require(x >= 0 && x < width_ && y >= 0 && y < height_, "viz::Canvas::pixel: (", x, ", ", y,
            ") is outside the ", width_, "x", height_, " canvas");
    const std::uint8_t* p = &pixels_[(static_cast<std::size_t>(y) * width_ + x) * 3];
    return {p[0], p[1], p[2]};
  }

  void fill(Color color) {
    for (std::size_t i = 0; i < pixels_.size(); i += 3) {
      pixels_[i] = color.r;
      pixels_[i + 1] = color.g;
      pixels_[i + 2] = color.b;
    }
  }

  // Mixes `color` into pixel (x, y) with weight alpha in [0, 1]; outside the canvas: nothing.
  void blend(int x, int y, Color color, double alpha) {
    if (x < 0 || x >= width_ || y < 0 || y >= height_ || alpha <= 0.0) return;
    alpha = std::min(alpha, 1.0);
    std::uint8_t* p = &pixels_[(static_cast<std::size_t>(y) * width_ + x) * 3];
    const auto mix = [alpha](std::uint8_t under, std::uint8_t over) {
      return static_cast<std::uint8_t>(std::lround(under + alpha * (over - under)));
    };
    p[0] = mix(p[0], color.r);
    p[1] = mix(p[1], color.g);
    p[2] = mix(p[2], color.b);
  }

  // The rectangle [x0, x1) x [y0, y1), edges shaded by exact area.
  void fill_rect(double x0, double y0, double x1, double y1, Color color, double alpha = 1.0) {
    Mask mask(*this, x0, y0, x1, y1);
    mask.add_rect(x0, y0, x1, y1);
    mask.composite(*this, color, alpha);
  }

  // The outline of a rectangle, `line_width` wide, centred on its edges.
  void stroke_rect(double x0, double y0, double x1, double y1, Color color,
                   double line_width = 1.0) {
    const double h = line_width / 2;
    Mask mask(*this, x0 - h, y0 - h, x1 + h, y1 + h);
    mask.add_rect(x0 - h, y0 - h, x1 + h, y0 + h);
    mask.add_rect(x0 - h, y1 - h, x1 + h, y1 + h);
    mask.add_rect(x0 - h, y0 + h, x0 + h, y1 - h);
    mask.add_rect(x1 - h, y0 + h, x1 + h, y1 - h);
    mask.composite(*this, color, 1.0);
  }

  void line(Point a, Point b, Color color, double line_width = 1.0, double alpha = 1.0) {
    polyline({a, b}, color, line_width, alpha);
  }

  // Connected segments with round joins and caps. Non-finite points break the line (a
  // gap, as matplotlib draws NaN).
  void polyline(const std::vector<Point>& points, Color color, double line_width = 1.5,
                double alpha = 1.0) {
    double x0 = 1e300, y0 = 1e300, x1 = -1e300, y1 = -1e300;
    for (const Point& p : points) {
      if (!finite(p)) continue;
      x0 = std::min(x0, p.x), y0 = std::min(y0, p.y);
      x1 = std::max(x1, p.x), y1 = std::max(y1, p.y);
    }
    if (x0 > x1) return;
    const double h = line_width / 2 + 1;
    Mask mask(*this, x0 - h, y0 - h, x1 + h, y1 + h);
    for (std::size_t i = 0; i + 1 < points.size(); ++i)
      if (finite(points[i]) && finite(points[i + 1]))
        mask.add_capsule(points[i], points[i + 1], line_width / 2);
    if (points.size() == 1 && finite(points[0])) mask.add_capsule(points[0], points[0], h - 1);
    mask.composite(*this, color, alpha);
  }

  // A filled disc; `edge` > 0 draws a ring of that width in `edge_color` on its rim.
  void circle(Point centre, double radius, Color color, double alpha = 1.0, double edge = 0.0,
              Color edge_color = kWhite) {
    const double r = radius + 1;
    Mask mask(*this, centre.x - r, centre.y - r, centre.x + r, centre.y + r);
    mask.add_capsule(centre, centre, radius);
    mask.composite(*this, color, alpha);
    if (edge > 0.0) {
      Mask ring(*this, centre.x - r, centre.y - r, centre.x + r, centre.y + r);
      ring.add_ring(centre, radius, edge);
      ring.composite(*this, edge_color, alpha);
    }
  }

  // Text of cap height `size` pixels. (x, y) is the anchor: `horizontal` says whether it is
  // the text's left end, centre or right end, `vertical` whether it is the top of the
  // capitals, their middle or their baseline. `rotated` turns the text 90 degrees
  // counter-clockwise (a y-axis label), the alignments then along its own direction.
  void text(double x, double y, std::string_view text, Color color, double size,
            Align horizontal = Align::start, Align vertical = Align::start, bool rotated = false) {
    const double scale = size / detail::kFontCapHeight;
    const double along = -offset(horizontal) * detail::font_width(text) * scale;
    const double across = -offset(vertical) * size;
    std::vector<detail::FontRect> rects = detail::font_rects(text);
    if (rects.empty()) return;
    // Font units → canvas: (u, v) → (x + along + u·s, y + across + v·s), or rotated by 90°
    // counter-clockwise about the anchor: (x + across + v·s, y - along - u·s).
    double bx0 = 1e300, by0 = 1e300, bx1 = -1e300, by1 = -1e300;
    for (auto& r : rects) {
      double u0 = along + r.x0 * scale, u1 = along + r.x1 * scale;
      double v0 = across + r.y0 * scale, v1 = across + r.y1 * scale;
      r = rotated ? detail::FontRect{static_cast<float>(x + v0), static_cast<float>(y - u1),
                                     static_cast<float>(x + v1), static_cast<float>(y - u0)}
                  : detail::FontRect{static_cast<float>(x + u0), static_cast<float>(y + v0),
                                     static_cast<float>(x + u1), static_cast<float>(y + v1)};
      bx0 = std::min<double>(bx0, r.x0), by0 = std::min<double>(by0, r.y0);
      bx1 = std::max<double>(bx1, r.x1), by1 = std::max<double>(by1, r.y1);
    }
    Mask mask(*this, bx0, by0, bx1, by1);
    for (const auto& r : rects) mask.add_rect(r.x0, r.y0, r.x1, r.y1);
    mask.composite(*this, color, 1.0);
  }

  // The width in pixels of `text` at cap height `size`.
  static double text_width(std::string_view text, double size) {
    return detail::font_width(text) * size / detail::kFontCapHeight;
  }

 private:
  static bool finite(Point p) { return std::isfinite(p.x) && std::isfinite(p.y); }
  static double offset(Align align) {
    return align == Align::start ? 0.0 : align == Align::center ? 0.5 : 1.0;
  }

  // Per-pixel coverage in [0, 1] over a box of the canvas (clipped to it).
  class Mask {
   public:
    Mask(const Canvas& canvas, double x0, double y0, double x1, double y1)
        : x0_(std::max(0, static_cast<int>(std::floor(std::max(x0, -1.0))))),
          y0_(std::max(0, static_cast<int>(std::floor(std::max(y0, -1.0))))),
          x1_(std::min(canvas.width_, static_cast<int>(std::ceil(std::min(x1, 1e6))))),
          y1_(std::min(canvas.height_, static_cast<int>(std::ceil(std::min(y1, 1e6))))) {
      if (x1_ > x0_ && y1_ > y0_)
        coverage_.assign(static_cast<std::size_t>(x1_ - x0_) * (y1_ - y0_), 0.0f);
    }

    // Adds the exact area of the rectangle inside each pixel (summed, so that adjacent
    // rectangles tile seamlessly; capped at 1 when composited).
    void add_rect(double rx0, double ry0, double rx1, double ry1) {
      if (coverage_.empty() || rx1 <= rx0 || ry1 <= ry0) return;
      const int px0 = std::max(x0_, static_cast<int>(std::floor(rx0)));
      const int px1 = std::min(x1_, static_cast<int>(std::ceil(rx1)));
      const int py0 = std::max(y0_, static_cast<int>(std::floor(ry0)));
      const int py1 = std::min(y1_, static_cast<int>(std::ceil(ry1)));
      for (int py = py0; py < py1; ++py) {
        const double cover_y = std::min<double>(py + 1, ry1) - std::max<double>(py, ry0);
        for (int px = px0; px < px1; ++px) {
          const double cover_x = std::min<double>(px + 1, rx1) - std::max<double>(px, rx0);
          at(px, py) += static_cast<float>(cover_x * cover_y);
        }
      }
    }

    // The set of points within `radius` of segment ab, its coverage approximated by the
    // signed distance of the pixel centre to the edge (exact for edges that cross a pixel
    // straight, within a few % otherwise). Kept as a maximum, so joints do not add up.
    void add_capsule(Point a, Point b, double radius) {
      if (coverage_.empty()) return;
      const double dx = b.x - a.x, dy = b.y - a.y, length2 = dx * dx + dy * dy;
      const int px0 = std::max(x0_, static_cast<int>(std::floor(std::min(a.x, b.x) - radius)));
      const int px1 = std::min(x1_, static_cast<int>(std::ceil(std::max(a.x, b.x) + radius)) + 1);
      const int py0 = std::max(y0_, static_cast<int>(std::floor(std::min(a.y, b.y) - radius)));
      const int py1 = std::min(y1_, static_cast<int>(std::ceil(std::max(a.y, b.y) + radius)) + 1);
      // A hairline (radius < 0.5) keeps its full darkness spread thinner, so that a 1 px
      // line is not drawn as a faint 2 px one.
      const double r = std::max(radius, 0.5), weight = std::min(1.0, 2 * radius);
      for (int py = py0; py < py1; ++py) {
        for (int px = px0; px < px1; ++px) {
          const double cx = px + 0.5 - a.x, cy = py + 0.5 - a.y;
          const double t = length2 > 0 ? std::clamp((cx * dx + cy * dy) / length2, 0.0, 1.0) : 0;
          const double ex = cx - t * dx, ey = cy - t * dy;
          const double c = std::clamp(r + 0.5 - std::sqrt(ex * ex + ey * ey), 0.0, 1.0) * weight;
          float& cell = at(px, py);
          cell = std::max(cell, static_cast<float>(c));
        }
      }
    }

    // The annulus between radius - width and radius around `centre`.
    void add_ring(Point centre, double radius, double width) {
      for (int py = y0_; py < y1_; ++py) {
        for (int px = x0_; px < x1_; ++px) {
          const double d = std::hypot(px + 0.5 - centre.x, py + 0.5 - centre.y);
          const double outer = std::clamp(radius + 0.5 - d, 0.0, 1.0);
          const double inner = std::clamp(radius - width + 0.5 - d, 0.0, 1.0);
          at(px, py) = static_cast<float>(outer - inner);
        }
      }
    }

    void composite(Canvas& canvas, Color color, double alpha) const {
      if (coverage_.empty()) return;
      for (int py = y0_; py < y1_; ++py)
        for (int px = x0_; px < x1_; ++px) {
          const float c = coverage_[static_cast<std::size_t>(py - y0_) * (x1_ - x0_) + (px - x0_)];
          if (c > 0.0f) canvas.blend(px, py, color, std::min(1.0f, c) * alpha);
        }
    }

   private:
    float& at(int px, int py) {
      return coverage_[static_cast<std::size_t>(py - y0_) * (x1_ - x0_) + (px - x0_)];
    }
    int x0_, y0_, x1_, y1_;
    std::vector<float> coverage_;
  };

  int width_, height_;
  std::vector<std::uint8_t> pixels_;
};

}  // namespace clr::viz
