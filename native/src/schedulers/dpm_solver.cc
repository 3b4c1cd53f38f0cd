#include "schedulers/dpm_solver.h"

#include <ATen/ATen.h>

#include <cmath>

#include "core/error.h"
#include "models/config_reader.h"

namespace da::schedulers {

using detail::f32;

DPMSolverConfig DPMSolverConfig::from_json(const json::Value& config) {
  models::ConfigReader r(config, "DPMSolverMultistepScheduler");
  DPMSolverConfig c;
  c.schedule.timestep_spacing = Spacing::kLinspace;
  c.schedule.read(r, {Prediction::kEpsilon, Prediction::kVPrediction, Prediction::kSample});
  c.schedule.rescale_betas_zero_snr = r.get_bool("rescale_betas_zero_snr", false);
  c.solver_order = r.get_int("solver_order", c.solver_order);
  if (c.solver_order != 1 && c.solver_order != 2) r.fail("solver_order", "only 1 and 2 are supported");
  std::string algo = r.get_string("algorithm_type", "dpmsolver++");
  if (algo != "dpmsolver++") r.fail("algorithm_type", "'" + algo + "' is not supported (dpmsolver++)");
  c.solver_type = r.get_string("solver_type", c.solver_type);
  if (c.solver_type != "midpoint" && c.solver_type != "heun")
    r.fail("solver_type", "'" + c.solver_type + "' is not supported (midpoint, heun)");
  c.lower_order_final = r.get_bool("lower_order_final", c.lower_order_final);
  c.euler_at_final = r.get_bool("euler_at_final", c.euler_at_final);
  c.final_sigmas_type = r.get_string("final_sigmas_type", c.final_sigmas_type);
  if (c.final_sigmas_type != "zero" && c.final_sigmas_type != "sigma_min")
    r.fail("final_sigmas_type", "'" + c.final_sigmas_type + "' is not supported (zero, sigma_min)");
  if (!r.is_null_or_absent("lambda_min_clipped")) c.lambda_min_clipped = r.get_double("lambda_min_clipped", 0);
  r.require_bool("thresholding", false);
  r.require_bool("use_karras_sigmas", false);
  r.require_bool("use_exponential_sigmas", false);
  r.require_bool("use_beta_sigmas", false);
  r.require_bool("use_lu_lambdas", false);
  r.require_bool("use_flow_sigmas", false);
  r.require_bool("use_dynamic_shifting", false);
  r.require_null("variance_type");
  return c;
}

DPMSolverMultistepScheduler::DPMSolverMultistepScheduler(DPMSolverConfig cfg)
    : Scheduler(cfg.schedule), pcfg_(std::move(cfg)) {
  if (cfg_.rescale_betas_zero_snr) {
    alphas_cumprod_t_[-1] = std::ldexp(1.0, -24);
    refresh_alphas_cumprod();
  }
  at::Tensor s = ((1 - alphas_cumprod_t_) / alphas_cumprod_t_).pow(0.5).contiguous();
  sigmas_.assign(s.data_ptr<float>(), s.data_ptr<float>() + s.numel());
  for (size_t i = 0; i < timesteps_.size(); ++i) timesteps_[i] = (double)(float)timesteps_[i];
}

void DPMSolverMultistepScheduler::set_timesteps(int64_t n) {
  const int64_t T = cfg_.num_train_timesteps;
  if (n < 1 || n > T)
    fail(code::kArgument, "num_inference_steps must be in [1, " + std::to_string(T) + "], got " + std::to_string(n));
  // Timesteps whose log-SNR falls below lambda_min_clipped are cut (none with the default -inf).
  int64_t last = T;
  if (std::isfinite(pcfg_.lambda_min_clipped)) {
    at::Tensor lambda = (alphas_cumprod_t_.sqrt().log() - (1 - alphas_cumprod_t_).sqrt().log()).flip({0});
    int64_t clipped = at::searchsorted(lambda, at::scalar_tensor(pcfg_.lambda_min_clipped, at::kFloat)).item<int64_t>();
    last = T - clipped;
  }
  std::vector<double> ts;
  if (cfg_.timestep_spacing == Spacing::kLinspace) {
    std::vector<double> v = detail::np_linspace(0, (double)(last - 1), n + 1);
    for (int64_t i = n; i >= 1; --i) ts.push_back(detail::np_round(v[i]));
  } else if (cfg_.timestep_spacing == Spacing::kLeading) {
    int64_t ratio = last / (n + 1);
    for (int64_t i = n; i >= 1; --i) ts.push_back((double)(i * ratio + cfg_.steps_offset));
  } else {
    double ratio = (double)T / (double)n;
    for (double v : detail::np_arange((double)last, 0, -ratio)) ts.push_back(detail::np_round(v) - 1);
  }
  at::Tensor tab = ((1 - alphas_cumprod_t_) / alphas_cumprod_t_).pow(0.5).contiguous();
  std::vector<float> table(tab.data_ptr<float>(), tab.data_ptr<float>() + tab.numel());
  std::vector<float> sig;
  for (double t : ts) sig.push_back((float)detail::np_interp_index(t, table));
  sig.push_back(pcfg_.final_sigmas_type == "sigma_min" ? table[0] : 0.0f);
  timesteps_ = ts;
  sigmas_ = sig;
  num_inference_steps_ = (int64_t)ts.size();
  model_outputs_.assign(pcfg_.solver_order, at::Tensor());
  lower_order_nums_ = 0;
  step_index_ = -1;
  begin_index_ = -1;
}

int64_t DPMSolverMultistepScheduler::index_for_timestep(double t) const {
  std::vector<int64_t> hits;
  for (size_t i = 0; i < timesteps_.size(); ++i)
    if (timesteps_[i] == t) hits.push_back((int64_t)i);
  if (hits.empty()) return (int64_t)timesteps_.size() - 1;  // diffusers falls back to the last step
  return hits.size() > 1 ? hits[1] : hits[0];
}

namespace {
struct AlphaSigma {
  float alpha, sigma, lambda;
};
// alpha_t = 1/sqrt(sigma^2+1), sigma_t = sigma*alpha_t, lambda = log(alpha_t) - log(sigma_t), in float32.
AlphaSigma alpha_sigma(float sigma) {
  AlphaSigma r;
  r.alpha = 1.0f / detail::f32_sqrt(sigma * sigma + 1.0f);
  r.sigma = sigma * r.alpha;
  r.lambda = detail::f32_log(r.alpha) - detail::f32_log(r.sigma);
  return r;
}
}  // namespace

StepOutput DPMSolverMultistepScheduler::step(const at::Tensor& model_output, double timestep, const at::Tensor& sample_in,
                                             const StepOptions& options) {
  if (num_inference_steps_ == 0) fail(code::kArgument, "DPMSolverMultistepScheduler.step: call set_timesteps first");
  if (step_index_ < 0) step_index_ = begin_index_ >= 0 ? begin_index_ : index_for_timestep(timestep);
  const int64_t si = step_index_;
  const int64_t len = (int64_t)timesteps_.size();
  if (si >= len) fail(code::kArgument, "DPMSolverMultistepScheduler.step: the schedule is already complete");
  const bool lower_final = si == len - 1 && (pcfg_.euler_at_final || (pcfg_.lower_order_final && len < 15) ||
                                             pcfg_.final_sigmas_type == "zero");
  const bool lower_second = si == len - 2 && pcfg_.lower_order_final && len < 15;

  // Data prediction x0 from the model output at the current sigma.
  const AlphaSigma s0 = alpha_sigma(sigmas_[si]);
  at::Tensor x0;
  switch (cfg_.prediction_type) {
    case Prediction::kEpsilon: x0 = (sample_in - f32(s0.sigma) * model_output) / f32(s0.alpha); break;
    case Prediction::kVPrediction: x0 = f32(s0.alpha) * sample_in - f32(s0.sigma) * model_output; break;
    case Prediction::kSample: x0 = model_output; break;
  }
  for (int64_t i = 0; i + 1 < pcfg_.solver_order; ++i) model_outputs_[i] = model_outputs_[i + 1];
  model_outputs_.back() = x0;

  at::Tensor sample = sample_in.to(at::kFloat);
  const AlphaSigma t = alpha_sigma(sigmas_[si + 1]);
  const float h = t.lambda - s0.lambda;
  const float c_sample = t.sigma / s0.sigma;
  const float c_d0 = t.alpha * (detail::f32_exp(-h) - 1.0f);
  at::Tensor prev;
  if (pcfg_.solver_order == 1 || lower_order_nums_ < 1 || lower_final) {
    prev = f32(c_sample) * sample - f32(c_d0) * x0;
  } else {
    // DPM-Solver++(2M): D1 is the finite difference of the last two data predictions.
    const AlphaSigma s1 = alpha_sigma(sigmas_[si - 1]);
    const float h0 = s0.lambda - s1.lambda;
    const float r0 = h0 / h;
    const at::Tensor& m0 = model_outputs_[pcfg_.solver_order - 1];
    const at::Tensor& m1 = model_outputs_[pcfg_.solver_order - 2];
    at::Tensor d1 = f32(1.0f / r0) * (m0 - m1);
    if (pcfg_.solver_type == "midpoint") {
      prev = f32(c_sample) * sample - f32(c_d0) * m0 - f32(0.5f * c_d0) * d1;
    } else {
      const float c_d1 = t.alpha * ((detail::f32_exp(-h) - 1.0f) / h + 1.0f);
      prev = f32(c_sample) * sample - f32(c_d0) * m0 + f32(c_d1) * d1;
    }
  }
  (void)lower_second;  // only matters for third order, which is not implemented
  if (lower_order_nums_ < pcfg_.solver_order) ++lower_order_nums_;
  ++step_index_;
  StepOutput out;
  out.prev_sample = prev.to(x0.scalar_type());
  return out;
}

at::Tensor DPMSolverMultistepScheduler::add_noise(const at::Tensor& original, const at::Tensor& noise,
                                                  const at::Tensor& timesteps) {
  if (num_inference_steps_ == 0) fail(code::kArgument, "DPMSolverMultistepScheduler.add_noise: call set_timesteps first");
  at::Tensor ts = timesteps.to(at::kCPU).to(at::kDouble).reshape({-1}).contiguous();
  std::vector<int64_t> idx;
  for (int64_t i = 0; i < ts.numel(); ++i) {
    if (begin_index_ < 0) idx.push_back(index_for_timestep(ts.data_ptr<double>()[i]));
    else idx.push_back(step_index_ >= 0 ? step_index_ : begin_index_);
  }
  at::Tensor table = at::tensor(sigmas_, at::kFloat).to(original.scalar_type());
  at::Tensor sigma = table.index_select(0, at::tensor(idx, at::kLong)).flatten();
  while (sigma.dim() < original.dim()) sigma = sigma.unsqueeze(-1);
  sigma = sigma.to(original.device());
  at::Tensor alpha_t = 1 / (sigma.pow(2) + 1).pow(0.5);
  at::Tensor sigma_t = sigma * alpha_t;
  return alpha_t * original + sigma_t * noise;
}

at::Tensor DPMSolverMultistepScheduler::get_velocity(const at::Tensor&, const at::Tensor&, const at::Tensor&) {
  fail(code::kUnsupported, "DPMSolverMultistepScheduler has no get_velocity (use DDPMScheduler's for training targets)");
}

}  // namespace da::schedulers
