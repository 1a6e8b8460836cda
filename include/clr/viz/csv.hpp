// The training log as a table: reads the CSV that train::EpochLog writes (a header row of
// column names, then one row of numbers per epoch; clr-supcon writes epoch, loss,
// contrastive_accuracy, spread, lr, images_per_second, seconds, data_wait_seconds,
// knn_accuracy, clr-ce epoch, loss, train_accuracy, test_top1, lr, images_per_second).
// A malformed file is a clr::Error naming the file, the line and the column.
#pragma once

#include <charconv>
#include <cmath>
#include <fstream>
#include <string>
#include <vector>

#include "clr/core/error.hpp"

namespace clr::viz {

struct CsvTable {
  std::string path;
  std::vector<std::string> columns;
  std::vector<std::vector<double>> rows;  // rows[r][c]

  bool has(const std::string& name) const {
    for (const auto& c : columns)
      if (c == name) return true;
    return false;
  }

  // Column `name`'s values, one per row.
  std::vector<double> column(const std::string& name) const {
    for (std::size_t c = 0; c < columns.size(); ++c) {
      if (columns[c] != name) continue;
      std::vector<double> values;
      values.reserve(rows.size());
      for (const auto& row : rows) values.push_back(row[c]);
      return values;
    }
    std::string known;
    for (const auto& c : columns) known += (known.empty() ? "" : ", ") + c;
    throw Error("viz::CsvTable: " + path + " has no column '" + name + "' (it has " + known + ")");
  }
};

namespace detail {

inline std::vector<std::string> split_fields(const std::string& line) {
  std::vector<std::string> fields(1);
  for (char c : line) {
    if (c == ',') {
      fields.emplace_back();
    } else {
      fields.back() += c;
    }
  }
  for (auto& f : fields) {  // surrounding spaces are not part of a name or number
    const auto first = f.find_first_not_of(' ');
    f = first == std::string::npos ? std::string()
                                   : f.substr(first, f.find_last_not_of(' ') - first + 1);
  }
  return fields;
}

}  // namespace detail

inline CsvTable read_csv(const std::string& path) {
  std::ifstream file(path);
  require(file.good(), "read_csv: cannot open ", path);
  CsvTable table{path, {}, {}};
  std::string line;
  int number = 0;
  while (std::getline(file, line)) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();       // written on Windows
    if (line.find_first_not_of(' ') == std::string::npos) continue;  // blank (a trailing newline)
    std::vector<std::string> fields = detail::split_fields(line);
    if (table.columns.empty()) {
      for (std::size_t c = 0; c < fields.size(); ++c) {
        require(!fields[c].empty(), "read_csv: ", path, " line ", number, ", column ", c + 1,
                ": empty column name in the header");
        for (std::size_t k = 0; k < c; ++k)
          require(fields[k] != fields[c], "read_csv: ", path, " line ", number, ": column '",
                  fields[c], "' appears twice in the header");
      }
      table.columns = std::move(fields);
      continue;
    }
    require(fields.size() == table.columns.size(), "read_csv: ", path, " line ", number, " has ",
            fields.size(), " fields, the header has ", table.columns.size());
    std::vector<double> row(fields.size());
    for (std::size_t c = 0; c < fields.size(); ++c) {
      const std::string& f = fields[c];
      // std::from_chars takes "nan" and "inf", which EpochLog writes for non-finite values,
      // but not a leading '+'.
      const char* begin = f.data() + (f.size() > 1 && f[0] == '+' ? 1 : 0);
      const auto [end, error] = std::from_chars(begin, f.data() + f.size(), row[c]);
      require(!f.empty() && error == std::errc() && end == f.data() + f.size(), "read_csv: ", path,
              " line ", number, ", column ", c + 1, " (", table.columns[c], "): '", f,
              "' is not a number");
    }
    table.rows.push_back(std::move(row));
  }
  require(!table.columns.empty(), "read_csv: ", path, " is empty (expected a header row)");
  return table;
}

}  // namespace clr::viz
