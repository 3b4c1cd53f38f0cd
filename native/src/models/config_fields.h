// Model configs are declared once. A config struct lists its config.json fields in one member
// template, in the order they are read:
//
//   template <class V> void fields(V& v) {
//     v.field("in_channels", in_channels, "Channels of the input sample.");
//     v.per_block("layers_per_block", layers_per_block, 2, down_block_types.size(), "...");
//     v.fixed_null("encoder_hid_dim");
//   }
//
// That one list drives three visitors: the strict reader (unknown keys and unsupported values are
// ERR_CONFIG naming the field), the writer (config.json as the reference library writes it: keys
// sorted, `_class_name` first) and the schema the TypeScript config types are generated from
// (scripts/gen-config-types.cjs, checked by test/native/config-types.test.ts). Cross-field rules
// (block counts, bounds) stay in the struct's validate(). Adding a field is one line in fields().
//
// A config struct C also declares:
//   static constexpr const char* kName;          // "UNet2DConditionModel": messages and `_class_name`
//   static constexpr bool kWriteClassName;       // diffusers writes `_class_name`, transformers does not
//   static constexpr config::Unknown kUnknown;   // what an undeclared key is
//   void validate(const ConfigReader& r) const;  // cross-field checks after reading
#pragma once
#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/json.h"
#include "models/config_reader.h"

namespace da::models::config {

// Keys a config does not declare: diffusers refuses them (a feature we would silently lack),
// transformers configs carry many the encoder has no use for (architectures, id2label, ...).
enum class Unknown { kReject, kIgnore };
// How a per-block list is written back: an int when all entries are equal (diffusers' own
// compaction), or always a list (SD2 writes attention_head_dim as one).
enum class ListStyle { kIntWhenEqual, kAlwaysList };

// Reads each field from a config object (through ConfigReader, which marks it as read).
class Reader {
 public:
  explicit Reader(ConfigReader& r) : r_(r) {}
  void field(const char* key, int64_t& v, const char* = "") { v = r_.get_int(key, v); }
  void field(const char* key, double& v, const char* = "") { v = r_.get_double(key, v); }
  void field(const char* key, bool& v, const char* = "") { v = r_.get_bool(key, v); }
  void field(const char* key, std::string& v, const char* = "") { v = r_.get_string(key, v); }
  void field(const char* key, std::vector<int64_t>& v, const char* = "") { v = r_.get_int_list(key, v); }
  void field(const char* key, std::vector<std::string>& v, const char* = "") { v = r_.get_string_list(key, v); }
  template <class T>
  void nullable(const char* key, std::optional<T>& v, const char* doc = "") {
    const json::Value* j = r_.get(key);
    if (!j) return;
    if (j->is_null()) {
      v.reset();
      return;
    }
    T value{};
    field(key, value, doc);
    v = value;
  }
  // null (or absent) is the empty list.
  void nullable(const char* key, std::vector<double>& v, const char* = "") { v = r_.get_double_list_or_empty(key); }
  // An int (one entry) or a list; null is the empty list when `null_ok`, else the default is kept.
  void sizes(const char* key, std::vector<int64_t>& v, bool null_ok, const char* = "") {
    const json::Value* j = r_.get(key);
    if (!j) return;
    if (j->is_null()) {
      if (null_ok) v.clear();
      return;
    }
    v = j->is_array() ? r_.get_int_list(key, {}) : std::vector<int64_t>{r_.get_int(key, 0)};
  }
  void per_block(const char* key, std::vector<int64_t>& v, int64_t def, size_t n, ListStyle = ListStyle::kIntWhenEqual, const char* = "") {
    v = r_.get_int_or_list(key, def, n);
  }
  void per_block(const char* key, std::vector<bool>& v, bool def, size_t n, const char* = "") { v = r_.get_bool_or_list(key, def, n); }
  void fixed_null(const char* key, const char* = "") { r_.require_null(key); }
  void fixed(const char* key, const char* value, const char* = "") { r_.require_string(key, value); }
  void fixed(const char* key, bool value, const char* = "") { r_.require_bool(key, value); }
  // A field whose null the reference accepts but this implementation cannot honour.
  void refuse_null(const char* key, const char* why) {
    if (const json::Value* j = r_.get(key); j && j->is_null()) r_.fail(key, why);
  }
  void check(bool ok, const char* key, const std::string& why) {
    if (!ok) r_.fail(key, why);
  }

