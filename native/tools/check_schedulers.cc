// Scheduler parity against scheduler/ (diffusers): tables, timesteps and sigmas for every N,
// 5-step trajectories for epsilon and v prediction, add_noise, get_velocity; config errors.
#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "core/error.h"
#include "core/json.h"
#include "harness.h"
#include "io/safetensors.h"
#include "schedulers/ddim.h"
#include "schedulers/ddpm.h"
#include "schedulers/pndm.h"
#include "schedulers/scheduler.h"

namespace {

using da::json::Value;
namespace sch = da::schedulers;

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) da::fail(da::code::kIo, "cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Python's json writes -Infinity/Infinity/NaN, which strict JSON (and our reader) rejects; the
// only such field here is lambda_min_clipped, where null means the same (-inf) to our reader.
std::string python_json_to_strict(std::string s) {
  for (const char* tok : {"-Infinity", "Infinity", "NaN"}) {
    size_t p;
    while ((p = s.find(tok)) != std::string::npos) s.replace(p, std::strlen(tok), "null");
  }
  return s;
}

const Value& at_key(const Value& v, const std::string& k) {
  const Value* r = v.find(k);
  if (!r) da::fail(da::code::kConfig, "schedulers.json: missing key " + k);
  return *r;
}


struct SchedKind {
  const char* key;
  const char* cls;
  bool has_x0;      // step returns pred_original_sample
  bool has_sigmas;  // Euler / DPM
  bool has_final_ac;
};

const SchedKind kKinds[] = {
    {"ddim", "DDIMScheduler", true, false, true},
    {"ddpm", "DDPMScheduler", true, false, false},
    {"euler", "EulerDiscreteScheduler", true, true, false},
    {"dpmpp2m", "DPMSolverMultistepScheduler", false, true, false},
    {"pndm", "PNDMScheduler", false, false, true},
};

}  // namespace

