// The command-line parser of the example programs: flags `--name value` (or
// `--name=value`) and switches `--name` (argparse's store_true, as SupContrast's
// --cosine), with defaults, required flags, allowed choices, typed getters, unknown-flag
// detection and a generated --help. The flag names are SupContrast's, so its commands
// carry over.
//
//   clr::examples::Args args("clr-embed", "Writes the features of a trained encoder.");
//   args.flag("batch_size", "images per forward pass", {.default_value = "256"})
//       .flag("ckpt", "the checkpoint", {.required = true, .metavar = "FILE"})
//       .toggle("cosine", "cosine learning-rate annealing");
//   if (!args.parse(argc, argv)) return 0;  // --help was printed
//   const int batch_size = args.get<int>("batch_size");
//
// Every mistake (an unknown flag, a missing or malformed value, a value outside the
// choices) is a clr::Error whose message names the flag; programs print it on one line.
#pragma once

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "clr/core/error.hpp"

namespace clr::examples {

struct FlagSpec {
  std::optional<std::string> default_value{};  // none: the flag has no value unless given
  bool required = false;
  std::vector<std::string> choices{};  // empty: any value
  std::string metavar = "VALUE";       // the value's name in --help
};

namespace detail {

template <class T>
T parse_number(const std::string& text, const std::string& what) {
  T value{};
  const char* end = text.data() + text.size();
  const auto [stop, error] = std::from_chars(text.data(), end, value);
  const char* kind = std::is_integral_v<T> ? "an integer" : "a number";
  require(error != std::errc::result_out_of_range, what, " is out of range: '", text, "'");
  require(!text.empty() && error == std::errc() && stop == end, what, " expects ", kind, ", got '",
          text, "'");
  if constexpr (std::is_floating_point_v<T>)
    require(std::isfinite(value), what, " expects a finite number, got '", text, "'");
  return value;
}

}  // namespace detail

// Converts a flag's (or a stored setting's) text to T: std::string, bool (true/false/1/0),
// int, std::int64_t, float, double, or a comma-separated std::vector of numbers (as
// SupContrast's --lr_decay_epochs 700,800,900). `what` names the source in errors.
template <class T>
T parse_value(const std::string& text, const std::string& what) {
  if constexpr (std::is_same_v<T, std::string>) {
    return text;
  } else if constexpr (std::is_same_v<T, bool>) {
    if (text == "true" || text == "1") return true;
    if (text == "false" || text == "0") return false;
    throw Error(what + " expects true or false, got '" + text + "'");
  } else if constexpr (std::is_arithmetic_v<T>) {
    return detail::parse_number<T>(text, what);
  } else {
    static_assert(std::is_arithmetic_v<typename T::value_type>,
                  "parse_value: std::string, bool, numbers or std::vector of numbers");
    T values;
    std::size_t start = 0;
    while (true) {
      const std::size_t comma = text.find(',', start);
      values.push_back(detail::parse_number<typename T::value_type>(
          text.substr(start, comma == std::string::npos ? std::string::npos : comma - start),
          what));
      if (comma == std::string::npos) return values;
      start = comma + 1;
    }
  }
}

class Args {
 public:
  Args(std::string program, std::string summary)
      : program_(std::move(program)), summary_(std::move(summary)) {}

  // A flag that takes a value: --name value.
  Args& flag(const std::string& name, const std::string& help, FlagSpec spec = {}) {
    require(!specs_.contains(name), program_, ": flag --", name, " declared twice");
    specs_[name] = {help, std::move(spec), false};
    order_.push_back(name);
    return *this;
  }

  // A switch: --name alone turns it on; get<bool>(name) tells whether it was given.
  Args& toggle(const std::string& name, const std::string& help) {
    require(!specs_.contains(name), program_, ": flag --", name, " declared twice");
    specs_[name] = {help, FlagSpec{.default_value = "false"}, true};
    order_.push_back(name);
    return *this;
  }

