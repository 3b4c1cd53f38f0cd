// Noise schedulers matching diffusers (DDPM, DDIM, EulerDiscrete, DPMSolverMultistep, PNDM).
// All schedule state (betas, alphas_cumprod, timesteps, sigmas, multistep counters) lives on the
// host; a step never reads a device tensor back, so sampling on CUDA costs no syncs per step.
// Scalar coefficients are computed in float32, as diffusers does with its float32 0-d tables, and
// then applied to the sample, so trajectories match the reference to the last bits.
#pragma once
#include <ATen/core/Generator.h>
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/json.h"

namespace da::models {
class ConfigReader;
}

namespace da::schedulers {

enum class Prediction { kEpsilon, kVPrediction, kSample };
enum class Spacing { kLeading, kLinspace, kTrailing };

const char* to_string(Prediction p);
const char* to_string(Spacing s);

// Fields every diffusers scheduler reads to build its noise schedule. Defaults are the diffusers
// class defaults; each scheduler's from_json sets its own where they differ (e.g. spacing).
struct ScheduleConfig {
  int64_t num_train_timesteps = 1000;
  double beta_start = 0.0001;
  double beta_end = 0.02;
  std::string beta_schedule = "linear";  // linear | scaled_linear | squaredcos_cap_v2
  std::vector<double> trained_betas;     // non-empty overrides beta_schedule
  Prediction prediction_type = Prediction::kEpsilon;
  Spacing timestep_spacing = Spacing::kLeading;
  int64_t steps_offset = 0;
  bool rescale_betas_zero_snr = false;

  // Reads the shared keys (types checked, unsupported values -> ERR_CONFIG naming the field).
  // `allowed_predictions` lists what the scheduler class implements.
  void read(models::ConfigReader& r, const std::vector<Prediction>& allowed_predictions);
};

struct StepOptions {
  double eta = 0.0;                      // DDIM only: weight of the added noise
  at::Tensor variance_noise;             // DDPM/DDIM: the N(0,1) draw to add (shape of the sample)
  std::optional<at::Generator> generator;  // otherwise drawn from this (CPU generator: drawn on CPU, then moved)
};

struct StepOutput {
  at::Tensor prev_sample;
  at::Tensor pred_original_sample;  // undefined for DPM-Solver and PNDM (diffusers returns none)
  at::Tensor variance_noise;        // the noise a stochastic step added (undefined when none)
};

class Scheduler {
 public:
  virtual ~Scheduler() = default;
  virtual std::string class_name() const = 0;  // diffusers class name, e.g. "DDIMScheduler"
  // An independent copy with the same configuration and state (a call runs on its own copy, so a
  // handle used meanwhile from JavaScript cannot race it).
  virtual std::unique_ptr<Scheduler> clone() const = 0;
  // Number of model evaluations per step() (all implemented schedulers: 1).
  int64_t order() const { return 1; }

  virtual void set_timesteps(int64_t num_inference_steps) = 0;
  // The inference timesteps after set_timesteps (integers, or float32 values for Euler), in the
  // order step() expects them. Before set_timesteps: the training timesteps, descending.
  const std::vector<double>& timesteps() const { return timesteps_; }
  // The same as diffusers holds them: int64, or float32 for Euler.
  virtual at::Tensor timesteps_tensor() const;
  // Karras-style sigmas (Euler, DPM-Solver), length timesteps()+1; empty for the others.
  const std::vector<float>& sigmas() const { return sigmas_; }
  virtual double init_noise_sigma() const { return 1.0; }
  int64_t num_inference_steps() const { return num_inference_steps_; }

  // Input scaling before the model (Euler divides by sqrt(sigma^2+1); the others return sample).
  virtual at::Tensor scale_model_input(const at::Tensor& sample, double timestep) { return sample; }
  virtual StepOutput step(const at::Tensor& model_output, double timestep, const at::Tensor& sample,
                          const StepOptions& options = {}) = 0;
  // Forward diffusion q(x_t | x_0); one timestep per batch item (int64 or float tensor).
  virtual at::Tensor add_noise(const at::Tensor& original, const at::Tensor& noise, const at::Tensor& timesteps);
  // v-prediction target sqrt(a)*noise - sqrt(1-a)*x0 (DDPM, DDIM, Euler; ERR_UNSUPPORTED elsewhere).
  virtual at::Tensor get_velocity(const at::Tensor& sample, const at::Tensor& noise, const at::Tensor& timesteps);

