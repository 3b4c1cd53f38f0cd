// AdamW (Loshchilov & Hutter), written out so its state is plain named tensors that round-trip
// through safetensors exactly (resume must be bit-identical). The update is torch.optim.AdamW's
// (foreach=False, amsgrad=False, maximize=False) op for op:
//   p *= 1 - lr*wd;  m = lerp(m, g, 1-b1);  v = b2*v + (1-b2)*g*g
//   p -= lr/(1-b1^t) * m / (sqrt(v)/sqrt(1-b2^t) + eps)
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "io/safetensors.h"
#include "train/params.h"

namespace da::train {

struct AdamWOptions {
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 1e-2;
};

class AdamW {
 public:
  AdamW(std::vector<NamedParam> params, AdamWOptions options);
  // One update with learning rate `lr` from the gradients in .grad. Parameters without a gradient
  // are left untouched (their moments too), as torch does.
  void step(double lr);
  int64_t step_count() const { return step_; }
  const std::vector<NamedParam>& params() const { return params_; }
  const AdamWOptions& options() const { return options_; }

  // "adamw.step" (int64 scalar), "adamw.exp_avg.<name>", "adamw.exp_avg_sq.<name>".
  io::NamedTensors state() const;
  // Restores state() output. ERR_WEIGHTS when a parameter's moments are missing or mis-shaped.
  void load_state(const std::map<std::string, at::Tensor>& tensors);

 private:
  std::vector<NamedParam> params_;
  AdamWOptions options_;
  // A contiguous view of `scratch_` shaped like `like` (grown to the largest parameter).
  at::Tensor scratch_for(const at::Tensor& like);

  std::vector<at::Tensor> exp_avg_, exp_avg_sq_;
  at::Tensor scratch_;  // the denominator buffer, reused parameter after parameter
  int64_t step_ = 0;
};

}  // namespace da::train
