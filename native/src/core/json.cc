#include "core/json.h"

#include <cmath>
#include <cstdlib>
#include <set>

#include "core/error.h"

namespace da::json {
namespace {

class Parser {
 public:
  Parser(std::string_view text, const char* code, int max_depth)
      : s_(text), code_(code), max_depth_(max_depth) {}

  Value document() {
    skip_ws();
    Value v = value(0);
    skip_ws();
    if (pos_ != s_.size()) error("unexpected trailing characters");
    return v;
  }

 private:
  [[noreturn]] void error(const std::string& what) {
    fail(code_, "invalid JSON at byte " + std::to_string(pos_) + ": " + what);
  }
  void skip_ws() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\n' || s_[pos_] == '\r' || s_[pos_] == '\t')) ++pos_;
  }
  char peek() {
    if (pos_ >= s_.size()) error("unexpected end of input");
    return s_[pos_];
  }
  void expect_literal(std::string_view lit) {
    if (s_.substr(pos_, lit.size()) != lit) error("invalid literal");
    pos_ += lit.size();
  }

  Value value(int depth) {
    if (depth > max_depth_) error("nesting deeper than " + std::to_string(max_depth_));
    char c = peek();
    switch (c) {
      case '{': return object(depth);
      case '[': return array(depth);
      case '"': return Value::make_string(string());
      case 't': expect_literal("true"); return Value::make_bool(true);
      case 'f': expect_literal("false"); return Value::make_bool(false);
      case 'n': expect_literal("null"); return Value::make_null();
      // Python's json (and so diffusers' save_config) writes these non-standard literals, e.g.
      // DPMSolverMultistepScheduler's lambda_min_clipped: -Infinity.
      case 'N': expect_literal("NaN"); return Value::make_number("NaN");
      case 'I': expect_literal("Infinity"); return Value::make_number("Infinity");
      default:
        if (c == '-' && pos_ + 1 < s_.size() && s_[pos_ + 1] == 'I') {
          expect_literal("-Infinity");
          return Value::make_number("-Infinity");
        }
        if (c == '-' || (c >= '0' && c <= '9')) return number();
        error(std::string("unexpected character '") + c + "'");
    }
  }

  Value number() {
    size_t start = pos_;
    if (s_[pos_] == '-') ++pos_;
    if (pos_ >= s_.size()) error("bad number");
    if (s_[pos_] == '0') {
      ++pos_;
    } else if (s_[pos_] >= '1' && s_[pos_] <= '9') {
      while (pos_ < s_.size() && isdigit(static_cast<unsigned char>(s_[pos_]))) ++pos_;
    } else {
      error("bad number");
    }
    if (pos_ < s_.size() && s_[pos_] == '.') {
      ++pos_;
      size_t d = pos_;
      while (pos_ < s_.size() && isdigit(static_cast<unsigned char>(s_[pos_]))) ++pos_;
      if (d == pos_) error("bad fraction");
    }
    if (pos_ < s_.size() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
      ++pos_;
      if (pos_ < s_.size() && (s_[pos_] == '+' || s_[pos_] == '-')) ++pos_;
      size_t d = pos_;
      while (pos_ < s_.size() && isdigit(static_cast<unsigned char>(s_[pos_]))) ++pos_;
      if (d == pos_) error("bad exponent");
    }
    return Value::make_number(std::string(s_.substr(start, pos_ - start)));
  }

  static void append_utf8(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }

  uint32_t hex4() {
    if (pos_ + 4 > s_.size()) error("truncated \\u escape");
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
      char c = s_[pos_++];
      v <<= 4;
      if (c >= '0' && c <= '9') v |= c - '0';
      else if (c >= 'a' && c <= 'f') v |= c - 'a' + 10;
      else if (c >= 'A' && c <= 'F') v |= c - 'A' + 10;
      else error("bad \\u escape");
    }
    return v;
  }

  std::string string() {
    ++pos_;  // opening quote
    std::string out;
    while (true) {
      if (pos_ >= s_.size()) error("unterminated string");
      char c = s_[pos_++];
      if (c == '"') break;
      if (static_cast<unsigned char>(c) < 0x20) error("control character in string");
      if (c != '\\') {
        out += c;
        continue;
      }
      if (pos_ >= s_.size()) error("unterminated escape");
      char e = s_[pos_++];
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          uint32_t cp = hex4();
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            if (pos_ + 2 > s_.size() || s_[pos_] != '\\' || s_[pos_ + 1] != 'u') error("lone surrogate");
            pos_ += 2;
            uint32_t lo = hex4();
            if (lo < 0xDC00 || lo > 0xDFFF) error("bad surrogate pair");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            error("lone surrogate");
          }
          append_utf8(out, cp);
          break;
        }
        default: error("bad escape");
      }
    }
    return out;
  }

  Value array(int depth) {
    ++pos_;
    std::vector<Value> items;
    skip_ws();
    if (peek() == ']') {
      ++pos_;
      return Value::make_array(std::move(items));
    }
    while (true) {
      skip_ws();
      items.push_back(value(depth + 1));
      skip_ws();
      char c = peek();
      ++pos_;
      if (c == ']') break;
      if (c != ',') error("expected ',' or ']'");
    }
    return Value::make_array(std::move(items));
  }

  Value object(int depth) {
    ++pos_;
    std::vector<std::pair<std::string, Value>> members;
    std::set<std::string> seen;
    skip_ws();
    if (peek() == '}') {
      ++pos_;
      return Value::make_object(std::move(members));
    }
    while (true) {
      skip_ws();
      if (peek() != '"') error("expected a key");
      std::string key = string();
      if (!seen.insert(key).second) error("duplicate key \"" + key + "\"");
      skip_ws();
      if (peek() != ':') error("expected ':'");
      ++pos_;
      skip_ws();
      members.emplace_back(std::move(key), value(depth + 1));
      skip_ws();
      char c = peek();
      ++pos_;
      if (c == '}') break;
      if (c != ',') error("expected ',' or '}'");
    }
    return Value::make_object(std::move(members));
  }

  std::string_view s_;
  const char* code_;
  int max_depth_;
  size_t pos_ = 0;
};

