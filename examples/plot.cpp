// clr-plot: figures of a training run as PNG files.
//
//   clr-plot curves --log save/supcon/log.csv [--log other/log.csv] --columns loss,lr
//                   --out curves.png
//   clr-plot tsne --embeddings feats.npy --dataset fashion_mnist --split test
//                 --max_points 5000 --out tsne.png
//
// `curves` draws one panel per column of the CSV logs that clr-supcon / clr-ce write (each
// log one line); `tsne` maps the rows of a clr-embed output to 2-D with Barnes-Hut t-SNE and
// draws them coloured by class, the labels from an integer .npy or from a dataset's split
// in order (the order clr-embed's input was taken in).
#include <algorithm>
#include <clr/data/cifar.hpp>
#include <clr/data/idx.hpp>
#include <clr/data/npy.hpp>
#include <clr/viz/viz.hpp>
#include <cmath>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <string>
#include <vector>

#include "common/args.hpp"
#include "common/datasets.hpp"

namespace {

using clr::Error;
using clr::require;
using clr::examples::Args;

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t comma = text.find(',', start);
    const std::string part =
        text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (!part.empty()) parts.push_back(part);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return parts;
}

Args curves_args() {
  Args args("clr-plot curves", "Training curves from the CSV logs of clr-supcon / clr-ce.");
  args.flag("log", "a log.csv (repeat --log, or separate by commas, for several runs)",
            {.required = true, .metavar = "FILE"})
      .flag("columns", "columns to draw, one panel each",
            {.default_value = "loss,lr", .metavar = "A,B"})
      .flag("x", "the column along x", {.default_value = "epoch", .metavar = "NAME"})
      .flag("names", "a legend name per log (default: the log's folder)", {.metavar = "A,B"})
      .flag("log_y", "columns drawn on a log10 axis", {.default_value = "", .metavar = "A,B"})
      .flag("title", "a title above the panels", {.default_value = ""})
      .flag("panels_per_row", "panels side by side", {.default_value = "2", .metavar = "N"})
      .flag("width", "figure width in pixels (default: 560 per panel)", {.metavar = "PX"})
      .flag("height", "figure height in pixels (default: 400 per row)", {.metavar = "PX"})
      .flag("out", "the PNG to write", {.required = true, .metavar = "FILE"});
  return args;
}

// EpochLog writes -1 for "not measured this epoch" (kNN or test accuracy between checks):
// those rows are left out, so the measured epochs join up into a curve.
void measured(std::vector<double>& xs, std::vector<double>& ys) {
  std::size_t kept = 0;
  for (std::size_t i = 0; i < ys.size(); ++i)
    if (ys[i] != -1.0) xs[kept] = xs[i], ys[kept++] = ys[i];
  xs.resize(kept), ys.resize(kept);
}

int curves(const Args& args) {
  const std::vector<std::string> logs = split_list(args.get<std::string>("log"));
  const std::vector<std::string> columns = split_list(args.get<std::string>("columns"));
  const std::vector<std::string> log_y = split_list(args.get<std::string>("log_y"));
  require(!columns.empty(), "--columns names no column");
  std::vector<std::string> names;
  if (args.given("names")) {
    names = split_list(args.get<std::string>("names"));
    require(names.size() == logs.size(), "--names gives ", names.size(), " names for ", logs.size(),
            " logs");
  } else {
    for (const auto& log : logs) {
      const std::filesystem::path folder = std::filesystem::path(log).parent_path();
      names.push_back(folder.empty() ? log : folder.filename().string());
    }
  }
  const std::string x = args.get<std::string>("x");
  std::vector<clr::viz::CsvTable> tables;
  for (const auto& log : logs) {
    tables.push_back(clr::viz::read_csv(log));
    require(tables.back().has(x), log, " has no column '", x, "' for --x");
    for (const auto& column : columns) tables.back().column(column);  // names what is missing
  }
  const int per_row =
      std::max(1, std::min(args.get<int>("panels_per_row"), static_cast<int>(columns.size())));
  const int rows = (static_cast<int>(columns.size()) + per_row - 1) / per_row;
  const std::string title = args.get<std::string>("title");
  const int title_band = title.empty() ? 0 : 34;
  const int width = args.given("width") ? args.get<int>("width") : 560 * per_row;
  const int height = args.given("height") ? args.get<int>("height") : 400 * rows + title_band;
  require(width >= 100 && height >= 100 && width <= 8000 && height <= 8000,
          "--width and --height must be 100 to 8000 pixels, got ", width, "x", height);
  clr::viz::Canvas canvas(width, height);
  if (!title.empty())
    canvas.text(width / 2.0, 12, title, clr::viz::kText, 14, clr::viz::Align::center);
  const double panel_w = static_cast<double>(width) / per_row;
  const double panel_h = static_cast<double>(height - title_band) / rows;
  for (std::size_t c = 0; c < columns.size(); ++c) {
    clr::viz::LinePlot plot;
    const bool log_axis = std::find(log_y.begin(), log_y.end(), columns[c]) != log_y.end();
    plot.title(columns[c]).x_label(x).log_y(log_axis);
    for (std::size_t t = 0; t < tables.size(); ++t) {
      std::vector<double> xs = tables[t].column(x), ys = tables[t].column(columns[c]);
      measured(xs, ys);
      plot.markers(xs.size() <= 30);
      plot.add(std::move(xs), std::move(ys), logs.size() > 1 ? names[t] : "");
    }
    const int row = static_cast<int>(c) / per_row, col = static_cast<int>(c) % per_row;
    plot.draw(canvas, {col * panel_w, title_band + row * panel_h, panel_w, panel_h});
  }
  clr::viz::write_png(canvas, args.get<std::string>("out"));
  std::printf("wrote %s (%dx%d, %zu panels, %zu logs)\n", args.get<std::string>("out").c_str(),
              width, height, columns.size(), logs.size());
  return 0;
}

