#include "train/trainer.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <torch/autograd.h>

#include <cmath>
#include <mutex>
#include <set>

#include "core/error.h"
#include "io/safetensors.h"
#include "train/clip.h"

namespace da::train {

namespace {

std::vector<NamedParam> collect(const std::vector<TrainedModule>& modules) {
  std::vector<NamedParam> all;
  std::set<std::string> names;
  for (const auto& m : modules) {
    for (auto& p : trainable_parameters(*m.module)) {
      std::string name = m.prefix.empty() ? p.name : m.prefix + "." + p.name;
      if (!names.insert(name).second) fail(code::kInternal, "two trained parameters are both named " + name);
      all.push_back({name, p.param});
    }
  }
  return all;
}

}  // namespace

Trainer::Trainer(const std::vector<TrainedModule>& modules, TrainerOptions options)
    : params_(collect(modules)),
      optimizer_(params_, options.adamw),
      generator_(at::detail::createCPUGenerator(options.seed)) {
  if (options.ema) ema_.emplace(params_);
}

StepResult Trainer::step(int64_t k, const std::function<std::map<std::string, at::Tensor>(int64_t)>& micro,
                         const StepOptions& o) {
  if (k < 1) fail(code::kConfig, "gradient accumulation needs at least 1 micro-batch per step");
  if (!std::isfinite(o.lr) || o.lr < 0) fail(code::kArgument, "lr must be finite and >= 0");
  zero_grads(params_);
  StepResult r;
  std::map<std::string, at::Tensor> sums;
  for (int64_t i = 0; i < k; ++i) {
    auto terms = micro(i);
    auto it = terms.find("loss");
    if (it == terms.end()) fail(code::kInternal, "a micro-batch returned no loss");
    // Each micro-batch's mean loss / k: the accumulated gradient is the gradient of the mean over
    // the k micro-batches, equal to one batch k times as large (for equal micro-batch sizes).
    (it->second / static_cast<double>(k)).backward();
    for (auto& [name, v] : terms) {
      at::Tensor d = v.detach().to(at::kDouble).cpu();
      sums[name] = sums.count(name) ? sums[name] + d : d;
    }
  }
  for (auto& [name, v] : sums) r.terms[name] = v.item<double>() / static_cast<double>(k);
  if (gradient_hook) gradient_hook(params_);
  r.grad_norm = clip_grad_norm(params_, o.max_grad_norm);
  r.lr = o.lr;
  if (!std::isfinite(r.grad_norm)) {
    r.skipped = true;
  } else {
    optimizer_.step(o.lr);
    if (ema_) ema_->update(params_, o.ema_decay);
  }
  zero_grads(params_);
  r.step = optimizer_.step_count();
  return r;
}

at::Tensor Trainer::generator_state() const {
  std::lock_guard<std::mutex> lock(generator_.mutex());
  return generator_.get_state();
}

void Trainer::set_generator_state(const at::Tensor& state) {
  if (!state.defined() || state.scalar_type() != at::kByte || state.dim() != 1)
    fail(code::kWeights, "a generator state is a 1-D uint8 tensor");
  std::lock_guard<std::mutex> lock(generator_.mutex());
  try {
    generator_.set_state(state.cpu().contiguous());
  } catch (const c10::Error& e) {
    fail(code::kWeights, std::string("not a CPU generator state: ") + e.what_without_backtrace());
  }
}

void Trainer::save_state(const std::string& path) const {
  io::NamedTensors all = optimizer_.state();
  if (ema_)
    for (auto& t : ema_->state()) all.push_back(t);
  all.emplace_back("rng.cpu", generator_state());
  io::write_safetensors(path, all, {{"format", "doc-anon-torch/trainer-state"}, {"version", "1"}});
}

void Trainer::load_state(const std::string& path) {
  auto file = io::SafetensorsFile::open(path);
  std::map<std::string, at::Tensor> tensors;
  for (const auto& e : file->entries()) tensors[e.name] = file->load(e.name);
  optimizer_.load_state(tensors);
  if (ema_) ema_->load_state(tensors);
  auto it = tensors.find("rng.cpu");
  if (it == tensors.end()) fail(code::kWeights, "trainer state has no rng.cpu");
  set_generator_state(it->second);
}

}  // namespace da::train
