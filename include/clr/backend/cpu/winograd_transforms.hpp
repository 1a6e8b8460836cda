// The tile transforms of Winograd's F(m×m, 3×3) for a 3×3 convolution at stride 1, padding
// 1, for either one-dimensional transform F of winograd_matrices.hpp (n = m + 2):
// output tile (ty, tx) covers output rows m·ty … m·ty + m − 1 and as many columns from m·tx,
// and reads the n×n input tile starting at (m·ty − 1, m·tx − 1); positions outside the image
// read zeros (the padding) and outputs past its edge are dropped, so any height and width
// work.
//
// A transformed tile has n² values ξ = n·i + j; each transform writes or reads them as n²
// separate rows, ξ at offset ξ·xi_stride, so that the n² products are n² plain GEMMs. The
// plane transforms work by rows of tiles: the vertical half of the transform elementwise
// over whole image rows (vectorised; for the input and gradient transforms a band of tile
// rows at a time, kBandRows), then the horizontal half per tile, in whole steps of kLanes
// tiles. A row of 14, 7 or 4 tiles would otherwise leave most of its
// tiles to the scalar remainder of the vectorised loop, which made these transforms cost
// 2–3× the GEMMs at 16 channels. So a plane's tile loops read up to chunked_w() − tiles_w()
// < kLanes values past the plane's last tile and write as many past it: the tile matrices
// leave kLanes columns of room after each row (Winograd's kSpill), and each row's spill
// lands on tiles that are written after it.
#pragma once

#include <algorithm>

#include "clr/backend/cpu/float_vector.hpp"
#include "clr/backend/cpu/winograd_matrices.hpp"

namespace clr::cpu_impl::winograd {

constexpr int kLanes = 8;  // tiles per vector step of the tile loops

// The input and gradient transforms write a tile row's vertical half to scratch and read it
// back at other offsets for the horizontal half; read back at once, the loads can overlap
// vector stores still in flight, which cannot be forwarded to them. So the vertical halves
// of a band of up to kBandRows tile rows are written first and the horizontal halves read
// after: 2–5% off F(2×2)'s convolutions on 16×16 and 8×8 images, none on 32×32 (BM_conv2d,
// alternating runs).
constexpr int kBandRows = 8;

// The tiles of an H × W image: m×m output tiles, the last row / column partial where m does
// not divide the size.
template <class F>
struct Tiling {
  static constexpr int m = F::m, n = F::n;
  static constexpr int kTransformed = n * n;  // values of a transformed tile

  int height, width;

