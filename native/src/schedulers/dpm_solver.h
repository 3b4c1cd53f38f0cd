// DPMSolverMultistepScheduler (diffusers) with algorithm_type dpmsolver++ (data prediction),
// solver_order 1 or 2 (DPM-Solver++(2M)), midpoint or heun second-order update.
#pragma once
#include "schedulers/scheduler.h"

namespace da::schedulers {

struct DPMSolverConfig {
  ScheduleConfig schedule;  // diffusers defaults: linear 1e-4..0.02, linspace, offset 0
  int64_t solver_order = 2;
  std::string solver_type = "midpoint";  // midpoint | heun
  bool lower_order_final = true;
  bool euler_at_final = false;
  std::string final_sigmas_type = "zero";  // zero | sigma_min
  double lambda_min_clipped = -INFINITY;  // null in a config also means -inf
  static DPMSolverConfig from_json(const json::Value& config);
};

class DPMSolverMultistepScheduler : public Scheduler {
 public:
  explicit DPMSolverMultistepScheduler(DPMSolverConfig cfg);
  std::string class_name() const override { return "DPMSolverMultistepScheduler"; }
  std::unique_ptr<Scheduler> clone() const override { return std::make_unique<DPMSolverMultistepScheduler>(*this); }
  // Also resets the multistep history.
  void set_timesteps(int64_t num_inference_steps) override;
  // Steps must be taken in schedule order on one object (it keeps the previous model output).
  // The update runs in float32 whatever the sample dtype; pred_original_sample is not returned
  // by diffusers and is left undefined here too.
  StepOutput step(const at::Tensor& model_output, double timestep, const at::Tensor& sample,
                  const StepOptions& options = {}) override;
  at::Tensor add_noise(const at::Tensor& original, const at::Tensor& noise, const at::Tensor& timesteps) override;
  at::Tensor get_velocity(const at::Tensor& sample, const at::Tensor& noise, const at::Tensor& timesteps) override;
  void set_begin_index(int64_t index) { begin_index_ = index; }
  int64_t step_index() const { return step_index_; }

 private:
  int64_t index_for_timestep(double t) const;
  DPMSolverConfig pcfg_;
  std::vector<at::Tensor> model_outputs_;  // last solver_order converted outputs, oldest first
  int64_t lower_order_nums_ = 0;
  int64_t step_index_ = -1;
  int64_t begin_index_ = -1;
};

}  // namespace da::schedulers