Args tsne_args() {
  Args args("clr-plot tsne", "Barnes-Hut t-SNE of clr-embed's features, coloured by class.");
  args.flag("embeddings", "float32 .npy [N, D] from clr-embed",
            {.required = true, .metavar = "FILE"})
      .flag("labels", "an integer .npy (N,) of classes", {.metavar = "FILE"})
      .flag("dataset", "or take the labels from a dataset, in order",
            {.choices = {"fashion_mnist", "mnist", "cifar10", "cifar100"}})
      .flag("data_folder", "the dataset's folder (default: its usual place)", {.metavar = "DIR"})
      .flag("split", "the dataset split the embeddings come from",
            {.default_value = "test", .choices = {"train", "test"}})
      .flag("max_points", "use the first N points", {.default_value = "5000", .metavar = "N"})
      .flag("class_names", "legend names, comma-separated (default: the dataset's)",
            {.metavar = "A,B"})
      .flag("perplexity", "t-SNE perplexity", {.default_value = "30"})
      .flag("theta", "Barnes-Hut accuracy (0: exact)", {.default_value = "0.5"})
      .flag("iterations", "gradient steps", {.default_value = "1000", .metavar = "N"})
      .flag("pca", "PCA to this many dimensions first (0: none)",
            {.default_value = "50", .metavar = "N"})
      .flag("seed", "random seed of the initial map", {.default_value = "0"})
      .flag("title", "the figure's title", {.default_value = ""})
      .flag("width", "figure width in pixels", {.default_value = "900", .metavar = "PX"})
      .flag("height", "figure height in pixels", {.default_value = "700", .metavar = "PX"})
      .flag("map_out", "also write the 2-D map as float32 .npy [N, 2]", {.metavar = "FILE"})
      .flag("out", "the PNG to write", {.required = true, .metavar = "FILE"});
  return args;
}

struct Labels {
  std::vector<int> values;
  std::vector<std::string> names;
};

Labels dataset_labels(const Args& args) {
  const std::string name = args.get<std::string>("dataset");
  const std::string folder = args.given("data_folder") ? args.get<std::string>("data_folder")
                                                       : clr::examples::default_data_folder(name);
  const auto split =
      args.get<std::string>("split") == "train" ? clr::data::Split::train : clr::data::Split::test;
  const clr::data::InMemoryDataset dataset =
      name == "fashion_mnist" ? clr::data::fashion_mnist(folder, split)
      : name == "mnist"       ? clr::data::mnist(folder, split)
      : name == "cifar10"     ? clr::data::cifar10(folder, split)
                              : clr::data::cifar100(folder, split);
  return {dataset.labels(), dataset.class_names()};
}

