// inpaint(unet, vae, scheduler, { image, mask, encoderHiddenStates, ..., onProgress?, abort? })
// -> Promise: the whole sampling loop in one native call (sampling/inpaint.h), progress per step,
// abort between steps; and createAbortToken(), the flag an AbortSignal raises.
#include <ATen/ATen.h>

#include <atomic>

#include "bind/errors.h"
#include "bind/handle.h"
#include "bind/model_handle.h"
#include "bind/options.h"
#include "bind/register.h"
#include "bind/scheduler_handle.h"
#include "bind/tensor_handle.h"
#include "bind/worker.h"
#include "core/error.h"
#include "models/unet.h"
#include "models/vae.h"
#include "sampling/inpaint.h"

namespace da::bind {
namespace {

using Flag = std::shared_ptr<std::atomic<bool>>;

// A flag JS raises (from an AbortSignal listener) and a worker thread reads.
class AbortToken : public Handle<AbortToken, Flag> {
 public:
  static constexpr const char* kClass = "AbortToken";
  static constexpr napi_type_tag kTag = {0x2b4d6f8a1c3e5a7cULL, 0x9e1b3d5f7a9c1e3bULL};
  static constexpr napi_type_tag kFactoryTag = {0x4c6e8a0b2d4f6a8cULL, 0x1d3f5b7d9f1b3d5fULL};

  static void Init(Napi::Env env) {
    Define(env, {InstanceMethod("abort", &AbortToken::Abort), InstanceAccessor("aborted", &AbortToken::Aborted, nullptr)});
  }
  using Handle::Handle;

 private:
  Napi::Value Abort(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&]() -> Napi::Value {
      payload()->store(true);
      return info.Env().Undefined();
    });
  }
  Napi::Value Aborted(const Napi::CallbackInfo& info) {
    CheckReceiver(info);
    return guarded(info.Env(), [&]() -> Napi::Value { return Napi::Boolean::New(info.Env(), payload()->load()); });
  }
};

Napi::Value result_to_js(Napi::Env env, sampling::InpaintResult& r) {
  Napi::Object o = named_tensors_to_js(env, {{"finalLatents", r.final_latents},
                                            {"imageDecoded", r.image_decoded},
                                            {"image", r.image},
                                            {"maskLatent", r.mask_latent},
                                            {"maskedImageLatents", r.masked_image_latents},
                                            {"posteriorEps", r.posterior_eps},
                                            {"maskedImage", r.masked_image},
                                            {"timesteps", r.timesteps}});
  Napi::Array steps = Napi::Array::New(env, r.steps.size());
  for (size_t i = 0; i < r.steps.size(); ++i)
    steps.Set(static_cast<uint32_t>(i), named_tensors_to_js(env, {{"unetInput", r.steps[i].unet_input},
                                                                  {"unetOutput", r.steps[i].unet_output},
                                                                  {"latents", r.steps[i].latents}}));
  o.Set("steps", steps);
  return o;
}

Napi::Value Inpaint(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    ModelPtr unet = ModelHandle::Of(info[0], models::ModelKind::kUnet, "unet");
    ModelPtr vae = ModelHandle::Of(info[1], models::ModelKind::kVae, "vae");
    std::shared_ptr<schedulers::Scheduler> scheduler = SchedulerHandle::CopyOf(info[2], "scheduler");
    Options o(info[3], "request");
    sampling::InpaintRequest r = read_inpaint(o);
    Napi::Function on_progress = o.function("onProgress");
    Flag abort = o.has("abort") ? AbortToken::From(o.value("abort"), "request.abort") : nullptr;
    o.finish();
    return run_async<sampling::InpaintResult>(
        env,
        [unet, vae, scheduler, r, abort](const Report& report) {
          ModelLocks lock({unet, vae});
          if (abort && abort->load()) fail(code::kAborted, "sampling was aborted before it started");
          return sampling::inpaint(unet->model.as<models::UNet2DConditionModelImpl>(), vae->model.as<models::AutoencoderKLImpl>(), *scheduler, r,
                                   [&](int64_t step, int64_t total) {
                                     report(step, total);
                                     return !(abort && abort->load());
                                   });
        },
        result_to_js, Lane::kCompute, on_progress);
  });
}

Napi::Value CreateAbortToken(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value { return AbortToken::Wrap(info.Env(), std::make_shared<std::atomic<bool>>(false)); });
}

}  // namespace

void register_inpaint(Napi::Env env, Napi::Object exports) {
  AbortToken::Init(env);
  exports.Set("inpaint", Napi::Function::New(env, Inpaint, "inpaint"));
  exports.Set("createAbortToken", Napi::Function::New(env, CreateAbortToken, "createAbortToken"));
}

}  // namespace da::bind
