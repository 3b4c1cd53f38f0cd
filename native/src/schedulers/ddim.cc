#include "schedulers/ddim.h"

#include <ATen/ATen.h>

#include <cmath>

#include "core/error.h"
#include "models/config_reader.h"

namespace da::schedulers {

using detail::f32;

DDIMConfig DDIMConfig::from_json(const json::Value& config) {
  models::ConfigReader r(config, "DDIMScheduler");
  DDIMConfig c;
  c.schedule.read(r, {Prediction::kEpsilon, Prediction::kVPrediction, Prediction::kSample});
  c.schedule.rescale_betas_zero_snr = r.get_bool("rescale_betas_zero_snr", false);
  c.clip_sample = r.get_bool("clip_sample", c.clip_sample);
  c.clip_sample_range = r.get_double("clip_sample_range", c.clip_sample_range);
  c.set_alpha_to_one = r.get_bool("set_alpha_to_one", c.set_alpha_to_one);
  r.require_bool("thresholding", false);
  return c;
}

DDIMScheduler::DDIMScheduler(DDIMConfig cfg) : Scheduler(cfg.schedule), dcfg_(std::move(cfg)) {
  final_ac_ = dcfg_.set_alpha_to_one ? 1.0f : ac_[0];
}

void DDIMScheduler::set_timesteps(int64_t n) { set_integer_timesteps(n); }

StepOutput DDIMScheduler::step(const at::Tensor& model_output, double timestep, const at::Tensor& sample,
                               const StepOptions& options) {
  if (num_inference_steps_ == 0) fail(code::kArgument, "DDIMScheduler.step: call set_timesteps first");
  const int64_t t = train_index(timestep, "DDIMScheduler.step");
  // diffusers steps back by a fixed stride, whatever the spacing.
  const int64_t prev_t = t - cfg_.num_train_timesteps / num_inference_steps_;
  const float a_t = ac_[t];
  const float a_prev = prev_t >= 0 ? ac_[prev_t] : final_ac_;
  const float b_t = 1.0f - a_t;

  at::Tensor x0, eps;
  switch (cfg_.prediction_type) {
    case Prediction::kEpsilon:
      x0 = (sample - f32(detail::f32_sqrt(b_t)) * model_output) / f32(detail::f32_sqrt(a_t));
      eps = model_output;
      break;
    case Prediction::kVPrediction:
      x0 = f32(detail::f32_sqrt(a_t)) * sample - f32(detail::f32_sqrt(b_t)) * model_output;
      eps = f32(detail::f32_sqrt(a_t)) * model_output + f32(detail::f32_sqrt(b_t)) * sample;
      break;
    case Prediction::kSample:
      x0 = model_output;
      eps = (sample - f32(detail::f32_sqrt(a_t)) * x0) / f32(detail::f32_sqrt(b_t));
      break;
  }
  if (dcfg_.clip_sample) x0 = x0.clamp(-dcfg_.clip_sample_range, dcfg_.clip_sample_range);

  const float b_prev = 1.0f - a_prev;
  const float variance = (b_prev / b_t) * (1.0f - a_t / a_prev);
  const float std_dev = (float)options.eta * detail::f32_sqrt(variance);
  at::Tensor direction = f32(detail::f32_sqrt(1.0f - a_prev - std_dev * std_dev)) * eps;
  at::Tensor prev = f32(detail::f32_sqrt(a_prev)) * x0 + direction;

  StepOutput out;
  if (options.eta > 0) {
    at::Tensor noise = options.variance_noise.defined() ? options.variance_noise.to(model_output.options())
                                                        : detail::draw_noise(model_output, options.generator);
    if (noise.sizes() != model_output.sizes()) fail(code::kShape, "DDIMScheduler.step: variance_noise shape mismatch");
    prev = prev + f32(std_dev) * noise;
    out.variance_noise = noise;
  }
  out.prev_sample = prev;
  out.pred_original_sample = x0;
  return out;
}

}  // namespace da::schedulers
