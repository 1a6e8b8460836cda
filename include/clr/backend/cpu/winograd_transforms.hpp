// The tile transforms of Winograd's minimal filtering F(2×2, 3×3) (Lavin & Gray 2016,
// "Fast Algorithms for Convolutional Neural Networks"), for a 3×3 convolution at stride 1,
// padding 1, with the matrices
//   Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1],  G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1],
//   Aᵀ = [1 1 1 0; 0 1 −1 −1].
// Output tile (ty, tx) covers output rows 2ty, 2ty + 1 and columns 2tx, 2tx + 1 and reads the
// 4×4 input tile starting at (2ty − 1, 2tx − 1); positions outside the image read zeros (the
// padding) and outputs past its edge are dropped, so any height and width work.
//
// A transformed tile has 16 values ξ = 4i + j; each transform writes or reads them as 16
// separate rows, ξ at offset ξ·xi_stride, so that the 16 products are 16 plain GEMMs. The
// plane transforms run one row of tiles at a time: the vertical half of the transform
// elementwise over whole image rows (vectorised), then the horizontal half per tile, in
// whole steps of kLanes tiles. A row of 14, 7 or 4 tiles (28×28 … 7×7 images) would
// otherwise leave most of its tiles to the scalar remainder of the vectorised loop, which
// made these transforms cost 2–3× the GEMMs at 16 channels. So a plane's tile loops read
// up to chunked_w() − tiles_w() < kLanes values past the plane's last tile and write as
// many past it: the tile matrices leave kLanes columns of room after each row (Winograd's
// kSpill), and each row's spill lands on tiles that are written after it.
#pragma once

#include <algorithm>

namespace clr::cpu_impl::winograd {

constexpr int kTransformed = 16;  // values of a transformed 4×4 tile
constexpr int kLanes = 8;         // tiles per vector step of the tile loops

// The tiles of an H × W image: 2×2 output tiles, the last row / column partial if odd.
struct Tiling {
  int height, width;

