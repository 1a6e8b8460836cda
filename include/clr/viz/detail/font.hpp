// The plots' built-in font: stb_easy_font (Debian's libstb-dev) turns ASCII text into
// axis-aligned unit rectangles on a 1-unit grid (capitals 7 units tall, descenders 2
// more, proportional advances), so text needs no font file at run time and scales to any
// size as exact-area rectangles. stb_easy_font's functions are `static`: each translation
// unit gets its own copy and nothing clashes at link time.
#pragma once

#include <stb/stb_easy_font.h>

#include <string>
#include <string_view>
#include <vector>

namespace clr::viz::detail {

// A glyph stroke in font units, y down from the top of the capitals.
struct FontRect {
  float x0, y0, x1, y1;
};

inline constexpr float kFontCapHeight = 7.0f;  // font units from the top of 'H' to its base

// stb_easy_font indexes its tables by (c - 32): anything outside printable ASCII
// (newlines included: plot text is one line) becomes '?'.
inline std::string printable(std::string_view text) {
  std::string clean(text);
  for (char& c : clean)
    if (c < 32 || c > 126) c = '?';
  return clean;
}

inline float font_width(std::string_view text) {
  std::string clean = printable(text);
  if (clean.empty()) return 0.0f;
  // stb's width counts the advance after the last glyph (1 unit of spacing): drop it.
  return static_cast<float>(stb_easy_font_width(clean.data())) - 1.0f;
}

inline std::vector<FontRect> font_rects(std::string_view text) {
  std::string clean = printable(text);
  std::vector<FontRect> rects;
  if (clean.empty()) return rects;
  // stb writes 4 vertices of 16 bytes per rectangle; no glyph has more than 30 strokes.
  std::vector<float> vertices(clean.size() * 30 * 16);
  const int quads = stb_easy_font_print(0.0f, 0.0f, clean.data(), nullptr, vertices.data(),
                                        static_cast<int>(vertices.size() * sizeof(float)));
  rects.reserve(quads);
  for (int q = 0; q < quads; ++q) {
    const float* v = vertices.data() + q * 16;  // vertex 0 at v[0..1], vertex 2 at v[8..9]
    rects.push_back({v[0], v[1], v[8], v[9]});
  }
  return rects;
}

}  // namespace clr::viz::detail
