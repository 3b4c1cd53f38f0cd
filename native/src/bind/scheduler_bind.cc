// SchedulerHandle: the diffusers-compatible noise schedulers. Their calls are light element-wise
// tensor math, so they run synchronously; the sampling loop itself runs natively (inpaint_bind).
#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include "bind/addon_data.h"
#include "bind/args.h"
#include "bind/errors.h"
#include "bind/options.h"
#include "bind/register.h"
#include "bind/tensor_handle.h"
#include "bind/wrap_guard.h"
#include "core/error.h"
#include "core/json.h"
#include "schedulers/scheduler.h"

namespace da::bind {
namespace {

const napi_type_tag kSchedulerTag = {0x7e9a1c3e5a7c9e1bULL, 0x4d6f8a0c2e4a6c8dULL};
const napi_type_tag kSchedulerFactoryTag = {0x0b2d4f6a8c0e2b4dULL, 0x6f8a0c2e4b6d8f1aULL};

class SchedulerHandle : public Napi::ObjectWrap<SchedulerHandle> {
 public:
  static void Init(Napi::Env env, Napi::Object exports) {
    Napi::Function cls = DefineClass(env, "SchedulerHandle", {
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
    addon_data(env).scheduler_class = Napi::Persistent(cls);
    exports.Set("createScheduler", Napi::Function::New(env, Create, "createScheduler"));
  }

  explicit SchedulerHandle(const Napi::CallbackInfo& info) : Napi::ObjectWrap<SchedulerHandle>(info) {
    sched_ = *factory_data<std::shared_ptr<schedulers::Scheduler>>(info, &kSchedulerFactoryTag, "use createScheduler(config, className)");
    info.This().As<Napi::Object>().TypeTag(&kSchedulerTag);
    gen_ = at::detail::createCPUGenerator(0);
  }

 private:
  static Napi::Value Create(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    return guarded(env, [&]() -> Napi::Value {
      std::string cfg = get_string(info[0], "config");
      std::string cls = info.Length() > 1 && info[1].IsString() ? info[1].As<Napi::String>().Utf8Value() : "";
      std::shared_ptr<schedulers::Scheduler> s = schedulers::make_scheduler(json::parse(cfg, code::kConfig), cls);
      return addon_data(env).scheduler_class.New({tagged_external(env, &s, &kSchedulerFactoryTag)});
    });
  }

  Napi::Value ClassName(const Napi::CallbackInfo& info) {
    check_receiver(info, &kSchedulerTag, "SchedulerHandle");
    return Napi::String::New(info.Env(), sched_->class_name());
  }
  Napi::Value PredictionType(const Napi::CallbackInfo& info) {
    check_receiver(info, &kSchedulerTag, "SchedulerHandle");
    return Napi::String::New(info.Env(), schedulers::to_string(sched_->prediction_type()));
  }
  Napi::Value InitNoiseSigma(const Napi::CallbackInfo& info) {
    check_receiver(info, &kSchedulerTag, "SchedulerHandle");
    return Napi::Number::New(info.Env(), sched_->init_noise_sigma());
  }
  Napi::Value Order(const Napi::CallbackInfo& info) {
    check_receiver(info, &kSchedulerTag, "SchedulerHandle");
    return Napi::Number::New(info.Env(), static_cast<double>(sched_->order()));
  }
  Napi::Value NumTrainTimesteps(const Napi::CallbackInfo& info) {
    check_receiver(info, &kSchedulerTag, "SchedulerHandle");
    return Napi::Number::New(info.Env(), static_cast<double>(sched_->num_train_timesteps()));
  }

  Napi::Value SetTimesteps(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    return guarded(env, [&]() -> Napi::Value {
      sched_->set_timesteps(get_int(info[0], "numInferenceSteps", 1, sched_->num_train_timesteps()));
      return env.Undefined();
    });
  }
  Napi::Value Timesteps(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    return guarded(env, [&]() -> Napi::Value { return TensorHandle::Wrap(env, sched_->timesteps_tensor()); });
  }
  Napi::Value Sigmas(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    return guarded(env, [&]() -> Napi::Value {
      const auto& s = sched_->sigmas();
      return TensorHandle::Wrap(env, at::tensor(std::vector<float>(s.begin(), s.end()), at::kFloat));
    });
  }
  Napi::Value Betas(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    return guarded(env, [&]() -> Napi::Value { return TensorHandle::Wrap(env, sched_->betas().clone()); });
  }
  Napi::Value AlphasCumprod(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    return guarded(env, [&]() -> Napi::Value { return TensorHandle::Wrap(env, sched_->alphas_cumprod().clone()); });
  }
  Napi::Value ScaleModelInput(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    return guarded(env, [&]() -> Napi::Value {
      at::Tensor s = TensorHandle::FromValue(info[0], "sample");
      double t = get_number(info[1], "timestep");
      return TensorHandle::Wrap(env, sched_->scale_model_input(s, t));
    });
  }
  Napi::Value Step(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    return guarded(env, [&]() -> Napi::Value {
      at::Tensor out = TensorHandle::FromValue(info[0], "modelOutput");
      double t = get_number(info[1], "timestep");
      at::Tensor sample = TensorHandle::FromValue(info[2], "sample");
      if (out.sizes() != sample.sizes()) fail(code::kShape, "modelOutput and sample must have the same shape");
      schedulers::StepOptions so;
      if (info.Length() > 3 && info[3].IsObject()) {
        Napi::Object o = info[3].As<Napi::Object>();
        so.eta = field_number(o, "eta").value_or(0.0);
        so.variance_noise = field_tensor(o, "varianceNoise", false);
        if (so.variance_noise.defined() && so.variance_noise.sizes() != sample.sizes())
          fail(code::kShape, "varianceNoise must have the sample's shape");
      }
      so.generator = gen_;
      schedulers::StepOutput r = sched_->step(out, t, sample, so);
      Napi::Object res = Napi::Object::New(env);
      res.Set("prevSample", TensorHandle::Wrap(env, r.prev_sample));
      if (r.pred_original_sample.defined()) res.Set("predOriginalSample", TensorHandle::Wrap(env, r.pred_original_sample));
      if (r.variance_noise.defined()) res.Set("varianceNoise", TensorHandle::Wrap(env, r.variance_noise));
      return res;
    });
  }
  Napi::Value AddNoise(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    return guarded(env, [&]() -> Napi::Value {
      at::Tensor x0 = TensorHandle::FromValue(info[0], "original");
      at::Tensor noise = TensorHandle::FromValue(info[1], "noise");
      at::Tensor ts = TensorHandle::FromValue(info[2], "timesteps");
      if (x0.sizes() != noise.sizes()) fail(code::kShape, "original and noise must have the same shape");
      if (ts.dim() != 1 || ts.size(0) != x0.size(0)) fail(code::kShape, "timesteps must be [B], one per batch item");
      return TensorHandle::Wrap(env, sched_->add_noise(x0, noise, ts));
    });
  }
  Napi::Value GetVelocity(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    return guarded(env, [&]() -> Napi::Value {
      at::Tensor x0 = TensorHandle::FromValue(info[0], "sample");
      at::Tensor noise = TensorHandle::FromValue(info[1], "noise");
      at::Tensor ts = TensorHandle::FromValue(info[2], "timesteps");
      if (x0.sizes() != noise.sizes()) fail(code::kShape, "sample and noise must have the same shape");
      if (ts.dim() != 1 || ts.size(0) != x0.size(0)) fail(code::kShape, "timesteps must be [B], one per batch item");
      return TensorHandle::Wrap(env, sched_->get_velocity(x0, noise, ts));
    });
  }
  Napi::Value ManualSeed(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    return guarded(env, [&]() -> Napi::Value {
      gen_ = at::detail::createCPUGenerator(static_cast<uint64_t>(get_int(info[0], "seed", 0, (int64_t{1} << 53) - 1)));
      return env.Undefined();
    });
  }

  std::shared_ptr<schedulers::Scheduler> sched_;
  at::Generator gen_;
};

}  // namespace

void register_scheduler(Napi::Env env, Napi::Object exports) { SchedulerHandle::Init(env, exports); }

}  // namespace da::bind
