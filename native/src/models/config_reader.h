// Reading diffusers config.json files strictly: every key is either understood, explicitly
// accepted at its only supported value, or rejected with ERR_CONFIG naming the field. Keys that
// start with '_' (_class_name, _diffusers_version, _name_or_path, _use_default_values) are
// bookkeeping and ignored. Also the small file helpers shared by the from_pretrained loaders.
#pragma once
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "core/json.h"

namespace da::models {

class ConfigReader {
 public:
  // `model` names the config in messages (e.g. "UNet2DConditionModel").
  ConfigReader(const json::Value& root, std::string model);

  const json::Value* get(const std::string& key);  // marks the key as read; nullptr when absent
  bool is_null_or_absent(const std::string& key);

  int64_t get_int(const std::string& key, int64_t def);
  double get_double(const std::string& key, double def);
  bool get_bool(const std::string& key, bool def);
  std::string get_string(const std::string& key, const std::string& def);
  std::vector<int64_t> get_int_list(const std::string& key, const std::vector<int64_t>& def);
  std::vector<std::string> get_string_list(const std::string& key, const std::vector<std::string>& def);
  std::vector<double> get_double_list_or_empty(const std::string& key);  // null/absent -> {}
  // An int broadcast to n entries, or a list that must have n entries.
  std::vector<int64_t> get_int_or_list(const std::string& key, int64_t def, size_t n);
  std::vector<bool> get_bool_or_list(const std::string& key, bool def, size_t n);

  // Accepts only null (or absence): anything else is a feature this implementation lacks.
  void require_null(const std::string& key);
  // Accepts only `allowed` (or absence).
  void require_string(const std::string& key, const std::string& allowed);
  void require_bool(const std::string& key, bool allowed);
  // Marks a key read without looking at it (documented no-op fields).
  void accept(const std::string& key) { seen_.insert(key); }

  // Throws ERR_CONFIG listing the keys nobody read.
  void finish() const;

  [[noreturn]] void fail(const std::string& key, const std::string& why) const;
  // Refuses a count or size beyond any real model's (`max` is generous): such a config would
  // otherwise build for hours or until memory runs out instead of failing with ERR_CONFIG.
  void at_most(const std::string& key, int64_t value, int64_t max) const;
  void at_most(const std::string& key, const std::vector<int64_t>& values, int64_t max) const;

 private:
  const json::Value& root_;
  std::string model_;
  std::set<std::string> seen_;
};

// A tiny JSON object writer for config.json (keys in insertion order, two-space indent).
class JsonWriter {
 public:
  JsonWriter& field(const std::string& key, int64_t v);
  JsonWriter& field(const std::string& key, double v);
  JsonWriter& field(const std::string& key, bool v);
  JsonWriter& field(const std::string& key, const std::string& v);
  JsonWriter& field(const std::string& key, const char* v) { return field(key, std::string(v)); }
  JsonWriter& field(const std::string& key, const std::vector<int64_t>& v);
  JsonWriter& field(const std::string& key, const std::vector<std::string>& v);
  JsonWriter& field(const std::string& key, const std::vector<double>& v);
  JsonWriter& null_field(const std::string& key);
  JsonWriter& raw_field(const std::string& key, const std::string& json_text);
  std::string str() const;

 private:
  std::vector<std::pair<std::string, std::string>> items_;
};
std::string json_number(double v);  // shortest text that reads back as the same double

std::string read_text_file(const std::string& path);                  // ERR_IO when unreadable
void write_text_file(const std::string& path, const std::string& text);  // atomic (temp + rename)

// Finds the weights of a model folder named `base` (diffusers: diffusion_pytorch_model,
// transformers and ours: model): with `variant` empty, <base>.safetensors, its sharded
// .safetensors.index.json, then the fp16/bf16 variants; with a variant, only
// <base>.<variant>.safetensors[.index.json]. ERR_WEIGHTS listing what was looked for when nothing
// matches (ERR_IO when the folder itself is missing).
std::string find_weights(const std::string& dir, const std::string& base, const std::string& variant = "");

}  // namespace da::models
