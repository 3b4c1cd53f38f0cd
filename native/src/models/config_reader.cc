#include "models/config_reader.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unistd.h>

#include "core/error.h"

namespace da::models {

ConfigReader::ConfigReader(const json::Value& root, std::string model) : root_(root), model_(std::move(model)) {
  if (!root.is_object()) da::fail(code::kConfig, model_ + " config must be a JSON object");
}

void ConfigReader::fail(const std::string& key, const std::string& why) const {
  da::fail(code::kConfig, model_ + " config field '" + key + "': " + why);
}

void ConfigReader::at_most(const std::string& key, int64_t value, int64_t max) const {
  if (value > max)
    fail(key, "must be at most " + std::to_string(max) + " (got " + std::to_string(value) +
                  "): far beyond any model this library runs, probably a typo");
}

void ConfigReader::at_most(const std::string& key, const std::vector<int64_t>& values, int64_t max) const {
  for (int64_t v : values) at_most(key, v, max);
}

const json::Value* ConfigReader::get(const std::string& key) {
  seen_.insert(key);
  return root_.find(key);
}

bool ConfigReader::is_null_or_absent(const std::string& key) {
  const json::Value* v = get(key);
  return !v || v->is_null();
}

int64_t ConfigReader::get_int(const std::string& key, int64_t def) {
  const json::Value* v = get(key);
  if (!v) return def;
  if (!v->is_number()) fail(key, "expected an integer");
  return v->as_int(model_ + "." + key);
}

double ConfigReader::get_double(const std::string& key, double def) {
  const json::Value* v = get(key);
  if (!v) return def;
  if (!v->is_number()) fail(key, "expected a number");
  return v->as_double(model_ + "." + key);
}

bool ConfigReader::get_bool(const std::string& key, bool def) {
  const json::Value* v = get(key);
  if (!v) return def;
  if (!v->is_bool()) fail(key, "expected true or false");
  return v->as_bool();
}

std::string ConfigReader::get_string(const std::string& key, const std::string& def) {
  const json::Value* v = get(key);
  if (!v) return def;
  if (!v->is_string()) fail(key, "expected a string");
  return v->as_string();
}

std::vector<int64_t> ConfigReader::get_int_list(const std::string& key, const std::vector<int64_t>& def) {
  const json::Value* v = get(key);
  if (!v) return def;
  if (!v->is_array()) fail(key, "expected a list of integers");
  std::vector<int64_t> out;
  for (const auto& e : v->as_array()) {
    if (!e.is_number()) fail(key, "expected a list of integers");
    out.push_back(e.as_int(model_ + "." + key));
  }
  return out;
}

std::vector<std::string> ConfigReader::get_string_list(const std::string& key, const std::vector<std::string>& def) {
  const json::Value* v = get(key);
  if (!v) return def;
  if (!v->is_array()) fail(key, "expected a list of strings");
  std::vector<std::string> out;
  for (const auto& e : v->as_array()) {
    if (!e.is_string()) fail(key, "expected a list of strings");
    out.push_back(e.as_string());
  }
  return out;
}

std::vector<double> ConfigReader::get_double_list_or_empty(const std::string& key) {
  const json::Value* v = get(key);
  if (!v || v->is_null()) return {};
  if (!v->is_array()) fail(key, "expected null or a list of numbers");
  std::vector<double> out;
  for (const auto& e : v->as_array()) {
    if (!e.is_number()) fail(key, "expected a list of numbers");
    out.push_back(e.as_double());
  }
  return out;
}

std::vector<int64_t> ConfigReader::get_int_or_list(const std::string& key, int64_t def, size_t n) {
  const json::Value* v = get(key);
  if (!v) return std::vector<int64_t>(n, def);
  if (v->is_number()) return std::vector<int64_t>(n, v->as_int(model_ + "." + key));
  if (!v->is_array()) fail(key, "expected an integer or a list of integers");
  std::vector<int64_t> out;
  for (const auto& e : v->as_array()) {
    if (!e.is_number()) fail(key, "expected an integer or a list of integers (nested lists are not supported)");
    out.push_back(e.as_int(model_ + "." + key));
  }
  if (out.size() != n)
    fail(key, "has " + std::to_string(out.size()) + " entries, one per block (" + std::to_string(n) + ") is required");
  return out;
}

std::vector<bool> ConfigReader::get_bool_or_list(const std::string& key, bool def, size_t n) {
  const json::Value* v = get(key);
  if (!v) return std::vector<bool>(n, def);
  if (v->is_bool()) return std::vector<bool>(n, v->as_bool());
  if (!v->is_array()) fail(key, "expected a boolean or a list of booleans");
  std::vector<bool> out;
  for (const auto& e : v->as_array()) {
    if (!e.is_bool()) fail(key, "expected a boolean or a list of booleans");
    out.push_back(e.as_bool());
  }
  if (out.size() != n)
    fail(key, "has " + std::to_string(out.size()) + " entries, one per block (" + std::to_string(n) + ") is required");
  return out;
}

void ConfigReader::require_null(const std::string& key) {
  const json::Value* v = get(key);
  if (v && !v->is_null()) fail(key, "only null is supported by this implementation");
}

void ConfigReader::require_string(const std::string& key, const std::string& allowed) {
  const json::Value* v = get(key);
  if (!v) return;
  if (!v->is_string() || v->as_string() != allowed) fail(key, "only \"" + allowed + "\" is supported by this implementation");
}

void ConfigReader::require_bool(const std::string& key, bool allowed) {
  const json::Value* v = get(key);
  if (!v) return;
  if (!v->is_bool() || v->as_bool() != allowed)
    fail(key, std::string("only ") + (allowed ? "true" : "false") + " is supported by this implementation");
}

void ConfigReader::finish() const {
  std::string unknown;
  for (const auto& [k, _] : root_.as_object()) {
    if (!k.empty() && k[0] == '_') continue;
    if (!seen_.count(k)) unknown += (unknown.empty() ? "" : ", ") + k;
  }
  if (!unknown.empty())
    da::fail(code::kConfig, model_ + " config has fields this implementation does not know: " + unknown);
}

std::string json_number(double v) {
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof(buf), v);
  std::string s(buf, res.ptr);
  // Keep floats recognisable as floats (Python writes 1.0, not 1).
  if (s.find_first_of(".eEn") == std::string::npos) s += ".0";
  return s;
}