DA_CHECK("parity.scheduler") {
  auto io = da::io::SafetensorsFile::open(ctx.path("scheduler/io.safetensors"));
  Value meta = da::json::parse(python_json_to_strict(slurp(ctx.path("scheduler/schedulers.json"))), da::code::kConfig);
  auto dev = ctx.device;
  auto load = [&](const std::string& k) { return io->load(k); };
  const double kTrajAtol = 1e-5, kTrajRtol = 1e-6;

  const at::Tensor x_T = load("input.x_T").to(dev);
  const at::Tensor C = load("input.C").to(dev);
  const at::Tensor x0 = load("input.x0").to(dev);
  const at::Tensor noise = load("input.noise").to(dev);
  const at::Tensor an_ts = load("input.add_noise_timesteps");
  const int64_t traj_steps = at_key(meta, "trajectory_steps").as_int();
  const uint64_t ddpm_seed = at_key(meta, "ddpm_step_generator_seed").as_uint();

  for (const SchedKind& k : kKinds) {
    for (const char* variant : {"eps", "v"}) {
      const std::string pre = std::string(k.key) + "." + variant + ".";
      if (!io->has(pre + "trajectory.final")) continue;
      const Value& cfg = at_key(at_key(at_key(meta, "configs"), k.key), variant);
      std::unique_ptr<sch::Scheduler> s = sch::make_scheduler(cfg, k.cls);

      // Tables.
      if (io->has(pre + "betas")) ctx.compare(pre + "betas", s->betas(), load(pre + "betas"), 0);
      if (io->has(pre + "alphas_cumprod")) ctx.compare(pre + "alphas_cumprod", s->alphas_cumprod(), load(pre + "alphas_cumprod"), 0);
      if (io->has(pre + "final_alpha_cumprod")) {
        float fac = std::string(k.key) == "ddim" ? static_cast<sch::DDIMScheduler&>(*s).final_alpha_cumprod()
                                                 : static_cast<sch::PNDMScheduler&>(*s).final_alpha_cumprod();
        ctx.compare(pre + "final_alpha_cumprod", at::scalar_tensor(fac, at::kFloat), load(pre + "final_alpha_cumprod"), 0);
      }
      // Timesteps, sigmas and init_noise_sigma for every N.
      for (const Value& nv : at_key(meta, "set_timesteps_N").as_array()) {
        const int64_t n = nv.as_int();
        const std::string ns = std::to_string(n);
        s->set_timesteps(n);
        if (io->has(pre + "timesteps.N" + ns))
          ctx.compare(pre + "timesteps.N" + ns, s->timesteps_tensor(), load(pre + "timesteps.N" + ns), 0);
        if (io->has(pre + "sigmas.N" + ns))
          ctx.compare(pre + "sigmas.N" + ns, at::tensor(s->sigmas(), at::kFloat), load(pre + "sigmas.N" + ns), 0, 1e-7);  // host float32 math: ~1 ulp across CPUs/libtorch versions
        if (std::string(variant) == "eps") {
          double ins = at_key(at_key(at_key(meta, "init_noise_sigma"), k.key), ns).as_double();
          ctx.compare(pre + "init_noise_sigma.N" + ns, at::scalar_tensor(s->init_noise_sigma(), at::kDouble),
                      at::scalar_tensor(ins, at::kDouble), 0, 1e-7);
        }
      }

      // add_noise / get_velocity (on a fresh schedule of trajectory length for Euler/DPM).
      s = sch::make_scheduler(cfg, k.cls);
      if (io->has(pre + "add_noise")) {
        at::Tensor ts = an_ts;
        if (k.has_sigmas) {
          s->set_timesteps(traj_steps);
          at::Tensor sched_ts = s->timesteps_tensor();
          ts = sched_ts.index_select(0, at::arange(x0.size(0), at::kLong).remainder(sched_ts.size(0)));
          ctx.compare(pre + "add_noise.timesteps", ts, load(pre + "add_noise.timesteps"), 0);
        }
        ctx.compare(pre + "add_noise", s->add_noise(x0, noise, ts), load(pre + "add_noise"), 1e-6, 1e-6);
      }
      if (io->has(pre + "get_velocity"))
        ctx.compare(pre + "get_velocity", s->get_velocity(x0, noise, an_ts), load(pre + "get_velocity"), 1e-6, 1e-6);

      // Trajectory: a fresh scheduler, set_timesteps(5), the fake model of schedulers.json.
      s = sch::make_scheduler(cfg, k.cls);
      s->set_timesteps(traj_steps);
      const std::string tp = pre + "trajectory.";
      ctx.compare(tp + "timesteps", s->timesteps_tensor(), load(tp + "timesteps"), 0);
      if (io->has(tp + "sigmas")) ctx.compare(tp + "sigmas", at::tensor(s->sigmas(), at::kFloat), load(tp + "sigmas"), 0, 1e-7);
      ctx.compare(tp + "init_noise_sigma", at::scalar_tensor(s->init_noise_sigma(), at::kDouble), load(tp + "init_noise_sigma"), 0);
      at::Tensor sample = x_T * s->init_noise_sigma();
      ctx.compare(tp + "x_init", sample, load(tp + "x_init"), 0);
      auto gen = at::make_generator<at::CPUGeneratorImpl>(ddpm_seed);
      bool drawn_noise_matches = true;
      double worst_prev = 0;
      const std::vector<double> ts = s->timesteps();
      for (size_t i = 0; i < ts.size(); ++i) {
        const std::string sp = tp + "step" + std::to_string(i) + ".";
        const double t = ts[i];
        at::Tensor model_input = s->scale_model_input(sample, t);
        at::Tensor model_output = model_input * 0.1 + C * (t / 1000.0);
        if (io->has(sp + "model_input")) ctx.compare(sp + "model_input", model_input, load(sp + "model_input"), kTrajAtol, kTrajRtol);
        ctx.compare(sp + "model_output", model_output, load(sp + "model_output"), kTrajAtol, kTrajRtol);
        sch::StepOptions opt;
        if (io->has(sp + "variance_noise")) {
          // The seeded generator must reproduce the stored draw; the stored draw drives the step.
          at::Tensor drawn = at::randn(model_output.sizes(), gen, at::TensorOptions().dtype(at::kFloat));
          at::Tensor want = load(sp + "variance_noise");
          drawn_noise_matches = drawn_noise_matches && at::equal(drawn, want);
          opt.variance_noise = want.to(dev);
        }
        sch::StepOutput out = s->step(model_output, t, sample, opt);
        ctx.compare(sp + "prev_sample", out.prev_sample, load(sp + "prev_sample"), kTrajAtol, kTrajRtol);
        worst_prev = std::max(worst_prev, (out.prev_sample.cpu() - load(sp + "prev_sample")).abs().max().item<double>());
        if (k.has_x0)
          ctx.compare(sp + "pred_original_sample", out.pred_original_sample, load(sp + "pred_original_sample"), kTrajAtol, kTrajRtol);
        if (io->has(sp + "variance_noise"))
          ctx.expect(sp + "variance_noise used", out.variance_noise.defined(), "");
        sample = out.prev_sample;
      }
      ctx.compare(tp + "final", sample, load(tp + "final"), kTrajAtol, kTrajRtol);
      if (std::string(k.key) == "ddpm")
        ctx.expect(tp + "seeded generator reproduces variance_noise", drawn_noise_matches,
                   "torch.Generator().manual_seed(" + std::to_string(ddpm_seed) + ") shared by the steps");
      std::printf("    %s: worst prev_sample max_abs %.3e over %zu steps\n", tp.c_str(), worst_prev, ts.size());
    }
  }

  // DDPM with a generator instead of supplied noise: same trajectory as with the stored noise.
  {
    const Value& cfg = at_key(at_key(at_key(meta, "configs"), "ddpm"), "eps");
    auto s = sch::make_scheduler(cfg, "DDPMScheduler");
    s->set_timesteps(traj_steps);
    at::Tensor sample = x_T.cpu();
    sch::StepOptions opt;
    opt.generator = at::make_generator<at::CPUGeneratorImpl>(ddpm_seed);
    for (double t : s->timesteps()) sample = s->step(sample * 0.1 + C.cpu() * (t / 1000.0), t, sample, opt).prev_sample;
    ctx.compare("ddpm.eps.trajectory.final (seeded generator)", sample, load("ddpm.eps.trajectory.final"), kTrajAtol, kTrajRtol);
  }

  // Unsupported config values are ERR_CONFIG errors naming the field.
  struct Bad {
    const char* cls;
    const char* json;
    const char* field;
  };
  const Bad bad[] = {
      {"DDPMScheduler", R"({"beta_schedule": "sigmoid"})", "beta_schedule"},
      {"DDPMScheduler", R"({"variance_type": "learned_range"})", "variance_type"},
      {"DDIMScheduler", R"({"prediction_type": "flow_prediction"})", "prediction_type"},
      {"DDIMScheduler", R"({"thresholding": true})", "thresholding"},
      {"EulerDiscreteScheduler", R"({"use_karras_sigmas": true})", "use_karras_sigmas"},
      {"DPMSolverMultistepScheduler", R"({"algorithm_type": "sde-dpmsolver++"})", "algorithm_type"},
      {"DPMSolverMultistepScheduler", R"({"solver_order": 3})", "solver_order"},
      {"PNDMScheduler", R"({"skip_prk_steps": false})", "skip_prk_steps"},
      {"PNDMScheduler", R"({"timestep_spacing": "karras"})", "timestep_spacing"},
      {"LMSDiscreteScheduler", R"({})", "LMSDiscreteScheduler"},
  };
  for (const Bad& b : bad) {
    std::string got;
    try {
      sch::make_scheduler(da::json::parse(b.json, da::code::kConfig), b.cls);
      got = "no error";
    } catch (const da::Error& e) {
      got = e.code() + ": " + e.what();
      bool ok = e.code() == da::code::kConfig && std::string(e.what()).find(b.field) != std::string::npos;
      ctx.expect(std::string("config error ") + b.cls + " " + b.json, ok, got);
      continue;
    }
    ctx.expect(std::string("config error ") + b.cls + " " + b.json, false, got);
  }
}
