#pragma once
// A small JSON value for the apps' --json output and the metrics files: build, then dump.
// Objects keep insertion order so output is stable and diffable.

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace digitnet {

class Json {
 public:
  enum class Type { kNull, kBool, kInt, kNumber, kString, kArray, kObject };

  Json() = default;  // null
  Json(bool v) : type_(Type::kBool), bool_(v) {}                       // NOLINT
  Json(int v) : type_(Type::kInt), int_(v) {}                          // NOLINT
  Json(int64_t v) : type_(Type::kInt), int_(v) {}                      // NOLINT
  Json(uint64_t v) : type_(Type::kInt), int_(static_cast<int64_t>(v)) {}  // NOLINT
  Json(double v) : type_(Type::kNumber), number_(v) {}                 // NOLINT
  Json(const char* v) : type_(Type::kString), string_(v) {}            // NOLINT
  Json(std::string v) : type_(Type::kString), string_(std::move(v)) {}  // NOLINT

  static Json array(std::vector<Json> items = {});
  static Json object();
  template <typename T>
  static Json array_of(const std::vector<T>& values) {
    Json a = array();
    for (const auto& v : values) a.push(Json(v));
    return a;
  }

  // Appends to an array.
  Json& push(Json value);
  // Sets a key of an object (replacing an earlier value of the same key).
  Json& set(const std::string& key, Json value);

  Type type() const { return type_; }
  // Compact on one line with indent < 0, else pretty-printed with that many spaces.
  std::string dump(int indent = -1) const;

 private:
  void dump_to(std::string& out, int indent, int depth) const;

  Type type_ = Type::kNull;
  bool bool_ = false;
  int64_t int_ = 0;
  double number_ = 0.0;
  std::string string_;
  std::vector<Json> items_;
  std::vector<std::pair<std::string, Json>> members_;
};

// The string with JSON escapes applied, without the quotes.
std::string json_escape(const std::string& s);

}  // namespace digitnet
