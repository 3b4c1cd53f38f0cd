// EulerDiscreteScheduler (diffusers), k-diffusion's Euler method on discrete sigmas. s_churn = 0
// (no noise added), linear sigma interpolation, discrete timesteps.
#pragma once
#include "schedulers/scheduler.h"

namespace da::schedulers {

struct EulerConfig {
  ScheduleConfig schedule;            // diffusers defaults: linear 1e-4..0.02, linspace, offset 0
  std::string final_sigmas_type = "zero";  // zero | sigma_min
  static EulerConfig from_json(const json::Value& config);
};

class EulerDiscreteScheduler : public Scheduler {
 public:
  explicit EulerDiscreteScheduler(EulerConfig cfg);
  std::string class_name() const override { return "EulerDiscreteScheduler"; }
  std::unique_ptr<Scheduler> clone() const override { return std::make_unique<EulerDiscreteScheduler>(*this); }
  void set_timesteps(int64_t num_inference_steps) override;
  at::Tensor timesteps_tensor() const override;  // float32
  double init_noise_sigma() const override;
  at::Tensor scale_model_input(const at::Tensor& sample, double timestep) override;
  StepOutput step(const at::Tensor& model_output, double timestep, const at::Tensor& sample,
                  const StepOptions& options = {}) override;
  // Only timesteps of the current schedule (diffusers looks their sigma up by index).
  at::Tensor add_noise(const at::Tensor& original, const at::Tensor& noise, const at::Tensor& timesteps) override;
  at::Tensor get_velocity(const at::Tensor& sample, const at::Tensor& noise, const at::Tensor& timesteps) override;
  // Start index for img2img-style partial schedules (diffusers' set_begin_index).
  void set_begin_index(int64_t index) { begin_index_ = index; }
  int64_t step_index() const { return step_index_; }

 private:
  int64_t index_for_timestep(double t) const;
  void init_step_index(double t);
  std::vector<int64_t> indices_for(const at::Tensor& timesteps) const;
  EulerConfig ecfg_;
  int64_t step_index_ = -1;
  int64_t begin_index_ = -1;
};

}  // namespace da::schedulers
