#include "schedulers/pndm.h"

#include <ATen/ATen.h>

#include <cmath>

#include "core/error.h"
#include "models/config_reader.h"

namespace da::schedulers {

using detail::f32;

PNDMConfig PNDMConfig::from_json(const json::Value& config) {
  models::ConfigReader r(config, "PNDMScheduler");
  PNDMConfig c;
  c.schedule.read(r, {Prediction::kEpsilon, Prediction::kVPrediction});
  c.set_alpha_to_one = r.get_bool("set_alpha_to_one", c.set_alpha_to_one);
  if (!r.get_bool("skip_prk_steps", false))
    r.fail("skip_prk_steps", "false (the Runge-Kutta warm-up) is not implemented; use true as Stable Diffusion does");
  return c;
}

PNDMScheduler::PNDMScheduler(PNDMConfig cfg) : Scheduler(cfg.schedule), pcfg_(std::move(cfg)) {
  final_ac_ = pcfg_.set_alpha_to_one ? 1.0f : ac_[0];
}

void PNDMScheduler::set_timesteps(int64_t n) {
  const int64_t T = cfg_.num_train_timesteps;
  if (n < 1 || n > T)
    fail(code::kArgument, "num_inference_steps must be in [1, " + std::to_string(T) + "], got " + std::to_string(n));
  std::vector<double> asc;  // ascending, like diffusers' _timesteps
  if (cfg_.timestep_spacing == Spacing::kLinspace) {
    for (double v : detail::np_linspace(0, (double)(T - 1), n)) asc.push_back(detail::np_round(v));
  } else if (cfg_.timestep_spacing == Spacing::kLeading) {
    int64_t ratio = T / n;
    for (int64_t i = 0; i < n; ++i) asc.push_back((double)(i * ratio + cfg_.steps_offset));
  } else {
    double ratio = (double)T / (double)n;
    std::vector<double> v = detail::np_arange((double)T, 0, -ratio);
    for (auto it = v.rbegin(); it != v.rend(); ++it) asc.push_back(detail::np_round(*it) - 1);
  }
  // PLMS order: _timesteps[:-1], then _timesteps[-2] again, then _timesteps[-1], all reversed.
  std::vector<double> plms(asc.begin(), asc.end() - 1);
  if (asc.size() >= 2) plms.push_back(asc[asc.size() - 2]);
  plms.push_back(asc.back());
  timesteps_.assign(plms.rbegin(), plms.rend());
  num_inference_steps_ = n;
  ets_.clear();
  counter_ = 0;
  cur_sample_ = at::Tensor();
}

at::Tensor PNDMScheduler::prev_sample(const at::Tensor& sample, int64_t t, int64_t prev_t, const at::Tensor& mo_in) const {
  const float a_t = ac_[t];
  const float a_prev = prev_t >= 0 ? ac_[prev_t] : final_ac_;
  const float b_t = 1.0f - a_t;
  const float b_prev = 1.0f - a_prev;
  at::Tensor mo = mo_in;
  if (cfg_.prediction_type == Prediction::kVPrediction) mo = f32(detail::f32_sqrt(a_t)) * mo_in + f32(detail::f32_sqrt(b_t)) * sample;
  // Formula (9) of the PNDM paper, in diffusers' float32 order of operations.
  const float sample_coeff = detail::f32_sqrt(a_prev / a_t);
  const float denom = a_t * detail::f32_sqrt(b_prev) + detail::f32_sqrt(a_t * b_t * a_prev);
  return f32(sample_coeff) * sample - f32(a_prev - a_t) * mo / f32(denom);
}

StepOutput PNDMScheduler::step(const at::Tensor& model_output, double timestep, const at::Tensor& sample_in,
                               const StepOptions& options) {
  if (num_inference_steps_ == 0) fail(code::kArgument, "PNDMScheduler.step: call set_timesteps first");
  int64_t t = train_index(timestep, "PNDMScheduler.step");
  const int64_t stride = cfg_.num_train_timesteps / num_inference_steps_;
  int64_t prev_t = t - stride;
  if (counter_ != 1) {
    if (ets_.size() > 3) ets_.erase(ets_.begin(), ets_.end() - 3);
    ets_.push_back(model_output);
  } else {
    // Second evaluation at the same timestep: the step goes from t + stride to t.
    prev_t = t;
    t = t + stride;
  }
  at::Tensor mo;
  at::Tensor sample = sample_in;
  const size_t n = ets_.size();
  if (n == 1 && counter_ == 0) {
    mo = model_output;
    cur_sample_ = sample_in;
  } else if (n == 1 && counter_ == 1) {
    mo = (model_output + ets_.back()) / 2;
    sample = cur_sample_;
    cur_sample_ = at::Tensor();
  } else if (n == 2) {
    mo = (ets_[n - 1] * 3 - ets_[n - 2]) / 2;
  } else if (n == 3) {
    mo = (ets_[n - 1] * 23 - ets_[n - 2] * 16 + ets_[n - 3] * 5) / 12;
  } else {
    mo = (ets_[n - 1] * 55 - ets_[n - 2] * 59 + ets_[n - 3] * 37 - ets_[n - 4] * 9) * (1.0 / 24);
  }
  if (t < 0 || t >= cfg_.num_train_timesteps) fail(code::kArgument, "PNDMScheduler.step: timestep out of range");
  StepOutput out;
  out.prev_sample = prev_sample(sample, t, prev_t, mo);
  ++counter_;
  return out;
}

at::Tensor PNDMScheduler::get_velocity(const at::Tensor&, const at::Tensor&, const at::Tensor&) {
  fail(code::kUnsupported, "PNDMScheduler has no get_velocity (use DDPMScheduler's for training targets)");
}

}  // namespace da::schedulers