 private:
  ConfigReader& r_;
};

// Writes each field as JSON text; str() gives config.json (keys sorted, `_class_name` first).
class Writer {
 public:
  void field(const char* key, int64_t v, const char* = "") { put(key, std::to_string(v)); }
  void field(const char* key, double v, const char* = "") { put(key, json_number(v)); }
  void field(const char* key, bool v, const char* = "") { put(key, v ? "true" : "false"); }
  void field(const char* key, const std::string& v, const char* = "") { put(key, json::quote(v)); }
  void field(const char* key, const std::vector<int64_t>& v, const char* = "") { put(key, list(v, [](int64_t x) { return std::to_string(x); })); }
  void field(const char* key, const std::vector<std::string>& v, const char* = "") { put(key, list(v, [](const std::string& x) { return json::quote(x); })); }
  template <class T>
  void nullable(const char* key, const std::optional<T>& v, const char* doc = "") {
    if (v) field(key, *v, doc);
    else put(key, "null");
  }
  void nullable(const char* key, const std::vector<double>& v, const char* = "") {
    put(key, v.empty() ? "null" : list(v, [](double x) { return json_number(x); }));
  }
  void sizes(const char* key, const std::vector<int64_t>& v, bool, const char* doc = "") {
    if (v.empty()) put(key, "null");
    else if (v.size() == 1) field(key, v[0], doc);
    else field(key, v, doc);
  }
  void per_block(const char* key, const std::vector<int64_t>& v, int64_t, size_t, ListStyle style = ListStyle::kIntWhenEqual, const char* doc = "") {
    if (style == ListStyle::kIntWhenEqual && !v.empty() && std::all_of(v.begin(), v.end(), [&](int64_t x) { return x == v[0]; }))
      field(key, v[0], doc);
    else
      field(key, v, doc);
  }
  void per_block(const char* key, const std::vector<bool>& v, bool, size_t, const char* doc = "") {
    if (!v.empty() && std::all_of(v.begin(), v.end(), [&](bool x) { return x == v[0]; })) field(key, static_cast<bool>(v[0]), doc);
    else put(key, list(v, [](bool x) { return std::string(x ? "true" : "false"); }));
  }
  void fixed_null(const char* key, const char* = "") { put(key, "null"); }
  void fixed(const char* key, const char* value, const char* = "") { put(key, json::quote(value)); }
  void fixed(const char* key, bool value, const char* = "") { put(key, value ? "true" : "false"); }
  void refuse_null(const char*, const char*) {}
  void check(bool, const char*, const std::string&) {}

  const std::map<std::string, std::string>& values() const { return values_; }
  std::string str(const char* class_name) const;

