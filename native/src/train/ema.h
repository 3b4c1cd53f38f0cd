// Exponential moving average of the trainable weights (float32 shadows). The decay per update is
// chosen by the caller (TypeScript computes warm-up schedules); this only applies it:
//   shadow = decay * shadow + (1 - decay) * param
#pragma once
#include <map>
#include <string>

#include "io/safetensors.h"
#include "train/params.h"

namespace da::train {

class Ema {
 public:
  explicit Ema(const std::vector<NamedParam>& params);
  void update(const std::vector<NamedParam>& params, double decay);
  // "ema.<name>" for each tracked parameter.
  io::NamedTensors state() const;
  void load_state(const std::map<std::string, at::Tensor>& tensors);
  // The module's full state_dict with the tracked parameters replaced by their shadows (the
  // diffusers-layout EMA model). `prefix` is the module's TrainedModule prefix ("" for the main model).
  io::NamedTensors averaged_state_dict(const torch::nn::Module& module, const std::string& prefix = "") const;

 private:
  std::vector<std::string> names_;
  std::vector<at::Tensor> shadow_;
};

}  // namespace da::train