JsonWriter& JsonWriter::field(const std::string& key, int64_t v) {
  items_.emplace_back(key, std::to_string(v));
  return *this;
}
JsonWriter& JsonWriter::field(const std::string& key, double v) {
  items_.emplace_back(key, json_number(v));
  return *this;
}
JsonWriter& JsonWriter::field(const std::string& key, bool v) {
  items_.emplace_back(key, v ? "true" : "false");
  return *this;
}
JsonWriter& JsonWriter::field(const std::string& key, const std::string& v) {
  items_.emplace_back(key, json::quote(v));
  return *this;
}
JsonWriter& JsonWriter::field(const std::string& key, const std::vector<int64_t>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
  items_.emplace_back(key, s + "]");
  return *this;
}
JsonWriter& JsonWriter::field(const std::string& key, const std::vector<std::string>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + json::quote(v[i]);
  items_.emplace_back(key, s + "]");
  return *this;
}
JsonWriter& JsonWriter::field(const std::string& key, const std::vector<double>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + json_number(v[i]);
  items_.emplace_back(key, s + "]");
  return *this;
}
JsonWriter& JsonWriter::null_field(const std::string& key) {
  items_.emplace_back(key, "null");
  return *this;
}
JsonWriter& JsonWriter::raw_field(const std::string& key, const std::string& json_text) {
  items_.emplace_back(key, json_text);
  return *this;
}
std::string JsonWriter::str() const {
  std::string s = "{\n";
  for (size_t i = 0; i < items_.size(); ++i)
    s += "  " + json::quote(items_[i].first) + ": " + items_[i].second + (i + 1 < items_.size() ? ",\n" : "\n");
  return s + "}\n";
}

std::string read_text_file(const std::string& path) {
  // Regular files only, checked before any read (O_NONBLOCK: a FIFO would block the open), and
  // bounded: configs and weight indexes are small.
  constexpr off_t kMaxBytes = 64 << 20;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) da::fail(code::kIo, "cannot read '" + path + "': " + std::strerror(errno));
  std::string out;
  try {
    struct stat st {};
    if (fstat(fd, &st) != 0) da::fail(code::kIo, "cannot stat '" + path + "': " + std::strerror(errno));
    if (!S_ISREG(st.st_mode)) da::fail(code::kIo, "'" + path + "' is not a regular file");
    if (st.st_size > kMaxBytes) da::fail(code::kIo, "'" + path + "' is " + std::to_string(st.st_size) + " bytes, over the 64 MiB limit for a text file");
    char buf[65536];
    for (;;) {
      const ssize_t r = ::read(fd, buf, sizeof buf);
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) da::fail(code::kIo, "cannot read '" + path + "': " + std::strerror(errno));
      if (r == 0) break;
      out.append(buf, static_cast<size_t>(r));
      if (static_cast<off_t>(out.size()) > kMaxBytes) da::fail(code::kIo, "'" + path + "' grew past the 64 MiB limit while it was read");
    }
  } catch (...) {
    ::close(fd);
    throw;
  }
  ::close(fd);
  return out;
}

void write_text_file(const std::string& path, const std::string& text) {
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) da::fail(code::kIo, "cannot write '" + tmp + "'");
    out << text;
    out.flush();
    if (!out) da::fail(code::kIo, "cannot write '" + tmp + "'");
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::filesystem::remove(tmp);
    da::fail(code::kIo, "cannot rename '" + tmp + "' to '" + path + "': " + ec.message());
  }
}

std::string find_weights(const std::string& dir, const std::string& base, const std::string& variant) {
  namespace fs = std::filesystem;
  std::vector<std::string> candidates;
  auto add = [&](const std::string& v) {
    std::string stem = v.empty() ? base : base + "." + v;
    candidates.push_back(stem + ".safetensors");
    candidates.push_back(stem + ".safetensors.index.json");
  };
  if (!variant.empty()) {
    if (variant.find('/') != std::string::npos || variant.find("..") != std::string::npos)
      da::fail(code::kArgument, "weight variant '" + variant + "' must be a plain name such as fp16");
    add(variant);
  } else {
    add("");
    add("fp16");
    add("bf16");
  }
  for (const auto& c : candidates) {
    fs::path p = fs::path(dir) / c;
    if (fs::is_regular_file(p)) return p.string();
  }
  std::string tried;
  for (const auto& c : candidates) tried += (tried.empty() ? "" : ", ") + c;
  if (!fs::is_directory(dir)) da::fail(code::kIo, "model folder '" + dir + "' does not exist");
  da::fail(code::kWeights, "no weights in '" + dir + "' (looked for " + tried +
                                "; .bin/.ckpt pickles are not supported: convert them to safetensors)");
}

}  // namespace da::models
