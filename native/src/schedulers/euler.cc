#include "schedulers/euler.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "models/config_reader.h"

namespace da::schedulers {

EulerConfig EulerConfig::from_json(const json::Value& config) {
  models::ConfigReader r(config, "EulerDiscreteScheduler");
  EulerConfig c;
  c.schedule.timestep_spacing = Spacing::kLinspace;
  c.schedule.read(r, {Prediction::kEpsilon, Prediction::kVPrediction, Prediction::kSample});
  c.schedule.rescale_betas_zero_snr = r.get_bool("rescale_betas_zero_snr", false);
  r.require_string("interpolation_type", "linear");
  r.require_bool("use_karras_sigmas", false);
  r.require_bool("use_exponential_sigmas", false);
  r.require_bool("use_beta_sigmas", false);
  r.require_null("sigma_min");
  r.require_null("sigma_max");
  r.require_string("timestep_type", "discrete");
  c.final_sigmas_type = r.get_string("final_sigmas_type", c.final_sigmas_type);
  if (c.final_sigmas_type != "zero" && c.final_sigmas_type != "sigma_min")
    r.fail("final_sigmas_type", "'" + c.final_sigmas_type + "' is not supported (zero, sigma_min)");
  return c;
}

namespace {
// sqrt((1 - a) / a) over the float32 table, as diffusers computes it (tensor ops in float32).
std::vector<float> train_sigmas(const at::Tensor& ac) {
  at::Tensor s = ((1 - ac) / ac).pow(0.5).contiguous();
  return std::vector<float>(s.data_ptr<float>(), s.data_ptr<float>() + s.numel());
}
}  // namespace

EulerDiscreteScheduler::EulerDiscreteScheduler(EulerConfig cfg) : Scheduler(cfg.schedule), ecfg_(std::move(cfg)) {
  if (cfg_.rescale_betas_zero_snr) {
    alphas_cumprod_t_[-1] = std::ldexp(1.0, -24);  // avoids an infinite sigma at the last step
    refresh_alphas_cumprod();
  }
  std::vector<float> s = train_sigmas(alphas_cumprod_t_);
  sigmas_.assign(s.rbegin(), s.rend());
  sigmas_.push_back(0.0f);
  for (size_t i = 0; i < timesteps_.size(); ++i) timesteps_[i] = (double)(float)timesteps_[i];
}

void EulerDiscreteScheduler::set_timesteps(int64_t n) {
  const int64_t T = cfg_.num_train_timesteps;
  if (n < 1 || n > T)
    fail(code::kArgument, "num_inference_steps must be in [1, " + std::to_string(T) + "], got " + std::to_string(n));
  std::vector<double> ts;  // float32 values
  if (cfg_.timestep_spacing == Spacing::kLinspace) {
    for (double v : detail::np_linspace(0, (double)(T - 1), n)) ts.push_back((float)v);
    std::reverse(ts.begin(), ts.end());
  } else if (cfg_.timestep_spacing == Spacing::kLeading) {
    int64_t ratio = T / n;
    for (int64_t i = n - 1; i >= 0; --i) ts.push_back((float)((float)(i * ratio) + (float)cfg_.steps_offset));
  } else {
    double ratio = (double)T / (double)n;
    for (double v : detail::np_arange((double)T, 0, -ratio)) ts.push_back((float)((float)detail::np_round(v) - 1.0f));
  }
  std::vector<float> table = train_sigmas(alphas_cumprod_t_);
  std::vector<float> sig;
  for (double t : ts) sig.push_back((float)detail::np_interp_index(t, table));
  if (ecfg_.final_sigmas_type == "sigma_min") sig.push_back(table[0]);
  else sig.push_back(0.0f);
  timesteps_ = ts;
  sigmas_ = sig;
  num_inference_steps_ = n;
  step_index_ = -1;
  begin_index_ = -1;
}

at::Tensor EulerDiscreteScheduler::timesteps_tensor() const {
  std::vector<float> v(timesteps_.begin(), timesteps_.end());
  return at::tensor(v, at::kFloat);
}

double EulerDiscreteScheduler::init_noise_sigma() const {
  float m = *std::max_element(sigmas_.begin(), sigmas_.end());
  if (cfg_.timestep_spacing == Spacing::kLinspace || cfg_.timestep_spacing == Spacing::kTrailing) return m;
  return detail::f32_sqrt(m * m + 1.0f);
}

int64_t EulerDiscreteScheduler::index_for_timestep(double t) const {
  // diffusers: the second match when the timestep repeats (so img2img starting mid-schedule does
  // not skip a sigma), else the only one.
  std::vector<int64_t> hits;
  for (size_t i = 0; i < timesteps_.size(); ++i)
    if (timesteps_[i] == (double)(float)t) hits.push_back((int64_t)i);
  if (hits.empty()) fail(code::kArgument, "EulerDiscreteScheduler: timestep " + std::to_string(t) + " is not in the schedule");
  return hits.size() > 1 ? hits[1] : hits[0];
}

void EulerDiscreteScheduler::init_step_index(double t) {
  step_index_ = begin_index_ >= 0 ? begin_index_ : index_for_timestep(t);
}

at::Tensor EulerDiscreteScheduler::scale_model_input(const at::Tensor& sample, double timestep) {
  if (num_inference_steps_ == 0) fail(code::kArgument, "EulerDiscreteScheduler: call set_timesteps first");
  if (step_index_ < 0) init_step_index(timestep);
  const float sigma = sigmas_.at(step_index_);
  return sample / detail::f32_sqrt(sigma * sigma + 1.0f);
}

StepOutput EulerDiscreteScheduler::step(const at::Tensor& model_output, double timestep, const at::Tensor& sample_in,
                                        const StepOptions& options) {
  if (num_inference_steps_ == 0) fail(code::kArgument, "EulerDiscreteScheduler.step: call set_timesteps first");
  if (step_index_ < 0) init_step_index(timestep);
  if (step_index_ + 1 >= (int64_t)sigmas_.size())
    fail(code::kArgument, "EulerDiscreteScheduler.step: the schedule is already complete");
  // Upcast: the Euler update loses precision in half precision.
  at::Tensor sample = sample_in.to(at::kFloat);
  const float sigma = sigmas_[step_index_];
  const float sigma_hat = sigma;  // gamma = 0 (s_churn = 0): no noise is added
  at::Tensor x0;
  switch (cfg_.prediction_type) {
    case Prediction::kEpsilon: x0 = sample - model_output * sigma_hat; break;
    case Prediction::kVPrediction: {
      const float c_out = -sigma / detail::f32_sqrt(sigma * sigma + 1.0f);
      const float c_skip_den = sigma * sigma + 1.0f;
      x0 = model_output * c_out + sample / c_skip_den;
      break;
    }
    case Prediction::kSample: x0 = model_output; break;
  }
  at::Tensor derivative = (sample - x0) / sigma_hat;
  const float dt = sigmas_[step_index_ + 1] - sigma_hat;
  at::Tensor prev = (sample + derivative * dt).to(model_output.scalar_type());
  ++step_index_;
  StepOutput out;
  out.prev_sample = prev;
  out.pred_original_sample = x0;
  return out;
}

std::vector<int64_t> EulerDiscreteScheduler::indices_for(const at::Tensor& timesteps) const {
  at::Tensor ts = timesteps.to(at::kCPU).to(at::kDouble).reshape({-1}).contiguous();
  std::vector<int64_t> idx;
  for (int64_t i = 0; i < ts.numel(); ++i) {
    if (begin_index_ < 0) idx.push_back(index_for_timestep(ts.data_ptr<double>()[i]));
    else idx.push_back(step_index_ >= 0 ? step_index_ : begin_index_);
  }
  return idx;
}

at::Tensor EulerDiscreteScheduler::add_noise(const at::Tensor& original, const at::Tensor& noise, const at::Tensor& timesteps) {
  if (num_inference_steps_ == 0) fail(code::kArgument, "EulerDiscreteScheduler.add_noise: call set_timesteps first");
  std::vector<int64_t> idx = indices_for(timesteps);
  at::Tensor table = at::tensor(sigmas_, at::kFloat).to(original.scalar_type());
  at::Tensor sigma = table.index_select(0, at::tensor(idx, at::kLong)).flatten();
  while (sigma.dim() < original.dim()) sigma = sigma.unsqueeze(-1);
  return original + noise * sigma.to(original.device());
}

at::Tensor EulerDiscreteScheduler::get_velocity(const at::Tensor& sample, const at::Tensor& noise, const at::Tensor& timesteps) {
  // diffusers indexes alphas_cumprod with the schedule INDEX of each timestep here; kept as is.
  std::vector<int64_t> idx;
  at::Tensor ts = timesteps.to(at::kCPU).to(at::kDouble).reshape({-1}).contiguous();
  for (int64_t i = 0; i < ts.numel(); ++i) idx.push_back(index_for_timestep(ts.data_ptr<double>()[i]));
  return Scheduler::get_velocity(sample, noise, at::tensor(idx, at::kLong));
}

}  // namespace da::schedulers
