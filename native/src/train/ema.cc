#include "train/ema.h"

#include <ATen/ATen.h>
#include <torch/autograd.h>

#include "core/error.h"
#include "models/weights.h"

namespace da::train {

Ema::Ema(const std::vector<NamedParam>& params) {
  torch::NoGradGuard ng;
  for (const auto& p : params) {
    names_.push_back(p.name);
    shadow_.push_back(p.param.detach().clone());
  }
}

void Ema::update(const std::vector<NamedParam>& params, double decay) {
  if (!(decay >= 0 && decay <= 1)) fail(code::kArgument, "EMA decay must be in [0, 1]");
  if (params.size() != shadow_.size()) fail(code::kInternal, "EMA tracks a different parameter set");
  torch::NoGradGuard ng;
  for (size_t i = 0; i < shadow_.size(); ++i) shadow_[i].lerp_(params[i].param.detach(), 1.0 - decay);
}

io::NamedTensors Ema::state() const {
  io::NamedTensors out;
  for (size_t i = 0; i < shadow_.size(); ++i) out.emplace_back("ema." + names_[i], shadow_[i]);
  return out;
}

void Ema::load_state(const std::map<std::string, at::Tensor>& tensors) {
  torch::NoGradGuard ng;
  for (size_t i = 0; i < shadow_.size(); ++i) {
    auto it = tensors.find("ema." + names_[i]);
    if (it == tensors.end()) fail(code::kWeights, "trainer state has no EMA weights for " + names_[i]);
    if (it->second.sizes() != shadow_[i].sizes()) fail(code::kWeights, "EMA weights for " + names_[i] + " have another shape");
    shadow_[i].copy_(it->second);
  }
}

io::NamedTensors Ema::averaged_state_dict(const torch::nn::Module& module, const std::string& prefix) const {
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < names_.size(); ++i) index[names_[i]] = i;
  io::NamedTensors out;
  for (auto& [k, t] : models::state_dict(module)) {
    auto it = index.find(prefix.empty() ? k : prefix + "." + k);
    out.emplace_back(k, it == index.end() ? t : shadow_[it->second]);
  }
  return out;
}

}  // namespace da::train