int tsne(const Args& args) {
  require(args.given("labels") != args.given("dataset"),
          "give exactly one of --labels and --dataset");
  const std::string embeddings = args.get<std::string>("embeddings");
  const clr::data::NpyArray features = clr::data::read_npy(embeddings);
  require(features.shape.rank() == 2, "--embeddings ", embeddings, " has shape ", features.shape,
          ", expected [N, D] (clr-embed's output)");
  const int n_all = features.shape[0], dim = features.shape[1];
  Labels labels = args.given("labels")
                      ? Labels{clr::viz::read_npy_labels(args.get<std::string>("labels")), {}}
                      : dataset_labels(args);
  require(static_cast<int>(labels.values.size()) >= n_all, "--embeddings ", embeddings, " holds ",
          n_all, " rows but there are only ", labels.values.size(), " labels");
  const int max_points = args.get<int>("max_points");
  require(max_points >= 1, "--max_points must be >= 1, got ", max_points);
  const int n = std::min(n_all, max_points);
  if (args.given("class_names")) labels.names = split_list(args.get<std::string>("class_names"));

  clr::viz::TsneSettings settings;
  settings.perplexity = args.get<double>("perplexity");
  settings.theta = args.get<double>("theta");
  settings.iterations = args.get<int>("iterations");
  settings.pca_dims = args.get<int>("pca");
  settings.seed = static_cast<std::uint64_t>(args.get<std::int64_t>("seed"));
  require(settings.perplexity > 1 && 3 * settings.perplexity < n, "--perplexity ",
          settings.perplexity, " needs more than ", static_cast<int>(3 * settings.perplexity),
          " points, got ", n);
  settings.progress = [](int iteration, double kl) {
    std::printf("iteration %d: KL divergence %.4f\n", iteration, kl);
    std::fflush(stdout);
  };
  const clr::viz::RowMatrixF x =
      Eigen::Map<const clr::viz::RowMatrixF>(features.values.data(), n_all, dim).topRows(n);
  std::printf("t-SNE of %d points of %d dimensions (perplexity %g, theta %g)\n", n, dim,
              settings.perplexity, settings.theta);
  const std::vector<clr::viz::Point> map = clr::viz::tsne(x, settings);

  std::vector<double> xs(n), ys(n);
  for (int i = 0; i < n; ++i) xs[i] = map[i].x, ys[i] = map[i].y;
  clr::viz::ScatterPlot plot;
  plot.title(args.get<std::string>("title")).class_names(labels.names).ticks(false);
  plot.set(std::move(xs), std::move(ys),
           std::vector<int>(labels.values.begin(), labels.values.begin() + n));
  clr::viz::write_png(plot.render(args.get<int>("width"), args.get<int>("height")),
                      args.get<std::string>("out"));
  if (args.given("map_out")) {
    std::vector<float> values;
    for (const auto& p : map)
      values.push_back(static_cast<float>(p.x)), values.push_back(static_cast<float>(p.y));
    clr::data::write_npy(args.get<std::string>("map_out"), clr::Shape{n, 2}, values);
  }
  std::printf("wrote %s\n", args.get<std::string>("out").c_str());
  return 0;
}

const char* kUsage =
    "usage: clr-plot {curves|tsne} [flags]\n\n"
    "Figures of a training run as PNG files.\n\n"
    "  curves   training curves from clr-supcon / clr-ce log.csv files\n"
    "  tsne     Barnes-Hut t-SNE of clr-embed features, coloured by class\n\n"
    "clr-plot curves --help, clr-plot tsne --help: their flags\n";

// Args keeps the last of a repeated flag; --log may be repeated, so its values are joined.
std::vector<std::string> join_repeated(int argc, char** argv, const std::string& flag) {
  std::vector<std::string> out{argv[0]};
  std::string joined;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const bool separate = arg == "--" + flag && i + 1 < argc;
    if (separate || arg.starts_with("--" + flag + "=")) {
      if (!joined.empty()) joined.push_back(',');
      joined.append(separate ? std::string(argv[++i]) : arg.substr(flag.size() + 3));
    } else {
      out.push_back(arg);
    }
  }
  if (!joined.empty()) out.insert(out.end(), {"--" + flag, joined});
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string command = argc > 1 ? argv[1] : "";
  if (command.empty() || command == "--help" || command == "-h") {
    std::fputs(kUsage, command.empty() ? stderr : stdout);
    return command.empty() ? 1 : 0;
  }
  const bool is_curves = command == "curves";
  const std::string program = "clr-plot " + command;
  try {
    require(is_curves || command == "tsne", "unknown command '", command,
            "' (expected curves or tsne; see --help)");
    Args args = is_curves ? curves_args() : tsne_args();
    const std::vector<std::string> words = join_repeated(argc - 1, argv + 1, "log");
    std::vector<const char*> pointers;
    for (const auto& w : words) pointers.push_back(w.c_str());
    if (!args.parse(static_cast<int>(pointers.size()), pointers.data())) return 0;
    return is_curves ? curves(args) : tsne(args);
  } catch (const std::exception& error) {
    std::fprintf(stderr, "%s: %s\n",
                 command == "curves" || command == "tsne" ? program.c_str() : "clr-plot",
                 error.what());
    return 1;
  }
}
