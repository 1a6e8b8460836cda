// A small JSON reader for the test fixtures: objects, arrays, numbers, strings, booleans
// and null; enough for files written by Python's json module.
#pragma once

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <variant>
#include <vector>

#include "clr/core/error.hpp"

namespace clr::testing {

class Json {
 public:
  using Array = std::vector<Json>;
  using Object = std::map<std::string, Json>;

  static Json parse_file(const std::string& path) {
    std::ifstream in(path);
    require(in.good(), "Json: cannot open ", path);
    std::stringstream text;
    text << in.rdbuf();
    return parse(text.str(), path);
  }
  static Json parse(const std::string& text, const std::string& origin = "<string>") {
    Parser parser{text, origin, 0};
    Json value = parser.value();
    parser.skip_space();
    require(parser.at == text.size(), origin, ": trailing characters at offset ", parser.at);
    return value;
  }

  bool has(const std::string& key) const { return object().count(key) > 0; }
  const Json& operator[](const std::string& key) const {
    auto it = object().find(key);
    require(it != object().end(), "Json: no key '", key, "'");
    return it->second;
  }
  double number() const { return std::get<double>(value_); }
  const std::string& string() const { return std::get<std::string>(value_); }
  bool boolean() const { return std::get<bool>(value_); }
  const Array& array() const { return *std::get<std::shared_ptr<Array>>(value_); }
  const Object& object() const { return *std::get<std::shared_ptr<Object>>(value_); }

  template <class T>
  std::vector<T> numbers() const {
    std::vector<T> out;
    for (const Json& item : array()) out.push_back(static_cast<T>(item.number()));
    return out;
  }

 private:
  struct Parser {
    const std::string& text;
    const std::string& origin;
    std::size_t at;

    void skip_space() {
      while (at < text.size() && std::isspace(static_cast<unsigned char>(text[at]))) ++at;
    }
    char peek() {
      skip_space();
      require(at < text.size(), origin, ": unexpected end of JSON");
      return text[at];
    }
    void expect(char c) {
      require(peek() == c, origin, ": expected '", c, "' at offset ", at);
      ++at;
    }
    bool literal(const char* word) {
      const std::string w(word);
      if (text.compare(at, w.size(), w) != 0) return false;
      at += w.size();
      return true;
    }
    Json value() {
      const char c = peek();
      Json json;
      if (c == '{') {
        auto object = std::make_shared<Object>();
        ++at;
        if (peek() != '}') {
          do {
            std::string key = string_literal();
            expect(':');
            (*object)[key] = value();
          } while (peek() == ',' && ++at);
        }
        expect('}');
        json.value_ = object;
      } else if (c == '[') {
        auto array = std::make_shared<Array>();
        ++at;
        if (peek() != ']') {
          do array->push_back(value());
          while (peek() == ',' && ++at);
        }
        expect(']');
        json.value_ = array;
      } else if (c == '"') {
        json.value_ = string_literal();
      } else if (literal("true")) {
        json.value_ = true;
      } else if (literal("false")) {
        json.value_ = false;
      } else if (literal("null")) {
        json.value_ = std::monostate{};
      } else {
        char* end = nullptr;
        const double number = std::strtod(text.c_str() + at, &end);
        require(end != text.c_str() + at, origin, ": bad JSON value at offset ", at);
        at = static_cast<std::size_t>(end - text.c_str());
        json.value_ = number;
      }
      return json;
    }
    std::string string_literal() {
      expect('"');
      std::string out;
      while (at < text.size() && text[at] != '"') {
        if (text[at] == '\\') ++at;  // fixtures hold no escapes beyond \" and \\ .
        out += text[at++];
      }
      expect('"');
      return out;
    }
  };

  std::variant<std::monostate, bool, double, std::string, std::shared_ptr<Array>,
               std::shared_ptr<Object>>
      value_;
};

// Every `*.json` fixture in `dir` whose "kind" is `kind`, in file-name order.
inline std::vector<Json> fixtures_of_kind(const std::string& dir, const std::string& kind) {
  std::vector<std::filesystem::path> paths;
  for (const auto& entry : std::filesystem::directory_iterator(dir))
    if (entry.path().extension() == ".json") paths.push_back(entry.path());
  std::sort(paths.begin(), paths.end());
  std::vector<Json> cases;
  for (const auto& path : paths) {
    Json json = Json::parse_file(path.string());
    if (json["kind"].string() == kind) cases.push_back(json);
  }
  return cases;
}

}  // namespace clr::testing
