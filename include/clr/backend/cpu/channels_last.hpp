// Copies of an image between the activations' layout [channel][row][column] and the
// channels-last layout [row][column][channel] with zeros around it, in which the
// channels-last convolutions (winograd_channels_last.hpp, im2col_channels_last.hpp) read a
// position's channels as consecutive floats. The copies are 16 × 16 register transposes
// (transpose.hpp).
#pragma once

#include <algorithm>

#include "clr/backend/cpu/transpose.hpp"

namespace clr::cpu_impl {

// Where an image lies in a channels-last buffer: a grid of `rows` × `columns` positions of
// `ld` floats, the image's height × width of them from (top, left), its `channels` values
// first in each position; everything else is zeros.
struct ChannelsLastImage {
  int channels, height, width;
  int top, left, rows, columns;
  long ld;

  long floats() const { return static_cast<long>(rows) * columns * ld; }
  // Position (r, c) of the image (not of the grid).
  long offset(int r, int c) const { return (static_cast<long>(r + top) * columns + c + left) * ld; }
};

// p = x [channels, height, width] channels-last as `shape` says, with its zeros.
inline void to_channels_last(const float* x, const ChannelsLastImage& shape, float* p) {
  const long row_floats = shape.columns * shape.ld;
  for (int r = 0; r < shape.rows; ++r) {  // the zeros
    float* row = p + r * row_floats;
    if (r < shape.top || r >= shape.top + shape.height) {
      std::fill_n(row, row_floats, 0.0f);
      continue;
    }
    std::fill_n(row, shape.left * shape.ld, 0.0f);
    std::fill(row + (shape.left + shape.width) * shape.ld, row + row_floats, 0.0f);
    if (shape.ld > shape.channels)
      for (int c = shape.left; c < shape.left + shape.width; ++c)
        std::fill(row + c * shape.ld + shape.channels, row + (c + 1) * shape.ld, 0.0f);
  }
  const long plane = static_cast<long>(shape.height) * shape.width;
  const int w = shape.width;
  Transpose16::matrix(
      shape.channels, shape.height * w, [&](int k) { return x + k * plane; },
      [&](int q) { return p + shape.offset(q / w, q % w); });
}

// y [channels, height, width] = the image `shape` places in p.
inline void from_channels_last(const float* p, const ChannelsLastImage& shape, float* y) {
  const long plane = static_cast<long>(shape.height) * shape.width;
  const int w = shape.width;
  Transpose16::matrix(
      shape.height * w, shape.channels, [&](int q) { return p + shape.offset(q / w, q % w); },
      [&](int k) { return y + k * plane; });
}

}  // namespace clr::cpu_impl
