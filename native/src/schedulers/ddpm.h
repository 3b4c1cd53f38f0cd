// DDPMScheduler (diffusers): ancestral sampling with fixed variances; also the training noise
// schedule (add_noise, get_velocity).
#pragma once
#include "schedulers/scheduler.h"

namespace da::schedulers {

struct DDPMConfig {
  ScheduleConfig schedule;                    // diffusers defaults: linear 1e-4..0.02, leading, offset 0
  std::string variance_type = "fixed_small";  // fixed_small | fixed_small_log | fixed_large
  bool clip_sample = true;
  double clip_sample_range = 1.0;
  static DDPMConfig from_json(const json::Value& config);
};

class DDPMScheduler : public Scheduler {
 public:
  explicit DDPMScheduler(DDPMConfig cfg);
  std::string class_name() const override { return "DDPMScheduler"; }
  std::unique_ptr<Scheduler> clone() const override { return std::make_unique<DDPMScheduler>(*this); }
  void set_timesteps(int64_t num_inference_steps) override;
  // Adds sqrt(variance) * noise for t > 0: options.variance_noise when given, else a draw from
  // options.generator (or the default generator). The draw is returned in StepOutput.variance_noise.
  StepOutput step(const at::Tensor& model_output, double timestep, const at::Tensor& sample,
                  const StepOptions& options = {}) override;
  const DDPMConfig& config() const { return dcfg_; }

 private:
  int64_t previous_timestep(int64_t t) const;
  DDPMConfig dcfg_;
};

}  // namespace da::schedulers
