// Colours of the plots: 8-bit sRGB triples, and the fixed palette that series and classes
// take their colours from (matplotlib's "tab10", so figures look like the ones readers
// know from papers and SupContrast's README).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace clr::viz {

struct Color {
  std::uint8_t r = 0, g = 0, b = 0;
  friend bool operator==(const Color&, const Color&) = default;
};

inline constexpr Color kWhite{255, 255, 255};
inline constexpr Color kBlack{0, 0, 0};
inline constexpr Color kText{38, 38, 38};     // matplotlib's near-black text
inline constexpr Color kAxis{64, 64, 64};     // frame and ticks
inline constexpr Color kGrid{225, 225, 225};  // grid lines, behind the data
inline constexpr Color kLegendEdge{204, 204, 204};

// matplotlib's tab10 (Vega's category10): blue, orange, green, red, purple, brown, pink,
// grey, olive, cyan.
inline constexpr std::array<Color, 10> kTab10 = {{{31, 119, 180},
                                                  {255, 127, 14},
                                                  {44, 160, 44},
                                                  {214, 39, 40},
                                                  {148, 103, 189},
                                                  {140, 86, 75},
                                                  {227, 119, 194},
                                                  {127, 127, 127},
                                                  {188, 189, 34},
                                                  {23, 190, 207}}};

// Colour i of the palette; past ten it cycles, as matplotlib's colour cycle does.
inline Color palette(std::size_t i) {
  return kTab10[i % kTab10.size()];
}

}  // namespace clr::viz
