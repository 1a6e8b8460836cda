// The one-dimensional transforms of Winograd's minimal filtering F(m, 3) (Lavin & Gray 2016,
// "Fast Algorithms for Convolutional Neural Networks"): m outputs of a 3-tap correlation
// from n = m + 2 inputs with n multiplications, y = Aᵀ[(G g) ⊙ (Bᵀ d)]. The 2-D transform of
// a tile applies them to its columns and then to its rows (winograd_transforms.hpp), so a
// type here is all that tells F(2×2, 3×3) from F(4×4, 3×3).
//
// Each type has the five maps the convolution and its gradients need, written out with
// their zeros dropped (a product by a 0 coefficient is not free in IEEE arithmetic); the
// first four take floats or vectors of floats (T, a channel or a filter a lane):
//   input(d, v):          v = Bᵀ d          (n → n)
//   output(mv, y):        y = Aᵀ mv         (n → m)
//   gradient(dy, dm):     dm = A dy         (m → n, the adjoint of output)
//   filter(g, u):         u = G g           (3 → n)
//   filter_gradient(du, dg): dg = Gᵀ du     (n → 3, the adjoint of filter)
#pragma once

namespace clr::cpu_impl::winograd {

// F(2, 3), interpolation points 0, ±1, ∞:
//   Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1],  G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1],
//   Aᵀ = [1 1 1 0; 0 1 −1 −1].
struct F2x2 {
  static constexpr int m = 2, n = 4;

  template <class T>
  static void input(const T (&d)[n], T (&v)[n]) {
    v[0] = d[0] - d[2];
    v[1] = d[1] + d[2];
    v[2] = d[2] - d[1];
    v[3] = d[1] - d[3];
  }
  template <class T>
  static void output(const T (&mv)[n], T (&y)[m]) {
    y[0] = mv[0] + mv[1] + mv[2];
    y[1] = mv[1] - mv[2] - mv[3];
  }
  template <class T>
  static void gradient(const T (&dy)[m], T (&dm)[n]) {
    dm[0] = dy[0];
    dm[1] = dy[0] + dy[1];
    dm[2] = dy[0] - dy[1];
    dm[3] = -dy[1];
  }
  template <class T>
  static void filter(const T (&g)[3], T (&u)[n]) {
    u[0] = g[0];
    u[1] = 0.5f * (g[0] + g[1] + g[2]);
    u[2] = 0.5f * (g[0] - g[1] + g[2]);
    u[3] = g[2];
  }
  static void filter_gradient(const float (&du)[n], float (&dg)[3]) {
    dg[0] = du[0] + 0.5f * (du[1] + du[2]);
    dg[1] = 0.5f * (du[1] - du[2]);
    dg[2] = 0.5f * (du[1] + du[2]) + du[3];
  }
};

// F(4, 3), interpolation points 0, ±1, ±2, ∞ (Lavin & Gray's, and most libraries'): the
// smallest points after F(2, 3)'s, since the rounding error grows with their magnitude
// (measured against im2col in test_winograd.cpp):
//   Bᵀ = [4 0 −5 0 1 0; 0 −4 −4 1 1 0; 0 4 −4 −1 1 0; 0 −2 −1 2 1 0; 0 2 −1 −2 1 0;
//         0 4 0 −5 0 1],
//   G = [¼ 0 0; −⅙ −⅙ −⅙; −⅙ ⅙ −⅙; 1/24 1/12 ⅙; 1/24 −1/12 ⅙; 0 0 1],
//   Aᵀ = [1 1 1 1 1 0; 0 1 −1 2 −2 0; 0 1 1 4 4 0; 0 1 −1 8 −8 1].
struct F4x4 {
  static constexpr int m = 4, n = 6;

  template <class T>
  static void input(const T (&d)[n], T (&v)[n]) {
    // Shared terms: v1, v2 = ∓4(d1 ± …) and v3, v4 = ∓2(d1 − d3) + (d4 − d2).
    const T a = d[4] - 4.0f * d[2], b = d[3] - 4.0f * d[1];
    const T c = d[4] - d[2], e = 2.0f * (d[3] - d[1]);
    v[0] = 4.0f * d[0] - 5.0f * d[2] + d[4];
    v[1] = a + b;
    v[2] = a - b;
    v[3] = c + e;
    v[4] = c - e;
    v[5] = 4.0f * d[1] - 5.0f * d[3] + d[5];
  }
  template <class T>
  static void output(const T (&mv)[n], T (&y)[m]) {
    const T sum12 = mv[1] + mv[2], diff12 = mv[1] - mv[2];
    const T sum34 = mv[3] + mv[4], diff34 = mv[3] - mv[4];
    y[0] = mv[0] + sum12 + sum34;
    y[1] = diff12 + 2.0f * diff34;
    y[2] = sum12 + 4.0f * sum34;
    y[3] = diff12 + 8.0f * diff34 + mv[5];
  }
  template <class T>
  static void gradient(const T (&dy)[m], T (&dm)[n]) {
    const T even = dy[0] + dy[2], odd = dy[1] + dy[3];
    const T even4 = dy[0] + 4.0f * dy[2], odd4 = 2.0f * dy[1] + 8.0f * dy[3];
    dm[0] = dy[0];
    dm[1] = even + odd;
    dm[2] = even - odd;
    dm[3] = even4 + odd4;
    dm[4] = even4 - odd4;
    dm[5] = dy[3];
  }
  template <class T>
  static void filter(const T (&g)[3], T (&u)[n]) {
    const T outer = g[0] + g[2];
    u[0] = 0.25f * g[0];
    u[1] = -(outer + g[1]) / 6.0f;
    u[2] = -(outer - g[1]) / 6.0f;
    u[3] = (g[0] + 2.0f * g[1] + 4.0f * g[2]) / 24.0f;
    u[4] = (g[0] - 2.0f * g[1] + 4.0f * g[2]) / 24.0f;
    u[5] = g[2];
  }
  static void filter_gradient(const float (&du)[n], float (&dg)[3]) {
    const float sum12 = du[1] + du[2], diff12 = du[2] - du[1];
    const float sum34 = du[3] + du[4], diff34 = du[3] - du[4];
    dg[0] = 0.25f * du[0] - sum12 / 6.0f + sum34 / 24.0f;
    dg[1] = diff12 / 6.0f + diff34 / 12.0f;
    dg[2] = -sum12 / 6.0f + sum34 / 6.0f + du[5];
  }
};

}  // namespace clr::cpu_impl::winograd
