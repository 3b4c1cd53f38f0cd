// SchedulerHandle: JS's handle over a diffusers-compatible noise scheduler (schedulers/). Its own
// calls are light element-wise math and run synchronously; the sampling loop and the train steps
// take the handle and run on their own copy of it (CopyOf), made when the call is made.
#pragma once
#include <ATen/core/Generator.h>
#include <napi.h>

#include <memory>
#include <string>

#include "bind/handle.h"
#include "schedulers/scheduler.h"

namespace da::bind {

struct SchedulerBox {
  std::shared_ptr<schedulers::Scheduler> scheduler;
  at::Generator generator;  // DDPM/DDIM step noise of step() (manualSeed)
};

class SchedulerHandle : public Handle<SchedulerHandle, std::shared_ptr<SchedulerBox>> {
 public:
  static constexpr const char* kClass = "SchedulerHandle";
  static constexpr napi_type_tag kTag = {0x7e9a1c3e5a7c9e1bULL, 0x4d6f8a0c2e4a6c8dULL};
  static constexpr napi_type_tag kFactoryTag = {0x0b2d4f6a8c0e2b4dULL, 0x6f8a0c2e4b6d8f1aULL};

  static void Init(Napi::Env env, Napi::Object exports);
  using Handle::Handle;

  // A copy of the scheduler behind `v` for one call (ERR_ARGUMENT / ERR_DISPOSED naming `what`).
  static std::shared_ptr<schedulers::Scheduler> CopyOf(const Napi::Value& v, const std::string& what);

 private:
  schedulers::Scheduler& sched() const { return *payload()->scheduler; }
  Napi::Value ClassName(const Napi::CallbackInfo& info);
  Napi::Value PredictionType(const Napi::CallbackInfo& info);
  Napi::Value InitNoiseSigma(const Napi::CallbackInfo& info);
  Napi::Value Order(const Napi::CallbackInfo& info);
  Napi::Value NumTrainTimesteps(const Napi::CallbackInfo& info);
  Napi::Value SetTimesteps(const Napi::CallbackInfo& info);      // setTimesteps({ steps })
  Napi::Value Timesteps(const Napi::CallbackInfo& info);
  Napi::Value Sigmas(const Napi::CallbackInfo& info);
  Napi::Value Betas(const Napi::CallbackInfo& info);
  Napi::Value AlphasCumprod(const Napi::CallbackInfo& info);
  Napi::Value ScaleModelInput(const Napi::CallbackInfo& info);   // scaleModelInput({ sample, timestep })
  Napi::Value Step(const Napi::CallbackInfo& info);              // step({ modelOutput, timestep, sample, eta?, varianceNoise? })
  Napi::Value AddNoise(const Napi::CallbackInfo& info);          // addNoise({ original, noise, timesteps })
  Napi::Value GetVelocity(const Napi::CallbackInfo& info);       // getVelocity({ sample, noise, timesteps })
  Napi::Value ManualSeed(const Napi::CallbackInfo& info);        // manualSeed({ seed })
};

}  // namespace da::bind