  int tiles_h() const { return (height + 1) / 2; }
  int tiles_w() const { return (width + 1) / 2; }
  int tiles() const { return tiles_h() * tiles_w(); }
  // The tile loops run in whole chunks of kLanes (no scalar remainder): tiles_w rounded up.
  int chunked_w() const { return (tiles_w() + kLanes - 1) / kLanes * kLanes; }
  // Floats of scratch the plane transforms need: four padded rows and a row of zeros (input
  // and gradient), or eight rows of tiles and two output rows (output).
  long scratch_floats() const { return 6L * padded_width(); }
  int padded_width() const { return 2 * chunked_w() + 2; }
};

// u[ξ·stride] = (G g Gᵀ)_ξ for one 3×3 filter g (row-major); with `flip`, of g rotated by
// 180° (the kernel of the input gradient).
inline void transform_filter(const float* g, bool flip, float* u, long stride) {
  float k[9];
  for (int t = 0; t < 9; ++t) k[t] = g[flip ? 8 - t : t];
  float gg[4][3];  // G g: rows g0, (g0 + g1 + g2)/2, (g0 − g1 + g2)/2, g2
  for (int c = 0; c < 3; ++c) {
    gg[0][c] = k[c];
    gg[1][c] = 0.5f * (k[c] + k[3 + c] + k[6 + c]);
    gg[2][c] = 0.5f * (k[c] - k[3 + c] + k[6 + c]);
    gg[3][c] = k[6 + c];
  }
  for (int i = 0; i < 4; ++i) {  // (G g) Gᵀ, the same on the columns
    const float* r = gg[i];
    u[(4 * i + 0) * stride] = r[0];
    u[(4 * i + 1) * stride] = 0.5f * (r[0] + r[1] + r[2]);
    u[(4 * i + 2) * stride] = 0.5f * (r[0] - r[1] + r[2]);
    u[(4 * i + 3) * stride] = r[2];
  }
}

// dg += Gᵀ dU G for one filter, the adjoint of transform_filter (without flip).
inline void add_filter_gradient(const float* du, float* dg) {
  float h[3][4];  // Gᵀ dU: rows d0 + (d1 + d2)/2, (d1 − d2)/2, (d1 + d2)/2 + d3
  for (int j = 0; j < 4; ++j) {
    const float d0 = du[j], d1 = du[4 + j], d2 = du[8 + j], d3 = du[12 + j];
    h[0][j] = d0 + 0.5f * (d1 + d2);
    h[1][j] = 0.5f * (d1 - d2);
    h[2][j] = 0.5f * (d1 + d2) + d3;
  }
  for (int i = 0; i < 3; ++i) {
    const float* r = h[i];
    dg[3 * i + 0] += r[0] + 0.5f * (r[1] + r[2]);
    dg[3 * i + 1] += 0.5f * (r[1] - r[2]);
    dg[3 * i + 2] += 0.5f * (r[1] + r[2]) + r[3];
  }
}

// Row `row` of an H × W plane, or the zero row where it lies in the padding.
inline const float* plane_row(const float* plane, const Tiling& t, int row, const float* zeros) {
  return row >= 0 && row < t.height ? plane + static_cast<long>(row) * t.width : zeros;
}

// V: Bᵀ d B of every input tile of one plane, tile (ty, tx) at v[ξ·xi_stride + ty·tiles_w + tx].
inline void transform_input_plane(const float* plane, const Tiling& t, float* v, long xi_stride,
                                  float* scratch) {
  const int tw = t.tiles_w(), pw = t.padded_width(), w = t.width;
  float* const zeros = scratch + 4 * pw;  // the padding rows
  for (int c = 0; c < w; ++c) zeros[c] = 0.0f;
  float* rows[4] = {scratch, scratch + pw, scratch + 2 * pw, scratch + 3 * pw};
  for (float* r : rows) {  // the padding columns: index 0 and w + 1 … pw − 1
    r[0] = 0.0f;
    for (int c = w + 1; c < pw; ++c) r[c] = 0.0f;
  }
  for (int ty = 0; ty < t.tiles_h(); ++ty) {
    const float* __restrict d0 = plane_row(plane, t, 2 * ty - 1, zeros);
    const float* __restrict d1 = plane_row(plane, t, 2 * ty, zeros);
    const float* __restrict d2 = plane_row(plane, t, 2 * ty + 1, zeros);
    const float* __restrict d3 = plane_row(plane, t, 2 * ty + 2, zeros);
    float* __restrict r0 = rows[0] + 1;  // padded index c + 1 holds input column c
    float* __restrict r1 = rows[1] + 1;
    float* __restrict r2 = rows[2] + 1;
    float* __restrict r3 = rows[3] + 1;
#pragma omp simd
    for (int c = 0; c < w; ++c) {  // Bᵀ d, over whole rows
      r0[c] = d0[c] - d2[c];
      r1[c] = d1[c] + d2[c];
      r2[c] = d2[c] - d1[c];
      r3[c] = d1[c] - d3[c];
    }
    for (int i = 0; i < 4; ++i) {  // (Bᵀ d) B, per tile
      const float* __restrict a = rows[i];
      float* __restrict v0 = v + (4 * i + 0) * xi_stride + static_cast<long>(ty) * tw;
      float* __restrict v1 = v + (4 * i + 1) * xi_stride + static_cast<long>(ty) * tw;
      float* __restrict v2 = v + (4 * i + 2) * xi_stride + static_cast<long>(ty) * tw;
      float* __restrict v3 = v + (4 * i + 3) * xi_stride + static_cast<long>(ty) * tw;
      for (int first = 0; first < tw; first += kLanes) {
#pragma omp simd
        for (int tx = first; tx < first + kLanes; ++tx) {
          const float a0 = a[2 * tx], a1 = a[2 * tx + 1], a2 = a[2 * tx + 2], a3 = a[2 * tx + 3];
          v0[tx] = a0 - a2;
          v1[tx] = a1 + a2;
          v2[tx] = a2 - a1;
          v3[tx] = a1 - a3;
        }
      }
    }
  }
}

// Y = Aᵀ M A of every tile of one output plane, from m[ξ·xi_stride + ty·tiles_w + tx]; the
// outputs past the image's edge are dropped.
inline void transform_output_plane(const float* m, long xi_stride, const Tiling& t, float* y,
                                   float* scratch) {
  const int tw = t.tiles_w(), cw = t.chunked_w(), w = t.width;
  float* s[2][4];  // Aᵀ M for a row of tiles: rows m0 + m1 + m2 and m1 − m2 − m3, column j
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 4; ++j) s[i][j] = scratch + (4 * i + j) * cw;
  float* const rows[2] = {scratch + 8 * cw, scratch + 10 * cw};  // output rows, 2·cw wide
  for (int ty = 0; ty < t.tiles_h(); ++ty) {
    const float* mt = m + static_cast<long>(ty) * tw;
    for (int j = 0; j < 4; ++j) {
      const float* __restrict m0 = mt + j * xi_stride;
      const float* __restrict m1 = mt + (4 + j) * xi_stride;
      const float* __restrict m2 = mt + (8 + j) * xi_stride;
      const float* __restrict m3 = mt + (12 + j) * xi_stride;
      float* __restrict s0 = s[0][j];
      float* __restrict s1 = s[1][j];
      for (int first = 0; first < tw; first += kLanes) {
#pragma omp simd
        for (int tx = first; tx < first + kLanes; ++tx) {
          s0[tx] = m0[tx] + m1[tx] + m2[tx];
          s1[tx] = m1[tx] - m2[tx] - m3[tx];
        }
      }
    }
    for (int i = 0; i < 2; ++i) {  // (Aᵀ M) A
      const float* __restrict a0 = s[i][0];
      const float* __restrict a1 = s[i][1];
      const float* __restrict a2 = s[i][2];
      const float* __restrict a3 = s[i][3];
      float* __restrict row = rows[i];
      for (int first = 0; first < tw; first += kLanes) {
#pragma omp simd
        for (int tx = first; tx < first + kLanes; ++tx) {
          row[2 * tx] = a0[tx] + a1[tx] + a2[tx];
          row[2 * tx + 1] = a1[tx] - a2[tx] - a3[tx];
        }
      }
    }
    float* out = y + static_cast<long>(2 * ty) * w;
    std::copy_n(rows[0], w, out);
    if (2 * ty + 1 < t.height) std::copy_n(rows[1], w, out + w);
  }
}

