// DDIMScheduler (diffusers): deterministic (eta = 0) or stochastic DDIM steps.
#pragma once
#include "schedulers/scheduler.h"

namespace da::schedulers {

struct DDIMConfig {
  ScheduleConfig schedule;  // diffusers defaults: linear 1e-4..0.02, leading, offset 0
  bool clip_sample = true;
  double clip_sample_range = 1.0;
  bool set_alpha_to_one = true;
  static DDIMConfig from_json(const json::Value& config);
};

class DDIMScheduler : public Scheduler {
 public:
  explicit DDIMScheduler(DDIMConfig cfg);
  std::string class_name() const override { return "DDIMScheduler"; }
  std::unique_ptr<Scheduler> clone() const override { return std::make_unique<DDIMScheduler>(*this); }
  void set_timesteps(int64_t num_inference_steps) override;
  // options.eta > 0 adds eta * sigma_t * noise (options.variance_noise, or a draw from options.generator).
  StepOutput step(const at::Tensor& model_output, double timestep, const at::Tensor& sample,
                  const StepOptions& options = {}) override;
  // alphas_cumprod "before" step 0: 1 with set_alpha_to_one, else alphas_cumprod[0].
  float final_alpha_cumprod() const { return final_ac_; }
  const DDIMConfig& config() const { return dcfg_; }

 private:
  DDIMConfig dcfg_;
  float final_ac_;
};

}  // namespace da::schedulers
