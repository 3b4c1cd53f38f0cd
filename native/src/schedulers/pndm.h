// PNDMScheduler (diffusers) with skip_prk_steps (the PLMS linear multistep method, as Stable
// Diffusion ships it). The Runge-Kutta warm-up (skip_prk_steps false) is not implemented.
#pragma once
#include "schedulers/scheduler.h"

namespace da::schedulers {

struct PNDMConfig {
  ScheduleConfig schedule;  // diffusers defaults: linear 1e-4..0.02, leading, offset 0
  bool set_alpha_to_one = false;
  static PNDMConfig from_json(const json::Value& config);
};

class PNDMScheduler : public Scheduler {
 public:
  explicit PNDMScheduler(PNDMConfig cfg);
  std::string class_name() const override { return "PNDMScheduler"; }
  std::unique_ptr<Scheduler> clone() const override { return std::make_unique<PNDMScheduler>(*this); }
  // n steps give n+1 timesteps (the second is repeated: PLMS warms up with a 2-evaluation step).
  void set_timesteps(int64_t num_inference_steps) override;
  // Steps in schedule order on one object; pred_original_sample is undefined (as in diffusers).
  StepOutput step(const at::Tensor& model_output, double timestep, const at::Tensor& sample,
                  const StepOptions& options = {}) override;
  at::Tensor get_velocity(const at::Tensor& sample, const at::Tensor& noise, const at::Tensor& timesteps) override;
  float final_alpha_cumprod() const { return final_ac_; }

 private:
  at::Tensor prev_sample(const at::Tensor& sample, int64_t t, int64_t prev_t, const at::Tensor& model_output) const;
  PNDMConfig pcfg_;
  float final_ac_;
  std::vector<at::Tensor> ets_;  // past model outputs, at most 4 used
  int64_t counter_ = 0;
  at::Tensor cur_sample_;
};

}  // namespace da::schedulers
