#include "schedulers/ddpm.h"

#include <ATen/ATen.h>

#include <cmath>

#include "core/error.h"
#include "models/config_reader.h"

namespace da::schedulers {

using detail::f32;

DDPMConfig DDPMConfig::from_json(const json::Value& config) {
  models::ConfigReader r(config, "DDPMScheduler");
  DDPMConfig c;
  c.schedule.read(r, {Prediction::kEpsilon, Prediction::kVPrediction, Prediction::kSample});
  c.schedule.rescale_betas_zero_snr = r.get_bool("rescale_betas_zero_snr", false);
  c.variance_type = r.get_string("variance_type", c.variance_type);
  if (c.variance_type != "fixed_small" && c.variance_type != "fixed_small_log" && c.variance_type != "fixed_large")
    r.fail("variance_type", "'" + c.variance_type + "' is not supported (fixed_small, fixed_small_log, fixed_large)");
  c.clip_sample = r.get_bool("clip_sample", c.clip_sample);
  c.clip_sample_range = r.get_double("clip_sample_range", c.clip_sample_range);
  r.require_bool("thresholding", false);
  return c;
}

DDPMScheduler::DDPMScheduler(DDPMConfig cfg) : Scheduler(cfg.schedule), dcfg_(std::move(cfg)) {}

void DDPMScheduler::set_timesteps(int64_t n) { set_integer_timesteps(n); }

int64_t DDPMScheduler::previous_timestep(int64_t t) const {
  if (num_inference_steps_ == 0) return t - 1;
  for (size_t i = 0; i < timesteps_.size(); ++i)
    if ((int64_t)timesteps_[i] == t) return i + 1 == timesteps_.size() ? -1 : (int64_t)timesteps_[i + 1];
  fail(code::kArgument, "DDPMScheduler.step: timestep " + std::to_string(t) + " is not in the schedule");
}

StepOutput DDPMScheduler::step(const at::Tensor& model_output, double timestep, const at::Tensor& sample,
                               const StepOptions& options) {
  const int64_t t = train_index(timestep, "DDPMScheduler.step");
  const int64_t prev_t = previous_timestep(t);
  // float32 scalars, exactly as diffusers' 0-d float32 tensors.
  const float a_t = ac_[t];
  const float a_prev = prev_t >= 0 ? ac_[prev_t] : 1.0f;
  const float b_t = 1.0f - a_t;
  const float b_prev = 1.0f - a_prev;
  const float cur_a = a_t / a_prev;
  const float cur_b = 1.0f - cur_a;

  at::Tensor x0;
  switch (cfg_.prediction_type) {
    case Prediction::kEpsilon: x0 = (sample - f32(detail::f32_sqrt(b_t)) * model_output) / f32(detail::f32_sqrt(a_t)); break;
    case Prediction::kVPrediction: x0 = f32(detail::f32_sqrt(a_t)) * sample - f32(detail::f32_sqrt(b_t)) * model_output; break;
    case Prediction::kSample: x0 = model_output; break;
  }
  if (dcfg_.clip_sample) x0 = x0.clamp(-dcfg_.clip_sample_range, dcfg_.clip_sample_range);

  const float c_x0 = (detail::f32_sqrt(a_prev) * cur_b) / b_t;
  const float c_xt = detail::f32_sqrt(cur_a) * b_prev / b_t;
  at::Tensor prev = f32(c_x0) * x0 + f32(c_xt) * sample;

  StepOutput out;
  if (t > 0) {
    at::Tensor noise = options.variance_noise.defined() ? options.variance_noise.to(model_output.options())
                                                        : detail::draw_noise(model_output, options.generator);
    if (noise.sizes() != model_output.sizes()) fail(code::kShape, "DDPMScheduler.step: variance_noise shape mismatch");
    float var = std::max((1.0f - a_prev) / (1.0f - a_t) * cur_b, 1e-20f);
    at::Tensor add;
    if (dcfg_.variance_type == "fixed_small") add = f32(detail::f32_sqrt(var)) * noise;
    else if (dcfg_.variance_type == "fixed_large") add = f32(detail::f32_sqrt(cur_b)) * noise;
    else add = f32(detail::f32_exp(0.5f * detail::f32_log(var))) * noise;  // fixed_small_log: a std, not a variance
    prev = prev + add;
    out.variance_noise = noise;
  }
  out.prev_sample = prev;
  out.pred_original_sample = x0;
  return out;
}

}  // namespace da::schedulers