  // Reads the command line. Returns false when --help (or -h) was asked for: the help is
  // then on stdout and the program should exit with 0.
  bool parse(int argc, const char* const* argv) {
    for (int i = 1; i < argc; ++i) {
      const std::string arg = argv[i];
      if (arg == "--help" || arg == "-h") {
        std::fputs(help().c_str(), stdout);
        return false;
      }
    }
    for (int i = 1; i < argc; ++i) {
      const std::string arg = argv[i];
      require(arg.size() > 2 && arg.starts_with("--"), "unexpected argument '", arg,
              "' (flags are --name value; see --help)");
      const std::size_t equals = arg.find('=');
      const std::string name = arg.substr(2, equals == std::string::npos ? equals : equals - 2);
      const auto spec = specs_.find(name);
      require(spec != specs_.end(), "unknown flag --", name, " (see --help)");
      std::string value;
      if (spec->second.is_toggle) {
        require(equals == std::string::npos, "--", name, " takes no value");
        value = "true";
      } else if (equals != std::string::npos) {
        value = arg.substr(equals + 1);
      } else {
        require(i + 1 < argc && !std::string(argv[i + 1]).starts_with("--"), "--", name,
                " needs a value");
        value = argv[++i];
      }
      const auto& choices = spec->second.spec.choices;
      require(choices.empty() || std::find(choices.begin(), choices.end(), value) != choices.end(),
              "--", name, " must be one of ", join(choices, ", "), "; got '", value, "'");
      values_[name] = value;  // as argparse: a flag given again overrides (wrappers rely on it)
    }
    std::vector<std::string> missing;
    for (const auto& name : order_)
      if (specs_.at(name).spec.required && !values_.contains(name)) missing.push_back("--" + name);
    require(missing.empty(), "missing ", join(missing, ", "), " (see --help)");
    return true;
  }

  // On the command line (not merely defaulted).
  bool given(const std::string& name) const {
    declared(name);
    return values_.contains(name);
  }

  // The given value, else the default, as T (see parse_value).
  template <class T>
  T get(const std::string& name) const {
    const std::optional<T> value = find<T>(name);
    require(value.has_value(), "--", name, " is needed (see --help)");
    return *value;
  }

  // The given value, else the default, else nothing.
  template <class T>
  std::optional<T> find(const std::string& name) const {
    const Entry& entry = declared(name);
    const auto given = values_.find(name);
    if (given != values_.end()) return parse_value<T>(given->second, "--" + name);
    if (entry.spec.default_value) return parse_value<T>(*entry.spec.default_value, "--" + name);
    return std::nullopt;
  }

  const std::string& program() const { return program_; }
  // Every declared flag, in declaration order.
  const std::vector<std::string>& names() const { return order_; }

  std::string help() const {
    std::string usage = "usage: " + program_;
    std::vector<std::pair<std::string, std::string>> lines;
    std::size_t width = 0;
    for (const auto& name : order_) {
      const Entry& entry = specs_.at(name);
      std::string left = "--" + name;
      if (!entry.is_toggle)
        left += " " + (entry.spec.choices.empty() ? entry.spec.metavar
                                                  : "{" + join(entry.spec.choices, "|") + "}");
      if (entry.spec.required) usage += " " + left;
      std::string right = entry.help;
      if (entry.spec.required)
        right += " (required)";
      else if (entry.spec.default_value && !entry.is_toggle)
        right += " (default: " + *entry.spec.default_value + ")";
      width = std::max(width, left.size());
      lines.emplace_back(std::move(left), std::move(right));
    }
    std::string text = usage + " [flags]\n\n" + summary_ + "\n\nflags:\n";
    for (const auto& [left, right] : lines)
      text += "  " + left + std::string(width - left.size() + 2, ' ') + right + "\n";
    return text + "  --help" + std::string(width >= 6 ? width - 6 + 2 : 2, ' ') + "this text\n";
  }

 private:
  struct Entry {
    std::string help;
    FlagSpec spec;
    bool is_toggle;
  };

  const Entry& declared(const std::string& name) const {
    const auto entry = specs_.find(name);
    require(entry != specs_.end(), program_, ": no flag --", name, " is declared");
    return entry->second;
  }

  static std::string join(const std::vector<std::string>& parts, const std::string& separator) {
    std::string text;
    for (std::size_t i = 0; i < parts.size(); ++i) text += (i ? separator : "") + parts[i];
    return text;
  }

  std::string program_, summary_;
  std::map<std::string, Entry> specs_;
  std::vector<std::string> order_;  // declaration order, for --help
  std::map<std::string, std::string> values_;
};

}  // namespace clr::examples
