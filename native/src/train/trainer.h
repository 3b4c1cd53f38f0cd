// One optimizer step over k >= 1 micro-batches, the same for every model:
//   zero grads -> for each micro-batch: forward, loss / k, backward (gradients accumulate)
//   -> [gradient all-reduce hook, for data parallelism] -> global-norm clip -> AdamW(lr)
//   -> EMA update.
// A step whose gradient norm is not finite makes no update (reported as skipped).
// The trainer also owns the CPU generator every random draw of the step comes from, so its state
// (with the optimizer moments and the EMA shadows) makes a resume bit-identical on the CPU.
#pragma once
#include <ATen/core/Generator.h>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "train/adamw.h"
#include "train/ema.h"
#include "train/params.h"

namespace da::train {

struct TrainerOptions {
  AdamWOptions adamw;
  bool ema = false;
  uint64_t seed = 0;
};

struct StepOptions {
  double lr = 1e-4;
  double max_grad_norm = 1.0;  // <= 0: no clipping (the norm is still reported)
  double ema_decay = 0.9999;   // used when the trainer has EMA
};

struct StepResult {
  std::map<std::string, double> terms;  // each loss term averaged over the micro-batches
  double grad_norm = 0;
  double lr = 0;
  bool skipped = false;
  int64_t step = 0;  // optimizer steps taken so far (after this one)
};

// A module whose trainable parameters one trainer optimizes; its parameter names get
// `prefix + "."` (empty prefix: the module's own state_dict names).
struct TrainedModule {
  std::string prefix;
  const torch::nn::Module* module;
};

class Trainer {
 public:
  Trainer(const torch::nn::Module& model, TrainerOptions options) : Trainer({TrainedModule{"", &model}}, std::move(options)) {}
  // Several modules trained together (the UNet and the glyph projection); names must not collide.
  Trainer(const std::vector<TrainedModule>& modules, TrainerOptions options);

  // `micro(i)` runs micro-batch i and returns named scalar terms, "loss" among them (attached).
  StepResult step(int64_t micro_batches, const std::function<std::map<std::string, at::Tensor>(int64_t)>& micro,
                  const StepOptions& options);

  at::Generator& generator() { return generator_; }
  const std::vector<NamedParam>& params() const { return params_; }
  int64_t step_count() const { return optimizer_.step_count(); }
  bool has_ema() const { return ema_.has_value(); }
  const Ema* ema() const { return ema_ ? &*ema_ : nullptr; }

  // Called between accumulation and clipping (data-parallel gradient averaging).
  std::function<void(const std::vector<NamedParam>&)> gradient_hook;

  // The generator's state (a uint8 tensor); set_generator_state restores one (ERR_WEIGHTS when it
  // is not a CPU generator state).
  at::Tensor generator_state() const;
  void set_generator_state(const at::Tensor& state);

  // Optimizer moments, step, EMA shadows and the generator state as one safetensors file.
  void save_state(const std::string& path) const;
  void load_state(const std::string& path);

 private:
  std::vector<NamedParam> params_;
  AdamW optimizer_;
  std::optional<Ema> ema_;
  mutable at::Generator generator_;  // mutable: reading its state takes its mutex
};

}  // namespace da::train
