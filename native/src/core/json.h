// A small strict JSON reader for model configs and safetensors headers (no dependency, so the
// core builds anywhere libtorch does). Numbers keep their text so integers stay exact.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace da::json {

class Value {
 public:
  enum class Kind { Null, Bool, Number, String, Array, Object };

  Kind kind() const { return kind_; }
  bool is_null() const { return kind_ == Kind::Null; }
  bool is_bool() const { return kind_ == Kind::Bool; }
  bool is_number() const { return kind_ == Kind::Number; }
  bool is_string() const { return kind_ == Kind::String; }
  bool is_array() const { return kind_ == Kind::Array; }
  bool is_object() const { return kind_ == Kind::Object; }

  // Accessors throw da::Error(ERR_CONFIG) naming `what` when the kind is wrong.
  bool as_bool(const std::string& what = "value") const;
  double as_double(const std::string& what = "value") const;
  int64_t as_int(const std::string& what = "value") const;     // rejects fractions
  uint64_t as_uint(const std::string& what = "value") const;   // rejects negatives/fractions
  const std::string& as_string(const std::string& what = "value") const;
  const std::vector<Value>& as_array(const std::string& what = "value") const;
  const std::vector<std::pair<std::string, Value>>& as_object(const std::string& what = "value") const;

  // Object lookup: nullptr when absent (or when this is not an object).
  const Value* find(std::string_view key) const;
  bool has(std::string_view key) const { return find(key) != nullptr; }

  static Value make_null();
  static Value make_bool(bool b);
  static Value make_number(std::string text);
  static Value make_string(std::string s);
  static Value make_array(std::vector<Value> items);
  static Value make_object(std::vector<std::pair<std::string, Value>> members);

 private:
  Kind kind_ = Kind::Null;
  bool bool_ = false;
  std::string text_;  // number text or string value
  std::vector<Value> array_;
  std::vector<std::pair<std::string, Value>> object_;  // insertion order kept
};

// Parses a complete JSON document. Throws da::Error with `error_code` (e.g. ERR_CONFIG or
// ERR_SAFETENSORS) on malformed input, duplicate keys, or nesting deeper than max_depth.
Value parse(std::string_view text, const char* error_code, int max_depth = 64);

// Serialises a string as a JSON string literal (for writers).
std::string quote(std::string_view s);

}  // namespace da::json
