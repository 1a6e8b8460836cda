// Plots: PNGs decode (through stb_image, as clr reads images) to the canvas' size and
// pixels, lines and markers land where their data are in their colours, renders are
// reproducible byte for byte, ticks are nice, and bad CSV logs are clr::Errors that say
// where.
#include <doctest/doctest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "clr/data/detail/stb_image.hpp"
#include "clr/viz/csv.hpp"
#include "clr/viz/line_plot.hpp"
#include "clr/viz/png.hpp"
#include "clr/viz/scatter_plot.hpp"

namespace {

namespace fs = std::filesystem;
using clr::viz::Color;

fs::path scratch(const std::string& name) {
  const fs::path folder = fs::temp_directory_path() / "clr_test_viz";
  fs::create_directories(folder);
  return folder / name;
}

struct Decoded {
  int width = 0, height = 0;
  std::vector<unsigned char> rgb;
  Color at(int x, int y) const {
    const unsigned char* p = &rgb[(static_cast<std::size_t>(y) * width + x) * 3];
    return {p[0], p[1], p[2]};
  }
};

Decoded decode(const fs::path& path) {
  std::ifstream file(path, std::ios::binary);
  const std::vector<unsigned char> bytes((std::istreambuf_iterator<char>(file)),
                                         std::istreambuf_iterator<char>());
  Decoded d;
  int channels = 0;
  unsigned char* pixels = stbi_load_from_memory(bytes.data(), static_cast<int>(bytes.size()),
                                                &d.width, &d.height, &channels, 3);
  REQUIRE(pixels != nullptr);
  d.rgb.assign(pixels, pixels + static_cast<std::size_t>(d.width) * d.height * 3);
  stbi_image_free(pixels);
  return d;
}

std::vector<std::uint8_t> file_bytes(const fs::path& path) {
  std::ifstream file(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
}

void write_text(const fs::path& path, const std::string& text) {
  std::ofstream(path) << text;
}

bool near(Color a, Color b, int tolerance) {
  return std::abs(a.r - b.r) <= tolerance && std::abs(a.g - b.g) <= tolerance &&
         std::abs(a.b - b.b) <= tolerance;
}

// How many pixels in the box around (x, y) have colour c (within a tolerance).
int count_near(const Decoded& d, int x, int y, int radius, Color c, int tolerance = 12) {
  int count = 0;
  for (int py = std::max(0, y - radius); py <= std::min(d.height - 1, y + radius); ++py)
    for (int px = std::max(0, x - radius); px <= std::min(d.width - 1, x + radius); ++px)
      count += near(d.at(px, py), c, tolerance);
  return count;
}

}  // namespace

TEST_CASE("viz: a canvas round-trips through PNG with its size and pixels") {
  clr::viz::Canvas canvas(37, 23, {10, 20, 30});
  canvas.fill_rect(5, 5, 10, 9, {200, 0, 0});
  canvas.line({0, 20.5}, {36, 20.5}, {0, 0, 255}, 1.0);
  canvas.circle({30, 8}, 4, {0, 160, 0});
  const fs::path path = scratch("roundtrip.png");
  clr::viz::write_png(canvas, path.string());
  CHECK_FALSE(fs::exists(path.string() + ".tmp"));
  const Decoded d = decode(path);
  CHECK(d.width == 37);
  CHECK(d.height == 23);
  CHECK(d.rgb == canvas.pixels());
  CHECK(d.at(0, 0) == Color{10, 20, 30});
  CHECK(d.at(7, 7) == Color{200, 0, 0});    // inside the rectangle
  CHECK(d.at(11, 7) == Color{10, 20, 30});  // just outside it: no bleeding
  CHECK(d.at(18, 20) == Color{0, 0, 255});  // a 1 px line on a pixel centre is solid
  CHECK(d.at(18, 19) == Color{10, 20, 30});
  CHECK(d.at(30, 8) == Color{0, 160, 0});
  // Anti-aliasing: the disc's rim is a blend, neither background nor fill.
  const Color rim = d.at(30, 4);
  CHECK(rim.g > 20);
  CHECK(rim.g < 160);
}

TEST_CASE("viz: a write that cannot happen is a clr::Error naming the file") {
  const clr::viz::Canvas canvas(4, 4);
  CHECK_THROWS_WITH_AS(clr::viz::write_png(canvas, "/nonexistent-folder/plot.png"),
                       doctest::Contains("/nonexistent-folder/plot.png"), clr::Error);
  CHECK_THROWS_AS(clr::viz::Canvas(0, 10), clr::Error);
}

TEST_CASE("viz: text is drawn in its colour where it is anchored, and measured") {
  clr::viz::Canvas canvas(200, 60);
  canvas.text(100, 30, "Epoch 10", clr::viz::kBlack, 14, clr::viz::Align::center,
              clr::viz::Align::center);
  const double width = clr::viz::Canvas::text_width("Epoch 10", 14);
  CHECK(width > 50);
  CHECK(width < 110);
  int dark_left = 0, dark_right = 0, dark_outside = 0;
  for (int y = 0; y < 60; ++y)
    for (int x = 0; x < 200; ++x) {
      const bool dark = canvas.pixel(x, y).r < 100;
      const bool inside = std::abs(x - 100) <= width / 2 + 1 && std::abs(y - 30) <= 12;
      if (dark && !inside) ++dark_outside;
      if (dark && inside) (x < 100 ? dark_left : dark_right)++;
    }
  CHECK(dark_outside == 0);
  CHECK(dark_left > 20);
  CHECK(dark_right > 20);
}

TEST_CASE("viz: nice ticks step by 1, 2 or 5 and cover the data") {
  CHECK(clr::viz::nice_step(10, 5) == doctest::Approx(2));
  CHECK(clr::viz::nice_step(0.37, 6) == doctest::Approx(0.1));
  CHECK(clr::viz::nice_step(730, 6) == doctest::Approx(200));
  const clr::viz::Scale s = clr::viz::linear_scale(0.0, 0.5);
  REQUIRE(s.ticks.size() == 6);
  CHECK(s.labels.front() == "0.0");
  CHECK(s.labels.back() == "0.5");
  CHECK(s.lo < 0.0);
  CHECK(s.hi > 0.5);
  const clr::viz::Scale l = clr::viz::log_scale(1e-4, 0.5);
  CHECK(l.labels == std::vector<std::string>{"0.0001", "0.001", "0.01", "0.1"});
  CHECK(l.fraction(l.lo) == doctest::Approx(0));
  CHECK(l.fraction(l.hi) == doctest::Approx(1));
  const clr::viz::Scale narrow = clr::viz::log_scale(2.0, 3.0);
  CHECK(narrow.ticks.size() >= 2);
}

TEST_CASE("viz: a line plot draws each series in its palette colour along its data") {
  clr::viz::LinePlot plot;
  plot.title("loss").x_label("epoch").y_label("loss");
  // A horizontal line at y = 1 and a rising one, over x in [0, 10].
  plot.add({0, 10}, {1, 1}, "flat").add({0, 10}, {0, 2}, "rising");
  const fs::path path = scratch("lines.png");
  clr::viz::write_png(plot.render(640, 400), path.string());
  const Decoded d = decode(path);
  REQUIRE(d.width == 640);
  REQUIRE(d.height == 400);
  // Find the frame: the flat series is the only tab:blue row; the two cross at x = 5.
  int blue_row = -1, blue_pixels = 0;
  for (int y = 0; y < d.height && blue_row < 0; ++y) {
    int count = 0;
    for (int x = 0; x < d.width; ++x) count += near(d.at(x, y), clr::viz::kTab10[0], 8);
    if (count > 300) blue_row = y, blue_pixels = count;
  }
  REQUIRE(blue_row > 0);
  CHECK(blue_pixels > 300);
  int orange = 0;  // the rising line crosses the blue one in the middle of the frame
  for (int x = 0; x < d.width; ++x)
    orange += count_near(d, x, blue_row, 2, clr::viz::kTab10[1]) > 0;
  CHECK(orange > 0);
  CHECK(orange < 40);
  CHECK(count_near(d, 320, 10, 10, clr::viz::kText, 40) > 5);  // the title, centred on top
}

TEST_CASE("viz: a scatter plot puts class-coloured markers at the points") {
  clr::viz::ScatterPlot plot;
  plot.title("classes").class_names({"zero", "one"}).marker_radius(5);
  plot.set({0, 1}, {0, 1}, {0, 1});
  const clr::viz::Canvas canvas = plot.render(500, 400);
  const fs::path path = scratch("scatter.png");
  clr::viz::write_png(canvas, path.string());
  const Decoded d = decode(path);
  // Class 0 at the lower left of the data, class 1 at the upper right: find each colour's
  // centroid (the legend's markers are right of the frame, excluded by x < 380).
  double sx[2] = {0, 0}, sy[2] = {0, 0}, n[2] = {0, 0};
  for (int y = 0; y < d.height; ++y)
    for (int x = 0; x < d.width; ++x)
      for (int c = 0; c < 2; ++c)
        if (near(d.at(x, y), clr::viz::kTab10[c], 50)) sx[c] += x, sy[c] += y, n[c] += 1;
  REQUIRE(n[0] > 20);
  REQUIRE(n[1] > 20);
  CHECK(sx[0] / n[0] < sx[1] / n[1]);  // class 1 right of class 0 (legend included)
  CHECK(sy[0] / n[0] > sy[1] / n[1] - 150);
}

TEST_CASE("viz: the plot of a CSV log is the same bytes every time") {
  const fs::path csv = scratch("log.csv");
  write_text(csv,
             "epoch,loss,lr,knn_accuracy\n1,5.2,0.5,-1\n2,4.1,0.45,0.61\n3,3.7,0.3,-1\n"
             "4,3.5,0.1,0.72\n");
  const auto render = [&](const std::string& name) {
    const clr::viz::CsvTable table = clr::viz::read_csv(csv.string());
    clr::viz::LinePlot plot;
    plot.x_label("epoch").y_label("loss").add(table.column("epoch"), table.column("loss"), "run");
    const fs::path png = scratch(name);
    clr::viz::write_png(plot.render(480, 320), png.string());
    return file_bytes(png);
  };
  const auto a = render("a.png"), b = render("b.png");
  CHECK(a.size() > 1000);
  CHECK(a == b);
}

TEST_CASE("viz: read_csv reads EpochLog's columns and names the place of every mistake") {
  const fs::path csv = scratch("good.csv");
  write_text(csv, "epoch,loss,lr\r\n1,2.5,0.1\r\n2,nan,1e-2\r\n\n");
  const clr::viz::CsvTable table = clr::viz::read_csv(csv.string());
  CHECK(table.columns == std::vector<std::string>{"epoch", "loss", "lr"});
  REQUIRE(table.rows.size() == 2);
  CHECK(table.column("lr") == std::vector<double>{0.1, 0.01});
  CHECK(std::isnan(table.column("loss")[1]));
  CHECK_THROWS_WITH_AS(table.column("accuracy"),
                       doctest::Contains("no column 'accuracy' (it has epoch, loss, lr)"),
                       clr::Error);

  const auto fails = [](const std::string& text, const std::string& message) {
    const fs::path bad = scratch("bad.csv");
    write_text(bad, text);
    CHECK_THROWS_WITH_AS(clr::viz::read_csv(bad.string()), doctest::Contains(message.c_str()),
                         clr::Error);
  };
  fails("epoch,loss\n1,2\n2,abc\n", "line 3, column 2 (loss): 'abc' is not a number");
  fails("epoch,loss\n1,2,3\n", "line 2 has 3 fields, the header has 2");
  fails("epoch,loss\n1\n", "line 2 has 1 fields");
  fails("", "is empty");
  fails("epoch,epoch\n", "column 'epoch' appears twice");
  fails("epoch,,loss\n", "line 1, column 2: empty column name");
  fails("epoch,loss\n1,\n", "line 2, column 2 (loss): '' is not a number");
  CHECK_THROWS_WITH_AS(clr::viz::read_csv("/no/such/log.csv"),
                       doctest::Contains("/no/such/log.csv"), clr::Error);
}
