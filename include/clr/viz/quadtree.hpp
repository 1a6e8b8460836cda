// The Barnes-Hut quadtree of a 2-D t-SNE map and the repulsive half of the gradient it
// approximates (van der Maaten 2014, section 4.2): a cell far enough from point i — its
// side over its distance to i below theta — acts as one point of its total mass at its
// centre of mass. theta = 0 opens every cell and gives the exact O(N²) sums.
//
// The tree is rebuilt every iteration as a flat array: the points' indices are partitioned
// in place into quadrants, recursively, so a cell's points are one contiguous range and a
// leaf's points are summed exactly (which also handles coincident points, for which no
// finite depth would separate them).
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <vector>

#include "clr/viz/canvas.hpp"

namespace clr::viz {

class QuadTree {
 public:
  explicit QuadTree(const std::vector<Point>& points) : points_(points) {
    const auto n = static_cast<int>(points.size());
    order_.resize(n);
    for (int i = 0; i < n; ++i) order_[i] = i;
    if (n == 0) return;
    double x0 = points[0].x, x1 = x0, y0 = points[0].y, y1 = y0;
    for (const Point& p : points) {
      x0 = std::min(x0, p.x), x1 = std::max(x1, p.x);
      y0 = std::min(y0, p.y), y1 = std::max(y1, p.y);
    }
    const double side = std::max(x1 - x0, y1 - y0) * (1 + 1e-9) + 1e-300;
    nodes_.reserve(2 * n);
    build(0, n, x0, y0, side, 0);
    position_.resize(n);
    for (int at = 0; at < n; ++at) position_[order_[at]] = at;
  }

  // For point i: adds Σ_{j≠i} w_ij² (y_i - y_j) to (fx, fy), with w_ij = 1 / (1 + |y_i - y_j|²),
  // and returns Σ_{j≠i} w_ij (its share of the normalisation Z), cells far enough away
  // standing for their points.
  double repulsion(int i, double theta, double& fx, double& fy) const {
    if (nodes_.empty()) return 0.0;
    const Point yi = points_[i];
    const int at = position_[i];
    const double theta2 = theta * theta;
    double z = 0.0;
    int stack[4 * kMaxDepth + 8];
    int top = 0;
    stack[top++] = 0;
    while (top > 0) {
      const Node& node = nodes_[stack[--top]];
      const bool holds_i = at >= node.begin && at < node.end;
      if (node.first_child < 0) {  // a leaf: its points one by one
        for (int e = node.begin; e < node.end; ++e) {
          if (e == at) continue;
          const Point& yj = points_[order_[e]];
          const double dx = yi.x - yj.x, dy = yi.y - yj.y;
          const double w = 1.0 / (1.0 + dx * dx + dy * dy);
          z += w;
          fx += w * w * dx, fy += w * w * dy;
        }
        continue;
      }
      const double dx = yi.x - node.cx, dy = yi.y - node.cy, d2 = dx * dx + dy * dy;
      if (!holds_i && node.side * node.side < theta2 * d2) {
        const double w = 1.0 / (1.0 + d2), mass = node.end - node.begin;
        z += mass * w;
        fx += mass * w * w * dx, fy += mass * w * w * dy;
        continue;
      }
      for (int c = 0; c < 4; ++c)
        if (node.children[c] >= 0) stack[top++] = node.children[c];
    }
    return z;
  }

  std::size_t nodes() const { return nodes_.size(); }

 private:
  static constexpr int kMaxDepth = 48;  // cells 2^-48 of the map: points that close coincide

  struct Node {
    double cx, cy;         // centre of mass
    double side;           // the cell's side length
    int begin, end;        // its points: order_[begin, end)
    int first_child = -1;  // -1: a leaf
    std::array<int, 4> children{-1, -1, -1, -1};
  };

  int build(int begin, int end, double x0, double y0, double side, int depth) {
    const int index = static_cast<int>(nodes_.size());
    nodes_.push_back({0, 0, side, begin, end});
    double sx = 0, sy = 0;
    for (int e = begin; e < end; ++e) sx += points_[order_[e]].x, sy += points_[order_[e]].y;
    nodes_[index].cx = sx / (end - begin), nodes_[index].cy = sy / (end - begin);
    if (end - begin <= 1 || depth >= kMaxDepth) return index;
    const double half = side / 2, mx = x0 + half, my = y0 + half;
    int* first = order_.data() + begin;
    int* last = order_.data() + end;
    int* split_x = std::partition(first, last, [&](int j) { return points_[j].x < mx; });
    int* split_lo = std::partition(first, split_x, [&](int j) { return points_[j].y < my; });
    int* split_hi = std::partition(split_x, last, [&](int j) { return points_[j].y < my; });
    const int bounds[5] = {begin, static_cast<int>(split_lo - order_.data()),
                           static_cast<int>(split_x - order_.data()),
                           static_cast<int>(split_hi - order_.data()), end};
    const double corner_x[4] = {x0, x0, mx, mx}, corner_y[4] = {y0, my, y0, my};
    nodes_[index].first_child = 0;  // an inner node, whatever children it gets
    for (int c = 0; c < 4; ++c) {
      if (bounds[c + 1] == bounds[c]) continue;
      const int child = build(bounds[c], bounds[c + 1], corner_x[c], corner_y[c], half, depth + 1);
      nodes_[index].children[c] = child;
    }
    return index;
  }

  const std::vector<Point>& points_;
  std::vector<int> order_;     // point indices, grouped by cell
  std::vector<int> position_;  // where point i sits in order_
  std::vector<Node> nodes_;
};

}  // namespace clr::viz
