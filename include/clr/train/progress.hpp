// Progress output of a training run: one line per epoch that updates in place on a
// terminal (batch i/n, loss, lr, images/s, ETA), and plain lines when stdout is a file or
// a pipe, where carriage returns would garble the log. EpochLog appends one CSV row of
// metrics per epoch.
#pragma once

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "clr/core/error.hpp"

namespace clr::train {

inline std::string format_duration(double seconds) {
  const long s = seconds < 0 ? 0 : static_cast<long>(seconds + 0.5);
  char text[32];
  if (s >= 3600) {
    std::snprintf(text, sizeof text, "%ldh%02ldm%02lds", s / 3600, s / 60 % 60, s % 60);
  } else {
    std::snprintf(text, sizeof text, "%ldm%02lds", s / 60, s % 60);
  }
  return text;
}

class Progress {
 public:
  using Clock = std::chrono::steady_clock;

  // `every`: on a non-terminal, print a line each `every` batches (and at the epoch's end).
  explicit Progress(std::string task, int every = 50, std::FILE* out = stdout)
      : task_(std::move(task)), every_(every), out_(out), terminal_(isatty(fileno(out)) != 0) {}

  void start_epoch(int epoch, int epochs, int batches) {
    epoch_ = epoch;
    epochs_ = epochs;
    batches_ = batches;
    images_ = 0;
    loss_sum_ = 0.0;
    start_ = Clock::now();
  }

  // After batch `index` (0-based) of `images` images with loss `loss` at learning rate `lr`.
  void batch(int index, int images, double loss, double lr) {
    images_ += images;
    loss_sum_ += loss;
    last_loss_ = loss;
    lr_ = lr;
    const bool last = index + 1 == batches_;
    if (terminal_ || last || (index + 1) % every_ == 0) print(index + 1, last);
  }

  double seconds() const { return std::chrono::duration<double>(Clock::now() - start_).count(); }
  double images_per_second() const {
    const double s = seconds();
    return s > 0 ? images_ / s : 0.0;
  }
  double mean_loss(int batches_done) const {
    return batches_done > 0 ? loss_sum_ / batches_done : 0.0;
  }

 private:
  void print(int done, bool last) {
    const double elapsed = seconds();
    const double per_batch = elapsed / done;
    const double eta = per_batch * (batches_ - done) +
                       per_batch * batches_ * (epochs_ - epoch_);  // this epoch + the rest
    char line[256];
    std::snprintf(
        line, sizeof line, "%s epoch %d/%d [%d/%d] loss %.4f (avg %.4f) lr %.4g %.0f img/s %s %s",
        task_.c_str(), epoch_, epochs_, done, batches_, last_loss_, loss_sum_ / done, lr_,
        images_per_second(), last ? "took" : "eta", format_duration(last ? elapsed : eta).c_str());
    if (terminal_) {
      std::fprintf(out_, "\r\033[K%s%s", line, last ? "\n" : "");
    } else {
      std::fprintf(out_, "%s\n", line);
    }
    std::fflush(out_);
  }

  std::string task_;
  int every_;
  std::FILE* out_;
  bool terminal_;
  int epoch_ = 0, epochs_ = 0, batches_ = 0;
  long images_ = 0;
  double loss_sum_ = 0.0, last_loss_ = 0.0, lr_ = 0.0;
  Clock::time_point start_ = Clock::now();
};

// A CSV file with one row per epoch; the columns are fixed by the first row written.
// Rows are flushed as they are written, so a killed run keeps its history; a resumed run
// appends to it.
class EpochLog {
 public:
  EpochLog() = default;
  EpochLog(const std::filesystem::path& path, bool append) : path_(path) {
    if (!append || !std::filesystem::exists(path)) {
      std::ofstream(path, std::ios::trunc);
    } else {
      header_written_ = std::filesystem::file_size(path) > 0;
    }
    std::ofstream probe(path, std::ios::app);
    require(probe.good(), "EpochLog: cannot write ", path.string());
  }

  void write(const std::vector<std::pair<std::string, double>>& columns) {
    if (path_.empty()) return;
    std::ofstream out(path_, std::ios::app);
    require(out.good(), "EpochLog: cannot write ", path_.string());
    if (!header_written_) {
      for (std::size_t i = 0; i < columns.size(); ++i) out << (i ? "," : "") << columns[i].first;
      out << '\n';
      header_written_ = true;
    }
    for (std::size_t i = 0; i < columns.size(); ++i) out << (i ? "," : "") << columns[i].second;
    out << '\n';
    out.flush();
    require(out.good(), "EpochLog: cannot write ", path_.string());
  }

 private:
  std::filesystem::path path_;
  bool header_written_ = false;
};

}  // namespace clr::train
