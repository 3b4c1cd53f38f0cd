// createScheduler({ config, className? }) and the SchedulerHandle's calls.
#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include "bind/args.h"
#include "bind/errors.h"
#include "bind/options.h"
#include "bind/register.h"
#include "bind/scheduler_handle.h"
#include "bind/tensor_handle.h"
#include "core/error.h"
#include "core/json.h"

namespace da::bind {

void SchedulerHandle::Init(Napi::Env env, Napi::Object exports) {
  Define(env, {
                  InstanceAccessor("className", &SchedulerHandle::ClassName, nullptr),
                  InstanceAccessor("predictionType", &SchedulerHandle::PredictionType, nullptr),
                  InstanceAccessor("initNoiseSigma", &SchedulerHandle::InitNoiseSigma, nullptr),
                  InstanceAccessor("order", &SchedulerHandle::Order, nullptr),
                  InstanceAccessor("numTrainTimesteps", &SchedulerHandle::NumTrainTimesteps, nullptr),
                  InstanceMethod("setTimesteps", &SchedulerHandle::SetTimesteps),
                  InstanceMethod("timesteps", &SchedulerHandle::Timesteps),
                  InstanceMethod("sigmas", &SchedulerHandle::Sigmas),
                  InstanceMethod("betas", &SchedulerHandle::Betas),
                  InstanceMethod("alphasCumprod", &SchedulerHandle::AlphasCumprod),
                  InstanceMethod("scaleModelInput", &SchedulerHandle::ScaleModelInput),
                  InstanceMethod("step", &SchedulerHandle::Step),
                  InstanceMethod("addNoise", &SchedulerHandle::AddNoise),
                  InstanceMethod("getVelocity", &SchedulerHandle::GetVelocity),
                  InstanceMethod("manualSeed", &SchedulerHandle::ManualSeed),
              });
  (void)exports;
}

std::shared_ptr<schedulers::Scheduler> SchedulerHandle::CopyOf(const Napi::Value& v, const std::string& what) {
  return From(v, what)->scheduler->clone();
}

// Accessors read the receiver's scheduler (the receiver checked first: see bind/handle.h).
#define DA_SCHEDULER_GETTER(Method, expr)                                       \
  Napi::Value SchedulerHandle::Method(const Napi::CallbackInfo& info) {         \
    CheckReceiver(info);                                                        \
    Napi::Env env = info.Env();                                                 \
    return guarded(env, [&]() -> Napi::Value { return expr; });                 \
  }
DA_SCHEDULER_GETTER(ClassName, Napi::String::New(env, sched().class_name()))
DA_SCHEDULER_GETTER(PredictionType, Napi::String::New(env, schedulers::to_string(sched().prediction_type())))
DA_SCHEDULER_GETTER(InitNoiseSigma, Napi::Number::New(env, sched().init_noise_sigma()))
DA_SCHEDULER_GETTER(Order, Napi::Number::New(env, static_cast<double>(sched().order())))
DA_SCHEDULER_GETTER(NumTrainTimesteps, Napi::Number::New(env, static_cast<double>(sched().num_train_timesteps())))
DA_SCHEDULER_GETTER(Timesteps, TensorHandle::Wrap(env, sched().timesteps_tensor()))
DA_SCHEDULER_GETTER(Sigmas, TensorHandle::Wrap(env, at::tensor(std::vector<float>(sched().sigmas().begin(), sched().sigmas().end()), at::kFloat)))
DA_SCHEDULER_GETTER(Betas, TensorHandle::Wrap(env, sched().betas().clone()))
DA_SCHEDULER_GETTER(AlphasCumprod, TensorHandle::Wrap(env, sched().alphas_cumprod().clone()))
#undef DA_SCHEDULER_GETTER

Napi::Value SchedulerHandle::SetTimesteps(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    Options o(info[0], "options");
    auto steps = o.integer("steps", 1, sched().num_train_timesteps());
    o.finish();
    if (!steps) fail(code::kArgument, "options.steps is required");
    sched().set_timesteps(*steps);
    return env.Undefined();
  });
}