 private:
  void put(const char* key, std::string text) { values_[key] = std::move(text); }
  template <class V, class F>
  static std::string list(const V& v, F item) {
    std::string s = "[";
    for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + item(v[i]);
    return s + "]";
  }
  std::map<std::string, std::string> values_;
};

// Describes each field for the TypeScript types: key, TypeScript type, default (JSON) and doc.
class Schema {
 public:
  void field(const char* key, int64_t v, const char* doc = "") { add(key, "number", std::to_string(v), doc); }
  void field(const char* key, double v, const char* doc = "") { add(key, "number", json_number(v), doc); }
  void field(const char* key, bool v, const char* doc = "") { add(key, "boolean", v ? "true" : "false", doc); }
  void field(const char* key, const std::string& v, const char* doc = "") { add(key, "string", json::quote(v), doc); }
  void field(const char* key, const std::vector<int64_t>& v, const char* doc = "") { add(key, "number[]", text(key, v), doc); }
  void field(const char* key, const std::vector<std::string>& v, const char* doc = "") { add(key, "string[]", text(key, v), doc); }
  template <class T>
  void nullable(const char* key, const std::optional<T>& v, const char* doc = "") {
    Schema inner;
    inner.field(key, v.value_or(T{}), doc);
    add(key, inner.fields_.back().type + " | null", v ? inner.fields_.back().default_json : "null", doc);
  }
  void nullable(const char* key, const std::vector<double>& v, const char* doc = "") {
    Writer w;
    w.nullable(key, v);
    add(key, "number[] | null", w.values().at(key), doc);
  }
  void sizes(const char* key, const std::vector<int64_t>& v, bool null_ok, const char* doc = "") {
    Writer w;
    w.sizes(key, v, null_ok);
    add(key, null_ok ? "number | number[] | null" : "number | number[]", w.values().at(key), doc);
  }
  void per_block(const char* key, const std::vector<int64_t>&, int64_t def, size_t, ListStyle = ListStyle::kIntWhenEqual, const char* doc = "") {
    add(key, "number | number[]", std::to_string(def), doc);
  }
  void per_block(const char* key, const std::vector<bool>&, bool def, size_t, const char* doc = "") {
    add(key, "boolean | boolean[]", def ? "true" : "false", doc);
  }
  void fixed_null(const char* key, const char* doc = "") { add(key, "null", "null", doc); }
  void fixed(const char* key, const char* value, const char* doc = "") { add(key, json::quote(value), json::quote(value), doc); }
  void fixed(const char* key, bool value, const char* doc = "") { add(key, value ? "true" : "false", value ? "true" : "false", doc); }
  void refuse_null(const char*, const char*) {}
  void check(bool, const char*, const std::string&) {}

  // {"name", "unknown": "reject" | "ignore", "fields": [{"key", "type", "default", "doc"}]}
  std::string str(const char* name, Unknown unknown) const;

 private:
  struct Entry {
    std::string key, type, default_json, doc;
  };
  void add(const char* key, std::string type, std::string default_json, const char* doc) {
    fields_.push_back({key, std::move(type), std::move(default_json), doc});
  }
  template <class V>
  static std::string text(const char* key, const V& v) {
    Writer w;
    w.field(key, v);
    return w.values().at(key);
  }
  std::vector<Entry> fields_;
};

// The config in `root` (strict as C::kUnknown says; then C::validate).
template <class C>
C read(const json::Value& root) {
  C c;
  ConfigReader r(root, C::kName);
  Reader v(r);
  c.fields(v);
  if constexpr (C::kUnknown == Unknown::kReject) r.finish();
  c.validate(r);
  return c;
}

template <class C>
C read_file(const std::string& path) {
  return read<C>(json::parse(read_text_file(path), code::kConfig));
}

// config.json text, as the reference library writes it.
template <class C>
std::string write(const C& c) {
  C copy = c;  // the field list takes non-const references (one list serves the reader too)
  Writer w;
  copy.fields(w);
  return w.str(C::kWriteClassName ? C::kName : nullptr);
}

// The field list of C with the defaults of a default-constructed C.
template <class C>
std::string schema() {
  C c;
  Schema s;
  c.fields(s);
  return s.str(C::kName, C::kUnknown);
}

}  // namespace da::models::config

namespace da::models::config {

// from_json / from_file / to_json for a config struct C that declares fields() (see the top of this file).
template <class C>
struct Declared {
  static C from_json(const json::Value& root) { return read<C>(root); }
  // Through C::from_json, which a config may replace (ViTConfig reads a VisionEncoderDecoder's `encoder`).
  static C from_file(const std::string& path) { return C::from_json(json::parse(read_text_file(path), code::kConfig)); }
  std::string to_json() const { return write(static_cast<const C&>(*this)); }
};

}  // namespace da::models::config