  int tiles_h() const { return (height + m - 1) / m; }
  int tiles_w() const { return (width + m - 1) / m; }
  int tiles() const { return tiles_h() * tiles_w(); }
  // The tile loops run in whole chunks of kLanes (no scalar remainder): tiles_w rounded up.
  int chunked_w() const { return (tiles_w() + kLanes - 1) / kLanes * kLanes; }
  // A padded image row: one column of padding, then m·chunked_w columns and room for the
  // split (split_tiles) of the last tile's next: chunked_w + 2 tiles.
  int padded_width() const { return m * (chunked_w() + 2); }
  // A padded row split by position in the tile (split_tiles): 2m arrays of chunked_w.
  int split_floats() const { return 2 * m * chunked_w(); }
  // Tile rows whose vertical transforms are written before any is read back (kBandRows).
  int band_rows() const { return std::min(tiles_h(), kBandRows); }
  // Floats of scratch the plane transforms need: a band's n padded rows per tile row, a row
  // of zeros and a row's split (input and gradient), or m×n rows of tiles and m output rows
  // (output).
  long scratch_floats() const {
    return std::max(static_cast<long>(band_rows() * n + 1) * padded_width() + split_floats(),
                    static_cast<long>(m * n + m * m) * chunked_w());
  }
};

// u[ξ·stride + f] = (G g_f Gᵀ)_ξ for `count` 3×3 filters g_f (row-major) at g + f·g_stride;
// with `flip`, of g_f rotated by 180° (the kernel of the input gradient). Vectorised across
// the filters: one filter at a time, scalar, this took 2% of the quarter-width train step
// (the deep layers' 128 × 128 filters, every call); F(4×4)'s under `omp simd` stayed scalar
// (20% of a 128-channel layer on 4×4 images), hence the explicit vectors.
template <class F>
void transform_filters(const float* g, long g_stride, int count, bool flip, float* u, long stride) {
  constexpr int n = F::n;
  for (int first = 0; first < count; first += kVectorFloats) {
    const int lanes = std::min(kVectorFloats, count - first);
    float taps[9][kVectorFloats] = {};  // tap t of filter first + f at [t][f]
    for (int f = 0; f < lanes; ++f)
      for (int t = 0; t < 9; ++t) taps[t][f] = g[(first + f) * g_stride + (flip ? 8 - t : t)];
    FloatVector k[9];
    for (int t = 0; t < 9; ++t) load_floats(k[t], taps[t]);
    FloatVector gg[3][n];  // (G g)ᵀ: column c of g transformed
    for (int c = 0; c < 3; ++c) {
      const FloatVector column[3] = {k[c], k[3 + c], k[6 + c]};
      F::filter(column, gg[c]);
    }
    for (int i = 0; i < n; ++i) {  // (G g) Gᵀ, the same on the rows
      const FloatVector row[3] = {gg[0][i], gg[1][i], gg[2][i]};
      FloatVector u_row[n];
      F::filter(row, u_row);
      for (int j = 0; j < n; ++j) {
        float* to = u + (n * i + j) * stride + first;
        if (lanes == kVectorFloats) {
          store_floats(to, u_row[j]);
        } else {
          float values[kVectorFloats];
          store_floats(values, u_row[j]);
          std::copy_n(values, lanes, to);
        }
      }
    }
  }
}

// dg += Gᵀ dU G for one filter, the adjoint of transform_filter (without flip).
template <class F>
void add_filter_gradient(const float* du, float* dg) {
  constexpr int n = F::n;
  float h[3][n];  // Gᵀ dU, column by column
  for (int j = 0; j < n; ++j) {
    float column[n], out[3];
    for (int i = 0; i < n; ++i) column[i] = du[n * i + j];
    F::filter_gradient(column, out);
    for (int r = 0; r < 3; ++r) h[r][j] = out[r];
  }
  for (int r = 0; r < 3; ++r) {
    float out[3];
    F::filter_gradient(h[r], out);
    for (int c = 0; c < 3; ++c) dg[3 * r + c] += out[c];
  }
}

// Row `row` of an H × W plane, or the zero row where it lies in the padding.
inline const float* plane_row(const float* plane, int height, int width, int row,
                              const float* zeros) {
  return row >= 0 && row < height ? plane + static_cast<long>(row) * width : zeros;
}

// Splits a padded row by position in the tile: split[k·stride + tx] = row[m·tx + k] for
// k < 2m and tx < count (a multiple of kLanes), from which the horizontal transforms read
// tile tx's n = m + 2 values at unit stride across the tiles. Read straight from the row, at
// stride m and overlapping the next tile's, they do not vectorise: gcc made F(4×4)'s input
// transform 4-lane and scalar, and the vector loads of a scalar split stall on the scalar
// stores in flight (half of the transform's time). gcc does vectorise whole groups of m
// consecutive values: the row's m phases, then the phases of the row one tile on (the
// positions m … 2m − 1; F(4×4) uses two of those four).
template <int m>
inline void split_tiles(const float* row, int count, float* split, int stride) {
  for (const int shift : {0, m})
    for (int first = 0; first < count; first += kLanes)
#pragma omp simd
      for (int tx = first; tx < first + kLanes; ++tx)
        for (int r = 0; r < m; ++r) split[(shift + r) * stride + tx] = row[m * tx + shift + r];
}

// The horizontal half of the input and gradient transforms for the tiles of one padded row
// (`in` values of tile tx at row[m·tx + k]): out[k][tx] = apply(those values)[k] for
// tx < tiles rounded up to whole kLanes; `apply` is F::input or F::gradient, `split` scratch
// for split_tiles. Only F(4×4)'s input transform needs the split: F(2×2)'s reads (4 values
// at stride 2) vectorise as they are, where the split would only add a pass (5–20% on its
// convolutions, BM_conv2d), and so do the gradient transforms' (m values at stride m, no
// overlap).
template <int m, int In, int Out, class Apply>
inline void transform_row_tiles(const float* row, int tiles, Apply apply, float* split,
                                float* const (&out)[Out]) {
  const int count = (tiles + kLanes - 1) / kLanes * kLanes;
  constexpr bool kSplit = m > 2 && In > m;
  if constexpr (kSplit) split_tiles<m>(row, count, split, count);
  for (int first = 0; first < count; first += kLanes)
#pragma omp simd
    for (int tx = first; tx < first + kLanes; ++tx) {
      float d[In], v[Out];
      for (int k = 0; k < In; ++k) d[k] = kSplit ? split[k * count + tx] : row[m * tx + k];
      apply(d, v);
      for (int k = 0; k < Out; ++k) out[k][tx] = v[k];
    }
}

// The horizontal halves of tile rows first … last − 1 of a plane, from their vertical halves
// in `band` (n padded rows per tile row, from tile row `first`), into the n² rows of `out`
// (ξ·xi_stride apart, tile (ty, tx) at ty·tiles_w + tx).
template <int m, int In, int n, class T, class Apply>
void transform_band_tiles(const float* band, int first, int last, const T& t, Apply apply,
                          float* split, float* out, long xi_stride) {
  const int tw = t.tiles_w(), pw = t.padded_width();
  for (int ty = first; ty < last; ++ty)
    for (int i = 0; i < n; ++i) {
      float* rows[n];
      for (int j = 0; j < n; ++j)
        rows[j] = out + (n * i + j) * xi_stride + static_cast<long>(ty) * tw;
      transform_row_tiles<m, In, n>(band + ((ty - first) * n + i) * pw, tw, apply, split, rows);
    }
}

// Zeros where transform_input_plane's scratch holds padding, which its planes leave as they
// are: once before a run of planes, not per plane (with the bands, the per-plane fills had
// taken a quarter of the second thread's F(2×2) input transform on 8×8 images).
template <class F>
void prepare_input_scratch(const Tiling<F>& t, float* scratch) {
  constexpr int n = F::n;
  const int pw = t.padded_width(), w = t.width, band = t.band_rows();
  std::fill_n(scratch + band * n * pw, w, 0.0f);  // the padding rows
  for (int r = 0; r < band * n; ++r) {  // the padding columns: index 0 and w + 1 … pw − 1
    scratch[r * pw] = 0.0f;
    std::fill(scratch + r * pw + w + 1, scratch + (r + 1) * pw, 0.0f);
  }
}

// V: Bᵀ d B of every input tile of one plane, tile (ty, tx) at v[ξ·xi_stride + ty·tiles_w + tx];
// `scratch` as prepare_input_scratch left it.
template <class F>
void transform_input_plane(const float* plane, const Tiling<F>& t, float* v, long xi_stride,
                           float* scratch) {
  constexpr int m = F::m, n = F::n;
  const int pw = t.padded_width(), w = t.width, band = t.band_rows();
  const float* const zeros = scratch + band * n * pw;
  float* const split = scratch + (band * n + 1) * pw;
  for (int first = 0; first < t.tiles_h(); first += band) {
    const int last = std::min(t.tiles_h(), first + band);
    for (int ty = first; ty < last; ++ty) {  // Bᵀ d, over whole rows
      float* const rows = scratch + (ty - first) * n * pw;
      const float* d[n];
      for (int i = 0; i < n; ++i) d[i] = plane_row(plane, t.height, w, m * ty - 1 + i, zeros);
#pragma omp simd
      for (int c = 0; c < w; ++c) {  // padded index c + 1 is column c
        float column[n], out[n];
        for (int i = 0; i < n; ++i) column[i] = d[i][c];
        F::input(column, out);
        for (int i = 0; i < n; ++i) rows[i * pw + c + 1] = out[i];
      }
    }
    transform_band_tiles<m, n, n>(  // (Bᵀ d) B, per tile
        scratch, first, last, t, [](const float(&in)[n], float(&res)[n]) { F::input(in, res); },
        split, v, xi_stride);
  }
}

// Y = Aᵀ M A of every tile of one output plane, from m[ξ·xi_stride + ty·tiles_w + tx]; the
// outputs past the image's edge are dropped.
template <class F>
void transform_output_plane(const float* mt, long xi_stride, const Tiling<F>& t, float* y,
                            float* scratch) {
  constexpr int m = F::m, n = F::n;
  const int tw = t.tiles_w(), cw = t.chunked_w(), w = t.width;
  // Aᵀ M for a row of tiles: s[i][j][tx] is row i, column j of tile tx's Aᵀ M.
  float* s[m][n];
  for (int i = 0; i < m; ++i)
    for (int j = 0; j < n; ++j) s[i][j] = scratch + (n * i + j) * cw;
  float* rows[m];  // output rows, m·cw wide
  for (int i = 0; i < m; ++i) rows[i] = scratch + (m * n + m * i) * cw;
  for (int ty = 0; ty < t.tiles_h(); ++ty) {
    const float* tiles = mt + static_cast<long>(ty) * tw;
    for (int j = 0; j < n; ++j) {
      float* out[m];
      for (int i = 0; i < m; ++i) out[i] = s[i][j];
      for (int first = 0; first < tw; first += kLanes)
#pragma omp simd
        for (int tx = first; tx < first + kLanes; ++tx) {
          float column[n], res[m];
          for (int k = 0; k < n; ++k) column[k] = tiles[(n * k + j) * xi_stride + tx];
          F::output(column, res);
          for (int i = 0; i < m; ++i) out[i][tx] = res[i];
        }
    }
    for (int i = 0; i < m; ++i) {  // (Aᵀ M) A
      float* row = rows[i];
      for (int first = 0; first < tw; first += kLanes)
#pragma omp simd
        for (int tx = first; tx < first + kLanes; ++tx) {
          float column[n], res[m];
          for (int k = 0; k < n; ++k) column[k] = s[i][k][tx];
          F::output(column, res);
          for (int j = 0; j < m; ++j) row[m * tx + j] = res[j];
        }
    }
    for (int i = 0; i < m && m * ty + i < t.height; ++i)
      std::copy_n(rows[i], w, y + static_cast<long>(m * ty + i) * w);
  }
}

// As prepare_input_scratch, for transform_gradient_plane.
template <class F>
void prepare_gradient_scratch(const Tiling<F>& t, float* scratch) {
  constexpr int n = F::n;
  const int pw = t.padded_width(), w = t.width, band = t.band_rows();
  // The rows past the height, and the columns past the width.
  std::fill_n(scratch + band * n * pw, w, 0.0f);
  for (int r = 0; r < band * n; ++r) std::fill(scratch + r * pw + w, scratch + (r + 1) * pw, 0.0f);
}

// dM = A dY Aᵀ of every m×m tile of one output-gradient plane (the adjoint of
// transform_output_plane; the dropped outputs have zero gradient), written like V;
// `scratch` as prepare_gradient_scratch left it.
template <class F>
void transform_gradient_plane(const float* dy, const Tiling<F>& t, float* dm, long xi_stride,
                              float* scratch) {
  constexpr int m = F::m, n = F::n;
  const int pw = t.padded_width(), w = t.width, band = t.band_rows();
  const float* const zeros = scratch + band * n * pw;
  float* const split = scratch + (band * n + 1) * pw;
  for (int first = 0; first < t.tiles_h(); first += band) {
    const int last = std::min(t.tiles_h(), first + band);
    for (int ty = first; ty < last; ++ty) {  // A dY, over whole rows
      float* const rows = scratch + (ty - first) * n * pw;
      const float* g[m];
      for (int i = 0; i < m; ++i) g[i] = plane_row(dy, t.height, w, m * ty + i, zeros);
#pragma omp simd
      for (int c = 0; c < w; ++c) {
        float column[m], out[n];
        for (int i = 0; i < m; ++i) column[i] = g[i][c];
        F::gradient(column, out);
        for (int i = 0; i < n; ++i) rows[i * pw + c] = out[i];
      }
    }
    transform_band_tiles<m, m, n>(  // (A dY) Aᵀ, per tile
        scratch, first, last, t, [](const float(&in)[m], float(&res)[n]) { F::gradient(in, res); },
        split, dm, xi_stride);
  }
}

}  // namespace clr::cpu_impl::winograd