namespace {
double required_number(Options& o, const char* key) {
  auto v = o.number(key);
  if (!v) fail(code::kArgument, std::string("options.") + key + " is required");
  return *v;
}
}  // namespace

Napi::Value SchedulerHandle::ScaleModelInput(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    Options o(info[0], "options");
    at::Tensor s = o.tensor("sample");
    double t = required_number(o, "timestep");
    o.finish();
    return TensorHandle::Wrap(env, sched().scale_model_input(s, t));
  });
}

Napi::Value SchedulerHandle::Step(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    Options o(info[0], "options");
    at::Tensor out = o.tensor("modelOutput");
    double t = required_number(o, "timestep");
    at::Tensor sample = o.tensor("sample");
    schedulers::StepOptions so = read_scheduler_step(o);
    o.finish();
    if (out.sizes() != sample.sizes()) fail(code::kShape, "modelOutput and sample must have the same shape");
    if (so.variance_noise.defined() && so.variance_noise.sizes() != sample.sizes()) fail(code::kShape, "varianceNoise must have the sample's shape");
    so.generator = payload()->generator;
    schedulers::StepOutput r = sched().step(out, t, sample, so);
    return named_tensors_to_js(env, {{"prevSample", r.prev_sample}, {"predOriginalSample", r.pred_original_sample}, {"varianceNoise", r.variance_noise}});
  });
}

namespace {
// (x0, noise, timesteps) of addNoise / getVelocity, checked.
std::tuple<at::Tensor, at::Tensor, at::Tensor> noise_args(const Napi::Value& v, const char* first) {
  Options o(v, "options");
  at::Tensor x0 = o.tensor(first);
  at::Tensor noise = o.tensor("noise");
  at::Tensor ts = o.tensor("timesteps");
  o.finish();
  if (x0.sizes() != noise.sizes()) fail(code::kShape, std::string(first) + " and noise must have the same shape");
  if (ts.dim() != 1 || ts.size(0) != x0.size(0)) fail(code::kShape, "timesteps must be [B], one per batch item");
  return {x0, noise, ts};
}
}  // namespace

Napi::Value SchedulerHandle::AddNoise(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    auto [x0, noise, ts] = noise_args(info[0], "original");
    return TensorHandle::Wrap(env, sched().add_noise(x0, noise, ts));
  });
}

Napi::Value SchedulerHandle::GetVelocity(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    auto [x0, noise, ts] = noise_args(info[0], "sample");
    return TensorHandle::Wrap(env, sched().get_velocity(x0, noise, ts));
  });
}

Napi::Value SchedulerHandle::ManualSeed(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    Options o(info[0], "options");
    auto seed = o.seed("seed");
    o.finish();
    if (!seed) fail(code::kArgument, "options.seed is required");
    payload()->generator = at::detail::createCPUGenerator(*seed);
    return env.Undefined();
  });
}

namespace {

// createScheduler({ config: the text of a scheduler_config.json, className? }): like diffusers'
// from_config, `className` (default: the config's _class_name) picks the class and keys that
// class does not use are ignored.
Napi::Value CreateScheduler(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    Options o(info[0], "options");
    std::string config = o.string("config").value_or("");
    std::string cls = o.string("className").value_or("");
    o.finish();
    auto box = std::make_shared<SchedulerBox>();
    box->scheduler = schedulers::make_scheduler(json::parse(config, code::kConfig), cls);
    box->generator = at::detail::createCPUGenerator(0);
    return SchedulerHandle::Wrap(env, box);
  });
}

}  // namespace

void register_scheduler(Napi::Env env, Napi::Object exports) {
  SchedulerHandle::Init(env, exports);
  exports.Set("createScheduler", Napi::Function::New(env, CreateScheduler, "createScheduler"));
}

}  // namespace da::bind