const char* kind_name(Value::Kind k) {
  switch (k) {
    case Value::Kind::Null: return "null";
    case Value::Kind::Bool: return "a boolean";
    case Value::Kind::Number: return "a number";
    case Value::Kind::String: return "a string";
    case Value::Kind::Array: return "an array";
    case Value::Kind::Object: return "an object";
  }
  return "?";
}

[[noreturn]] void wrong(const std::string& what, const char* wanted, Value::Kind got) {
  fail(code::kConfig, what + " must be " + wanted + ", got " + kind_name(got));
}

}  // namespace

bool Value::as_bool(const std::string& what) const {
  if (kind_ != Kind::Bool) wrong(what, "a boolean", kind_);
  return bool_;
}
double Value::as_double(const std::string& what) const {
  if (kind_ != Kind::Number) wrong(what, "a number", kind_);
  return std::strtod(text_.c_str(), nullptr);
}
int64_t Value::as_int(const std::string& what) const {
  if (kind_ != Kind::Number) wrong(what, "an integer", kind_);
  if (text_.find_first_of("NI") != std::string::npos) fail(code::kConfig, what + " must be an integer, got " + text_);
  if (text_.find_first_of(".eE") != std::string::npos) {
    double d = as_double(what);
    if (std::floor(d) != d || std::fabs(d) > 9.0e15) fail(code::kConfig, what + " must be an integer, got " + text_);
    return static_cast<int64_t>(d);
  }
  errno = 0;
  long long v = std::strtoll(text_.c_str(), nullptr, 10);
  if (errno == ERANGE) fail(code::kConfig, what + " is out of range: " + text_);
  return v;
}
uint64_t Value::as_uint(const std::string& what) const {
  if (kind_ != Kind::Number) wrong(what, "a non-negative integer", kind_);
  if (!text_.empty() && text_[0] == '-') fail(code::kConfig, what + " must be non-negative, got " + text_);
  if (text_.find_first_of("NI") != std::string::npos) fail(code::kConfig, what + " must be an integer, got " + text_);
  if (text_.find_first_of(".eE") != std::string::npos) return static_cast<uint64_t>(as_int(what));
  errno = 0;
  unsigned long long v = std::strtoull(text_.c_str(), nullptr, 10);
  if (errno == ERANGE) fail(code::kConfig, what + " is out of range: " + text_);
  return v;
}
const std::string& Value::as_string(const std::string& what) const {
  if (kind_ != Kind::String) wrong(what, "a string", kind_);
  return text_;
}
const std::vector<Value>& Value::as_array(const std::string& what) const {
  if (kind_ != Kind::Array) wrong(what, "an array", kind_);
  return array_;
}
const std::vector<std::pair<std::string, Value>>& Value::as_object(const std::string& what) const {
  if (kind_ != Kind::Object) wrong(what, "an object", kind_);
  return object_;
}
const Value* Value::find(std::string_view key) const {
  if (kind_ != Kind::Object) return nullptr;
  for (const auto& [k, v] : object_)
    if (k == key) return &v;
  return nullptr;
}

Value Value::make_null() { return Value(); }
Value Value::make_bool(bool b) {
  Value v;
  v.kind_ = Kind::Bool;
  v.bool_ = b;
  return v;
}
Value Value::make_number(std::string text) {
  Value v;
  v.kind_ = Kind::Number;
  v.text_ = std::move(text);
  return v;
}
Value Value::make_string(std::string s) {
  Value v;
  v.kind_ = Kind::String;
  v.text_ = std::move(s);
  return v;
}
Value Value::make_array(std::vector<Value> items) {
  Value v;
  v.kind_ = Kind::Array;
  v.array_ = std::move(items);
  return v;
}
Value Value::make_object(std::vector<std::pair<std::string, Value>> members) {
  Value v;
  v.kind_ = Kind::Object;
  v.object_ = std::move(members);
  return v;
}

Value parse(std::string_view text, const char* error_code, int max_depth) {
  return Parser(text, error_code, max_depth).document();
}

std::string quote(std::string_view s) {
  std::string out = "\"";
  static const char* hex = "0123456789abcdef";
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out += hex[c >> 4];
          out += hex[c & 15];
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
  return out;
}

}  // namespace da::json