// dM = A dY Aᵀ of every 2×2 tile of one output-gradient plane (the adjoint of
// transform_output_plane; the dropped outputs have zero gradient), written like V.
inline void transform_gradient_plane(const float* dy, const Tiling& t, float* dm, long xi_stride,
                                     float* scratch) {
  const int tw = t.tiles_w(), pw = t.padded_width(), w = t.width;
  float* const zeros = scratch + 4 * pw;  // the row past an odd height
  for (int c = 0; c < w; ++c) zeros[c] = 0.0f;
  float* rows[4] = {scratch, scratch + pw, scratch + 2 * pw, scratch + 3 * pw};
  for (float* r : rows)
    for (int c = w; c < pw; ++c) r[c] = 0.0f;  // the column past an odd width
  for (int ty = 0; ty < t.tiles_h(); ++ty) {
    const float* __restrict y0 = plane_row(dy, t, 2 * ty, zeros);
    const float* __restrict y1 = plane_row(dy, t, 2 * ty + 1, zeros);
    float* __restrict r0 = rows[0];
    float* __restrict r1 = rows[1];
    float* __restrict r2 = rows[2];
    float* __restrict r3 = rows[3];
#pragma omp simd
    for (int c = 0; c < w; ++c) {  // A dY: rows y0, y0 + y1, y0 − y1, −y1
      r0[c] = y0[c];
      r1[c] = y0[c] + y1[c];
      r2[c] = y0[c] - y1[c];
      r3[c] = -y1[c];
    }
    for (int i = 0; i < 4; ++i) {  // (A dY) Aᵀ, per tile
      const float* __restrict a = rows[i];
      float* __restrict v0 = dm + (4 * i + 0) * xi_stride + static_cast<long>(ty) * tw;
      float* __restrict v1 = dm + (4 * i + 1) * xi_stride + static_cast<long>(ty) * tw;
      float* __restrict v2 = dm + (4 * i + 2) * xi_stride + static_cast<long>(ty) * tw;
      float* __restrict v3 = dm + (4 * i + 3) * xi_stride + static_cast<long>(ty) * tw;
      for (int first = 0; first < tw; first += kLanes) {
#pragma omp simd
        for (int tx = first; tx < first + kLanes; ++tx) {
          const float a0 = a[2 * tx], a1 = a[2 * tx + 1];
          v0[tx] = a0;
          v1[tx] = a0 + a1;
          v2[tx] = a0 - a1;
          v3[tx] = -a1;
        }
      }
    }
  }
}

}  // namespace clr::cpu_impl::winograd
