// Loading and saving module weights by their reference key names (diffusers / transformers /
// lpips state_dict keys), strictly: every key present, no extra key, every shape equal.
#pragma once
#include <torch/nn/module.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "io/safetensors.h"

namespace da::models {

// One or more safetensors files seen as one set of named tensors (a single file, or the shards
// listed by a `*.safetensors.index.json`).
class WeightSource {
 public:
  // `path` is a .safetensors file or a .safetensors.index.json file. ERR_IO / ERR_SAFETENSORS /
  // ERR_WEIGHTS on problems (a shard missing, a key listed twice).
  static std::shared_ptr<WeightSource> open(const std::string& path);
  std::vector<std::string> names() const;
  bool has(const std::string& name) const;
  const io::TensorEntry& entry(const std::string& name) const;
  at::Tensor load(const std::string& name) const;

 private:
  std::vector<std::shared_ptr<io::SafetensorsFile>> files_;
  std::map<std::string, size_t> owner_;  // key -> index in files_
};

struct LoadOptions {
  at::ScalarType dtype = at::kFloat;    // floating tensors are cast to this; integer buffers kept
  c10::Device device = c10::Device(c10::kCPU);
  bool strict = true;
  // Prefix stripped from checkpoint keys before matching (e.g. "encoder."). Keys that do not start
  // with it count as unexpected unless they start with one of `ignore_prefixes`.
  std::string strip_prefix;
  std::vector<std::string> ignore_prefixes;  // e.g. {"decoder."} for a full TrOCR checkpoint
  // A weight (e.g. "conv_in.weight") that may have fewer input channels (dim 1) than the model's:
  // the stored channels are loaded first and the rest are zero, so the extra inputs change nothing
  // until trained (how SD2-inpainting grew conv_in from 4 to 9 channels).
  std::string grow_input_channels;
};

struct LoadReport {
  std::vector<std::string> missing;
  std::vector<std::string> unexpected;
  std::vector<std::string> shape_mismatch;  // "key: checkpoint [..] vs model [..]"
  size_t loaded = 0;
};

// Named parameters and persistent buffers of a module, in registration order, with the same dotted
// names a PyTorch state_dict uses.
std::vector<std::pair<std::string, at::Tensor>> state_dict(const torch::nn::Module& module);

// Copies weights into the module's parameters/buffers (moving the module to options.device and
// floating tensors to options.dtype). With strict, any missing/unexpected/mismatched key throws
// ERR_WEIGHTS naming the keys (the first few of each kind and the counts).
LoadReport load_weights(torch::nn::Module& module, const WeightSource& source, const LoadOptions& options);

// Writes the module's state_dict as safetensors (atomic).
void save_weights(const torch::nn::Module& module, const std::string& path,
                  const std::map<std::string, std::string>& metadata = {});

// Total number of parameter elements.
int64_t parameter_count(const torch::nn::Module& module);

}  // namespace da::models
