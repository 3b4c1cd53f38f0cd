#include "train/adamw.h"

#include <ATen/ATen.h>
#include <torch/autograd.h>

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace da::train {

AdamW::AdamW(std::vector<NamedParam> params, AdamWOptions options) : params_(std::move(params)), options_(options) {
  if (!(options_.beta1 >= 0 && options_.beta1 < 1) || !(options_.beta2 >= 0 && options_.beta2 < 1))
    fail(code::kArgument, "AdamW betas must be in [0, 1)");
  if (!(options_.eps > 0)) fail(code::kArgument, "AdamW eps must be > 0");
  if (!(options_.weight_decay >= 0)) fail(code::kArgument, "AdamW weight_decay must be >= 0");
  for (const auto& p : params_) {
    exp_avg_.push_back(at::zeros_like(p.param, at::MemoryFormat::Preserve));
    exp_avg_sq_.push_back(at::zeros_like(p.param, at::MemoryFormat::Preserve));
  }
}

void AdamW::step(double lr) {
  if (!std::isfinite(lr) || lr < 0) fail(code::kArgument, "learning rate must be finite and >= 0");
  torch::NoGradGuard ng;
  ++step_;
  // Python floats in torch: bias corrections are computed in double.
  const double bc1 = 1.0 - std::pow(options_.beta1, static_cast<double>(step_));
  const double bc2 = 1.0 - std::pow(options_.beta2, static_cast<double>(step_));
  const double step_size = lr / bc1;
  const double bc2_sqrt = std::sqrt(bc2);
  for (size_t i = 0; i < params_.size(); ++i) {
    at::Tensor p = params_[i].param;
    const at::Tensor& g = p.grad();
    if (!g.defined()) continue;
    p.mul_(1.0 - lr * options_.weight_decay);
    exp_avg_[i].lerp_(g, 1.0 - options_.beta1);
    exp_avg_sq_[i].mul_(options_.beta2).addcmul_(g, g, 1.0 - options_.beta2);
    // denom = sqrt(v) / sqrt(bc2) + eps, the same three element-wise ops as torch, written into a
    // reused buffer: fresh temporaries (2x the model per step) cost page faults and page zeroing
    // that showed up as a large share of an SD2 step's time.
    at::Tensor denom = scratch_for(exp_avg_sq_[i]);
    at::sqrt_out(denom, exp_avg_sq_[i]);
    denom.div_(bc2_sqrt).add_(options_.eps);
    p.addcdiv_(exp_avg_[i], denom, -step_size);
  }
}

at::Tensor AdamW::scratch_for(const at::Tensor& like) {
  const int64_t n = like.numel();
  if (!scratch_.defined() || scratch_.numel() < n || scratch_.device() != like.device() || scratch_.scalar_type() != like.scalar_type())
    scratch_ = at::empty({std::max<int64_t>(n, scratch_.defined() ? scratch_.numel() : 0)}, like.options().memory_format(at::MemoryFormat::Contiguous));
  return scratch_.narrow(0, 0, n).view(like.sizes());
}

io::NamedTensors AdamW::state() const {
  io::NamedTensors out;
  out.emplace_back("adamw.step", at::scalar_tensor(step_, at::kLong));
  for (size_t i = 0; i < params_.size(); ++i) {
    out.emplace_back("adamw.exp_avg." + params_[i].name, exp_avg_[i]);
    out.emplace_back("adamw.exp_avg_sq." + params_[i].name, exp_avg_sq_[i]);
  }
  return out;
}

void AdamW::load_state(const std::map<std::string, at::Tensor>& tensors) {
  auto get = [&](const std::string& key, const at::Tensor& like) -> at::Tensor {
    auto it = tensors.find(key);
    if (it == tensors.end()) fail(code::kWeights, "optimizer state has no " + key + " (was it saved for another model or trainable set?)");
    if (like.defined() && it->second.sizes() != like.sizes())
      fail(code::kWeights, "optimizer state " + key + " has shape " + c10::str(it->second.sizes()) + ", the parameter " + c10::str(like.sizes()));
    return it->second;
  };
  torch::NoGradGuard ng;
  step_ = get("adamw.step", at::Tensor()).item<int64_t>();
  for (size_t i = 0; i < params_.size(); ++i) {
    exp_avg_[i].copy_(get("adamw.exp_avg." + params_[i].name, exp_avg_[i]));
    exp_avg_sq_[i].copy_(get("adamw.exp_avg_sq." + params_[i].name, exp_avg_sq_[i]));
  }
}

}  // namespace da::train