  const ScheduleConfig& schedule_config() const { return cfg_; }
  Prediction prediction_type() const { return cfg_.prediction_type; }
  int64_t num_train_timesteps() const { return cfg_.num_train_timesteps; }
  // float32 CPU tables, as diffusers builds them.
  const at::Tensor& betas() const { return betas_; }
  const at::Tensor& alphas_cumprod() const { return alphas_cumprod_t_; }

 protected:
  explicit Scheduler(ScheduleConfig cfg);
  void refresh_alphas_cumprod();  // after a subclass edits alphas_cumprod_t_
  // DDIM/DDPM set_timesteps: integer timesteps by the configured spacing (leading / linspace /
  // trailing, as diffusers computes them with numpy), descending; sets timesteps_ and the count.
  void set_integer_timesteps(int64_t num_inference_steps);
  // Integer timestep in [0, num_train_timesteps): ERR_ARGUMENT otherwise.
  int64_t train_index(double timestep, const char* what) const;
  // sqrt(alphas_cumprod[t]) and sqrt(1 - alphas_cumprod[t]) for a timestep tensor, shaped to
  // broadcast against `like` (diffusers' add_noise / get_velocity).
  std::pair<at::Tensor, at::Tensor> sqrt_alpha_terms(const at::Tensor& timesteps, const at::Tensor& like) const;

  ScheduleConfig cfg_;
  at::Tensor betas_;            // float32 [T]
  at::Tensor alphas_cumprod_t_;  // float32 [T]
  std::vector<float> ac_;        // host copy of alphas_cumprod
  std::vector<double> timesteps_;
  std::vector<float> sigmas_;
  int64_t num_inference_steps_ = 0;  // 0 until set_timesteps
};

// Builds a scheduler from a diffusers scheduler_config.json object. `class_name` picks the class
// ("DDPMScheduler", "DDIMScheduler", "EulerDiscreteScheduler", "DPMSolverMultistepScheduler",
// "PNDMScheduler"); empty = the config's "_class_name". Like diffusers' from_config, keys the
// class does not know are ignored, so one SD2 config can build any of them.
std::unique_ptr<Scheduler> make_scheduler(const json::Value& config, const std::string& class_name = "");
std::unique_ptr<Scheduler> make_scheduler_from_file(const std::string& path, const std::string& class_name = "");

namespace detail {
// float32 log/exp through ATen's own kernels (what diffusers' torch.log/torch.exp on float32 0-d
// tensors compute), so DPM-Solver's lambdas match to the bit.
float f32_log(float x);
float f32_exp(float x);
// ATen's float32 sqrt (torch's `x ** 0.5` on a 0-d tensor); its vectorized kernel is not always
// correctly rounded, so std::sqrt can differ from diffusers by one ulp.
float f32_sqrt(float x);
// A float32 0-d CPU tensor: diffusers' coefficients are 0-d float32 tensors, and ATen treats a
// 0-d tensor operand differently from a wrapped C++ scalar (e.g. in division), so the
// coefficients are applied the same way to get the same bits. Usable with CUDA samples too.
at::Tensor f32(float x);
// numpy helpers with numpy's exact arithmetic (linspace: i*step + start, last = stop; arange via
// start + i*delta; round half to even).
std::vector<double> np_linspace(double start, double stop, int64_t num);
std::vector<double> np_arange(double start, double stop, double step);
double np_round(double x);
// np.interp(x, arange(len(fp)), fp) for x within [0, len-1].
double np_interp_index(double x, const std::vector<float>& fp);
// Draws N(0,1) of the sample's shape/dtype/device (CPU generator: drawn on CPU, then moved).
at::Tensor draw_noise(const at::Tensor& like, const std::optional<at::Generator>& gen);
}  // namespace detail

}  // namespace da::schedulers
