#include "models/weights.h"
#include "models/config_reader.h"

#include <ATen/ATen.h>
#include <torch/nn/module.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "core/error.h"
#include "core/json.h"

namespace da::models {
namespace {

std::string shape_str(at::IntArrayRef s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + "]";
}

std::string list_some(const std::vector<std::string>& keys, size_t max = 8) {
  std::string out;
  for (size_t i = 0; i < keys.size() && i < max; ++i) out += (i ? ", " : "") + keys[i];
  if (keys.size() > max) out += ", ... (" + std::to_string(keys.size() - max) + " more)";
  return out;
}

bool starts_with(const std::string& s, const std::string& p) { return s.compare(0, p.size(), p) == 0; }

}  // namespace

std::shared_ptr<WeightSource> WeightSource::open(const std::string& path) {
  auto src = std::make_shared<WeightSource>();
  const std::string index_suffix = ".index.json";
  if (path.size() > index_suffix.size() && path.compare(path.size() - index_suffix.size(), index_suffix.size(), index_suffix) == 0) {
    json::Value root = json::parse(read_text_file(path), code::kWeights);
    const json::Value* map = root.find("weight_map");
    if (!map || !map->is_object()) fail(code::kWeights, "'" + path + "' has no weight_map object");
    std::filesystem::path dir = std::filesystem::path(path).parent_path();
    std::map<std::string, size_t> shard_index;
    std::map<std::string, std::string> expected;  // key -> shard file
    for (const auto& [key, shard] : map->as_object()) {
      const std::string& file = shard.as_string("weight_map." + key);
      if (file.find('/') != std::string::npos || file.find("..") != std::string::npos)
        fail(code::kWeights, "shard name '" + file + "' in '" + path + "' must be a plain file name");
      if (!shard_index.count(file)) {
        shard_index[file] = src->files_.size();
        src->files_.push_back(io::SafetensorsFile::open((dir / file).string()));
      }
      expected[key] = file;
    }
    for (const auto& [key, file] : expected) {
      size_t i = shard_index[file];
      if (!src->files_[i]->has(key)) fail(code::kWeights, "index '" + path + "' puts '" + key + "' in '" + file + "', which lacks it");
      src->owner_[key] = i;
    }
    // A key present in a shard but not in the index is still a weight: strictness catches surprises.
    for (size_t i = 0; i < src->files_.size(); ++i)
      for (const auto& e : src->files_[i]->entries())
        if (!src->owner_.count(e.name)) src->owner_[e.name] = i;
    return src;
  }
  src->files_.push_back(io::SafetensorsFile::open(path));
  for (const auto& e : src->files_[0]->entries()) src->owner_[e.name] = 0;
  return src;
}

std::vector<std::string> WeightSource::names() const {
  std::vector<std::string> out;
  out.reserve(owner_.size());
  for (const auto& [k, _] : owner_) out.push_back(k);
  return out;
}

bool WeightSource::has(const std::string& name) const { return owner_.count(name) != 0; }

const io::TensorEntry& WeightSource::entry(const std::string& name) const {
  auto it = owner_.find(name);
  if (it == owner_.end()) fail(code::kWeights, "weight '" + name + "' not found");
  return files_[it->second]->entry(name);
}

at::Tensor WeightSource::load(const std::string& name) const {
  auto it = owner_.find(name);
  if (it == owner_.end()) fail(code::kWeights, "weight '" + name + "' not found");
  return files_[it->second]->load(name);
}

std::vector<std::pair<std::string, at::Tensor>> state_dict(const torch::nn::Module& module) {
  std::vector<std::pair<std::string, at::Tensor>> out;
  for (const auto& item : module.named_parameters(true)) out.emplace_back(item.key(), item.value());
  for (const auto& item : module.named_buffers(true)) out.emplace_back(item.key(), item.value());
  return out;
}

namespace {
// Same shape except fewer channels in dim 1 (a conv weight [out, in, kh, kw] with more inputs).
bool grows_input(const std::vector<int64_t>& stored, at::IntArrayRef model) {
  if (stored.size() != model.size() || stored.size() < 2 || stored[1] >= model[1]) return false;
  for (size_t i = 0; i < stored.size(); ++i)
    if (i != 1 && stored[i] != model[i]) return false;
  return true;
}
}  // namespace

LoadReport load_weights(torch::nn::Module& module, const WeightSource& source, const LoadOptions& options) {
  LoadReport report;
  auto model = state_dict(module);
  std::map<std::string, at::Tensor> by_name;
  for (auto& [k, t] : model) by_name[k] = t;

  std::map<std::string, std::string> matched;  // model key -> checkpoint key
  for (const auto& ck : source.names()) {
    bool ignored = false;
    for (const auto& p : options.ignore_prefixes)
      if (starts_with(ck, p)) ignored = true;
    if (ignored) continue;
    std::string key = ck;
    if (!options.strip_prefix.empty()) {
      if (!starts_with(ck, options.strip_prefix)) {
        report.unexpected.push_back(ck);
        continue;
      }
      key = ck.substr(options.strip_prefix.size());
    }
    if (!by_name.count(key)) {
      report.unexpected.push_back(ck);
      continue;
    }
    matched[key] = ck;
  }
  for (const auto& [k, t] : model) {
    auto it = matched.find(k);
    if (it == matched.end()) {
      report.missing.push_back(k);
      continue;
    }
    const auto& e = source.entry(it->second);
    if (k == options.grow_input_channels && grows_input(e.shape, t.sizes())) continue;
    if (at::IntArrayRef(e.shape) != t.sizes())
      report.shape_mismatch.push_back(k + ": checkpoint " + shape_str(e.shape) + " vs model " + shape_str(t.sizes()));
  }
  if (options.strict && (!report.missing.empty() || !report.unexpected.empty() || !report.shape_mismatch.empty())) {
    std::string msg = "weights do not match the model";
    if (!report.missing.empty()) msg += "; missing " + std::to_string(report.missing.size()) + ": " + list_some(report.missing);
    if (!report.unexpected.empty()) msg += "; unexpected " + std::to_string(report.unexpected.size()) + ": " + list_some(report.unexpected);
    if (!report.shape_mismatch.empty()) msg += "; wrong shape " + std::to_string(report.shape_mismatch.size()) + ": " + list_some(report.shape_mismatch, 4);
    msg += ". Check that the config.json belongs to these weights.";
    fail(code::kWeights, msg);
  }

  torch::NoGradGuard no_grad;
  std::set<std::string> bad_shape;
  for (const auto& s : report.shape_mismatch) bad_shape.insert(s.substr(0, s.find(':')));
  for (auto& [k, t] : model) {
    const bool floating = at::isFloatingType(t.scalar_type());
    auto it = matched.find(k);
    if (it != matched.end() && !bad_shape.count(k)) {
      at::Tensor src = source.load(it->second);
      if (floating != at::isFloatingType(src.scalar_type()))
        fail(code::kWeights, "weight '" + it->second + "' has dtype " + c10::toString(src.scalar_type()) +
                                 ", the model expects " + c10::toString(t.scalar_type()));
      src = src.to(options.device, floating ? options.dtype : t.scalar_type());
      if (src.sizes() != t.sizes()) {  // a grown input (checked above): the new channels are zero
        at::Tensor grown = at::zeros(t.sizes(), src.options());
        grown.narrow(1, 0, src.size(1)).copy_(src);
        src = grown;
      }
      t.set_data(src);
      ++report.loaded;
    } else {
      t.set_data(t.to(options.device, floating ? options.dtype : t.scalar_type()));
    }
  }
  return report;
}

void save_weights(const torch::nn::Module& module, const std::string& path,
                  const std::map<std::string, std::string>& metadata) {
  io::NamedTensors tensors;
  for (auto& [k, t] : state_dict(module)) tensors.emplace_back(k, t);
  io::write_safetensors(path, tensors, metadata);
}

int64_t parameter_count(const torch::nn::Module& module) {
  int64_t n = 0;
  for (const auto& p : module.parameters(true)) n += p.numel();
  return n;
}

}  // namespace da::models
