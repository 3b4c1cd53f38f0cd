#include "schedulers/scheduler.h"

#include <algorithm>
#include <ATen/ATen.h>

#include <cmath>

#include "core/error.h"
#include "models/config_reader.h"
#include "schedulers/ddim.h"
#include "schedulers/ddpm.h"
#include "schedulers/dpm_solver.h"
#include "schedulers/euler.h"
#include "schedulers/pndm.h"

namespace da::schedulers {

const char* to_string(Prediction p) {
  switch (p) {
    case Prediction::kEpsilon: return "epsilon";
    case Prediction::kVPrediction: return "v_prediction";
    case Prediction::kSample: return "sample";
  }
  return "?";
}

const char* to_string(Spacing s) {
  switch (s) {
    case Spacing::kLeading: return "leading";
    case Spacing::kLinspace: return "linspace";
    case Spacing::kTrailing: return "trailing";
  }
  return "?";
}

void ScheduleConfig::read(models::ConfigReader& r, const std::vector<Prediction>& allowed) {
  num_train_timesteps = r.get_int("num_train_timesteps", num_train_timesteps);
  if (num_train_timesteps < 2) r.fail("num_train_timesteps", "must be at least 2");
  r.at_most("num_train_timesteps", num_train_timesteps, 1000000);  // SD: 1000
  beta_start = r.get_double("beta_start", beta_start);
  beta_end = r.get_double("beta_end", beta_end);
  beta_schedule = r.get_string("beta_schedule", beta_schedule);
  if (beta_schedule != "linear" && beta_schedule != "scaled_linear" && beta_schedule != "squaredcos_cap_v2")
    r.fail("beta_schedule", "'" + beta_schedule + "' is not supported (linear, scaled_linear, squaredcos_cap_v2)");
  trained_betas = r.get_double_list_or_empty("trained_betas");
  if (!trained_betas.empty() && (int64_t)trained_betas.size() != num_train_timesteps)
    r.fail("trained_betas", "must hold num_train_timesteps values");
  std::string p = r.get_string("prediction_type", to_string(prediction_type));
  bool found = false;
  for (Prediction a : allowed)
    if (p == to_string(a)) { prediction_type = a; found = true; }
  if (!found) {
    std::string list;
    for (Prediction a : allowed) list += std::string(list.empty() ? "" : ", ") + to_string(a);
    r.fail("prediction_type", "'" + p + "' is not supported by this scheduler (" + list + ")");
  }
  std::string s = r.get_string("timestep_spacing", to_string(timestep_spacing));
  if (s == "leading") timestep_spacing = Spacing::kLeading;
  else if (s == "linspace") timestep_spacing = Spacing::kLinspace;
  else if (s == "trailing") timestep_spacing = Spacing::kTrailing;
  else r.fail("timestep_spacing", "'" + s + "' is not supported (leading, linspace, trailing)");
  steps_offset = r.get_int("steps_offset", steps_offset);
}

namespace {

// Glide cosine schedule, computed in Python floats and stored as float32 (diffusers'
// betas_for_alpha_bar with max_beta 0.999).
at::Tensor cosine_betas(int64_t n) {
  auto alpha_bar = [](double t) {
    double c = std::cos((t + 0.008) / 1.008 * M_PI / 2);
    return c * c;
  };
  std::vector<float> b(n);
  for (int64_t i = 0; i < n; ++i) {
    double t1 = (double)i / n, t2 = (double)(i + 1) / n;
    b[i] = (float)std::min(1 - alpha_bar(t2) / alpha_bar(t1), 0.999);
  }
  return at::tensor(b, at::kFloat);
}

// Zero terminal SNR rescaling (Lin et al. 2023, algorithm 1), on float32 tables like diffusers.
at::Tensor rescale_zero_terminal_snr(const at::Tensor& betas) {
  at::Tensor alphas = 1.0 - betas;
  at::Tensor bar_sqrt = at::cumprod(alphas, 0).sqrt();
  at::Tensor s0 = bar_sqrt[0].clone(), sT = bar_sqrt[-1].clone();
  bar_sqrt -= sT;
  bar_sqrt *= s0 / (s0 - sT);
  at::Tensor bar = bar_sqrt.pow(2);
  at::Tensor a = at::cat({bar.slice(0, 0, 1), bar.slice(0, 1) / bar.slice(0, 0, -1)});
  return 1 - a;
}

}  // namespace

Scheduler::Scheduler(ScheduleConfig cfg) : cfg_(std::move(cfg)) {
  const int64_t n = cfg_.num_train_timesteps;
  if (!cfg_.trained_betas.empty()) {
    betas_ = at::tensor(cfg_.trained_betas, at::kDouble).to(at::kFloat);
  } else if (cfg_.beta_schedule == "linear") {
    betas_ = at::linspace(cfg_.beta_start, cfg_.beta_end, n, at::kFloat);
  } else if (cfg_.beta_schedule == "scaled_linear") {
    // Python computes beta**0.5 in double, torch.linspace in float32, then squares in float32.
    betas_ = at::linspace(std::pow(cfg_.beta_start, 0.5), std::pow(cfg_.beta_end, 0.5), n, at::kFloat).pow(2);
  } else {
    betas_ = cosine_betas(n);
  }
  if (cfg_.rescale_betas_zero_snr) betas_ = rescale_zero_terminal_snr(betas_);
  alphas_cumprod_t_ = at::cumprod(1.0 - betas_, 0);  // CPU float cumprod accumulates in double, as torch does
  ac_.assign(alphas_cumprod_t_.data_ptr<float>(), alphas_cumprod_t_.data_ptr<float>() + n);
  timesteps_.resize(n);
  for (int64_t i = 0; i < n; ++i) timesteps_[i] = (double)(n - 1 - i);
}

void Scheduler::refresh_alphas_cumprod() {
  ac_.assign(alphas_cumprod_t_.data_ptr<float>(), alphas_cumprod_t_.data_ptr<float>() + cfg_.num_train_timesteps);
}

at::Tensor Scheduler::timesteps_tensor() const {
  std::vector<int64_t> v(timesteps_.size());
  for (size_t i = 0; i < v.size(); ++i) v[i] = (int64_t)timesteps_[i];
  return at::tensor(v, at::kLong);
}

int64_t Scheduler::train_index(double timestep, const char* what) const {
  if (!(timestep >= 0) || timestep >= (double)cfg_.num_train_timesteps || timestep != std::floor(timestep))
    fail(code::kArgument, std::string(what) + ": timestep " + std::to_string(timestep) +
                              " is not an integer in [0, " + std::to_string(cfg_.num_train_timesteps) + ")");
  return (int64_t)timestep;
}

std::pair<at::Tensor, at::Tensor> Scheduler::sqrt_alpha_terms(const at::Tensor& timesteps, const at::Tensor& like) const {
  if (timesteps.dim() > 1) fail(code::kShape, "timesteps must be a scalar or a 1-D tensor");
  at::Tensor idx = timesteps.to(at::kCPU).to(at::kLong).reshape({-1});
  if (idx.numel() && (idx.min().item<int64_t>() < 0 || idx.max().item<int64_t>() >= cfg_.num_train_timesteps))
    fail(code::kArgument, "timesteps out of range [0, " + std::to_string(cfg_.num_train_timesteps) + ")");
  // diffusers casts the float32 table to the sample's dtype, then indexes.
  at::Tensor ac = alphas_cumprod_t_.to(like.scalar_type()).index_select(0, idx);
  at::Tensor sa = ac.pow(0.5).flatten();
  at::Tensor sb = (1 - ac).pow(0.5).flatten();
  while (sa.dim() < like.dim()) {
    sa = sa.unsqueeze(-1);
    sb = sb.unsqueeze(-1);
  }
  return {sa.to(like.device()), sb.to(like.device())};
}

at::Tensor Scheduler::add_noise(const at::Tensor& original, const at::Tensor& noise, const at::Tensor& timesteps) {
  auto [sa, sb] = sqrt_alpha_terms(timesteps, original);
  return sa * original + sb * noise;
}

at::Tensor Scheduler::get_velocity(const at::Tensor& sample, const at::Tensor& noise, const at::Tensor& timesteps) {
  auto [sa, sb] = sqrt_alpha_terms(timesteps, sample);
  return sa * noise - sb * sample;
}

std::unique_ptr<Scheduler> make_scheduler(const json::Value& config, const std::string& class_name) {
  std::string name = class_name;
  if (name.empty()) {
    const json::Value* c = config.find("_class_name");
    if (!c || !c->is_string())
      fail(code::kConfig, "scheduler config has no '_class_name': pass the scheduler class explicitly");
    name = c->as_string();
  }
  if (name == "DDPMScheduler") return std::make_unique<DDPMScheduler>(DDPMConfig::from_json(config));
  if (name == "DDIMScheduler") return std::make_unique<DDIMScheduler>(DDIMConfig::from_json(config));
  if (name == "EulerDiscreteScheduler") return std::make_unique<EulerDiscreteScheduler>(EulerConfig::from_json(config));
  if (name == "DPMSolverMultistepScheduler")
    return std::make_unique<DPMSolverMultistepScheduler>(DPMSolverConfig::from_json(config));
  if (name == "PNDMScheduler") return std::make_unique<PNDMScheduler>(PNDMConfig::from_json(config));
  fail(code::kConfig, "scheduler class '" + name +
                          "' is not supported (DDPMScheduler, DDIMScheduler, EulerDiscreteScheduler, "
                          "DPMSolverMultistepScheduler, PNDMScheduler)");
}

std::unique_ptr<Scheduler> make_scheduler_from_file(const std::string& path, const std::string& class_name) {
  std::string text = models::read_text_file(path);
  return make_scheduler(json::parse(text, code::kConfig), class_name);
}

namespace detail {

float f32_log(float x) { return at::scalar_tensor(x, at::kFloat).log().item<float>(); }
float f32_exp(float x) { return at::scalar_tensor(x, at::kFloat).exp().item<float>(); }
float f32_sqrt(float x) { return at::scalar_tensor(x, at::kFloat).sqrt().item<float>(); }
at::Tensor f32(float x) { return at::scalar_tensor(x, at::kFloat); }

std::vector<double> np_linspace(double start, double stop, int64_t num) {
  std::vector<double> y(std::max<int64_t>(num, 0));
  if (num == 1) {
    y[0] = start;
    return y;
  }
  double step = (stop - start) / (double)(num - 1);
  for (int64_t i = 0; i < num; ++i) y[i] = (double)i * step + start;
  if (num > 1) y[num - 1] = stop;
  return y;
}

std::vector<double> np_arange(double start, double stop, double step) {
  int64_t len = (int64_t)std::ceil((stop - start) / step);
  std::vector<double> y(std::max<int64_t>(len, 0));
  if (len <= 0) return y;
  // numpy fills from the first two values: delta = (start + step) - start.
  double delta = (start + step) - start;
  for (int64_t i = 0; i < len; ++i) y[i] = start + (double)i * delta;
  return y;
}

double np_round(double x) { return std::nearbyint(x); }

double np_interp_index(double x, const std::vector<float>& fp) {
  const int64_t n = (int64_t)fp.size();
  if (x <= 0) return fp[0];
  if (x >= (double)(n - 1)) return fp[n - 1];
  int64_t j = (int64_t)std::floor(x);
  if ((double)j == x) return fp[j];
  double slope = ((double)fp[j + 1] - (double)fp[j]) / 1.0;
  double r = slope * (x - (double)j);
  return r + (double)fp[j];
}

at::Tensor draw_noise(const at::Tensor& like, const std::optional<at::Generator>& gen) {
  if (gen.has_value()) {
    at::Device gd = gen->device();
    at::Tensor n = at::randn(like.sizes(), *gen, like.options().device(gd));
    return n.to(like.device());
  }
  return at::randn(like.sizes(), like.options());
}

}  // namespace detail

void Scheduler::set_integer_timesteps(int64_t n) {
  const int64_t T = cfg_.num_train_timesteps;
  if (n < 1 || n > T)
    fail(code::kArgument, "num_inference_steps must be in [1, " + std::to_string(T) + "], got " + std::to_string(n));
  std::vector<double> ts;
  if (cfg_.timestep_spacing == Spacing::kLinspace) {
    for (double v : detail::np_linspace(0, (double)(T - 1), n)) ts.push_back(detail::np_round(v));
    std::reverse(ts.begin(), ts.end());
  } else if (cfg_.timestep_spacing == Spacing::kLeading) {
    int64_t ratio = T / n;
    for (int64_t i = n - 1; i >= 0; --i) ts.push_back((double)(i * ratio + cfg_.steps_offset));
  } else {
    double ratio = (double)T / (double)n;
    for (double v : detail::np_arange((double)T, 0, -ratio)) ts.push_back(detail::np_round(v) - 1);
  }
  timesteps_ = ts;
  num_inference_steps_ = n;
}

}  // namespace da::schedulers
