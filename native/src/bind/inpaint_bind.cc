// inpaint(unet, vae, schedulerConfig, className, request, onProgress?, abortToken?) -> Promise:
// the whole sampling loop in one native call, progress per step, abort between steps.
#include <ATen/ATen.h>

#include <atomic>

#include "bind/wrap_guard.h"
#include "bind/addon_data.h"
#include "bind/args.h"
#include "bind/async.h"
#include "bind/compute_thread.h"
#include "bind/errors.h"
#include "bind/model_handle.h"
#include "bind/options.h"
#include "bind/register.h"
#include "bind/tensor_handle.h"
#include "bind/threads.h"
#include "core/error.h"
#include "core/json.h"
#include "models/unet.h"
#include "models/vae.h"
#include "sampling/inpaint.h"
#include "schedulers/scheduler.h"

namespace da::bind {
namespace {

const napi_type_tag kAbortTokenTag = {0x2b4d6f8a1c3e5a7cULL, 0x9e1b3d5f7a9c1e3bULL};

// A flag JS can raise (from an AbortSignal listener) and a worker thread can read.
class AbortToken : public Napi::ObjectWrap<AbortToken> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "AbortToken", {InstanceMethod("abort", &AbortToken::Abort),
                                           InstanceAccessor("aborted", &AbortToken::Aborted, nullptr)});
  }
  explicit AbortToken(const Napi::CallbackInfo& info) : Napi::ObjectWrap<AbortToken>(info), flag_(std::make_shared<std::atomic<bool>>(false)) {
    info.This().As<Napi::Object>().TypeTag(&kAbortTokenTag);
  }
  static bool IsToken(const Napi::Object& o) { return o.CheckTypeTag(&kAbortTokenTag); }
  std::shared_ptr<std::atomic<bool>> flag() const { return flag_; }

 private:
  Napi::Value Abort(const Napi::CallbackInfo& info) {
    flag_->store(true);
    return info.Env().Undefined();
  }
  Napi::Value Aborted(const Napi::CallbackInfo& info) {
    check_receiver(info, &kAbortTokenTag, "AbortToken");
    return Napi::Boolean::New(info.Env(), flag_->load());
  }
  std::shared_ptr<std::atomic<bool>> flag_;
};

struct Progress {
  int64_t step, total;
};

class InpaintWorker : public Napi::AsyncProgressQueueWorker<Progress> {
 public:
  InpaintWorker(Napi::Env env, std::shared_ptr<ModelBox> unet, std::shared_ptr<ModelBox> vae,
                std::shared_ptr<schedulers::Scheduler> sched, sampling::InpaintRequest req,
                Napi::Function on_progress, std::shared_ptr<std::atomic<bool>> abort)
      : Napi::AsyncProgressQueueWorker<Progress>(env), unet_(std::move(unet)), vae_(std::move(vae)),
        sched_(std::move(sched)), req_(std::move(req)), abort_(std::move(abort)),
        deferred_(Napi::Promise::Deferred::New(env)) {
    if (!on_progress.IsEmpty()) progress_cb_ = Napi::Persistent(on_progress);
  }
  Napi::Promise promise() { return deferred_.Promise(); }

 protected:
  void Execute(const ExecutionProgress& progress) override {
    run_captured_on_compute_thread([&] {
      try {
        // Lock both models in a fixed order (unet, then vae) so two loops cannot deadlock.
        std::scoped_lock lock(unet_->mutex, vae_->mutex);
        if (abort_ && abort_->load()) fail(code::kAborted, "sampling was aborted before it started");
        auto unet = ModelHandle::Typed<models::UNet2DConditionModelImpl>(unet_);
        auto vae = ModelHandle::Typed<models::AutoencoderKLImpl>(vae_);
        result_ = sampling::inpaint(*unet, *vae, *sched_, req_, [&](int64_t step, int64_t total) {
          Progress p{step, total};
          progress.Send(&p, 1);  // thread-safe: queued to the JS thread
          return !(abort_ && abort_->load());
        });
      } catch (...) {
        error_ = capture_current_exception();
      }
    }, error_);
  }
  void OnProgress(const Progress* data, size_t count) override {
    if (progress_cb_.IsEmpty() || !count) return;
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    try {
      progress_cb_.Call({Napi::Number::New(env, static_cast<double>(data[count - 1].step)),
                         Napi::Number::New(env, static_cast<double>(data[count - 1].total))});
    } catch (...) {
      // A throwing progress callback must not take the process down; the loop goes on.
    }
  }
  void OnOK() override {
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    if (error_.set()) {
      deferred_.Reject(make_error(env, error_.code, error_.message).Value());
      return;
    }
    Napi::Object o = Napi::Object::New(env);
    auto put = [&](const char* k, const at::Tensor& t) {
      if (t.defined()) o.Set(k, TensorHandle::Wrap(env, t));
    };
    put("finalLatents", result_.final_latents);
    put("imageDecoded", result_.image_decoded);
    put("image", result_.image);
    put("maskLatent", result_.mask_latent);
    put("maskedImageLatents", result_.masked_image_latents);
    put("posteriorEps", result_.posterior_eps);
    put("maskedImage", result_.masked_image);
    put("timesteps", result_.timesteps);
    Napi::Array steps = Napi::Array::New(env, result_.steps.size());
    for (size_t i = 0; i < result_.steps.size(); ++i) {
      Napi::Object s = Napi::Object::New(env);
      s.Set("unetInput", TensorHandle::Wrap(env, result_.steps[i].unet_input));
      s.Set("unetOutput", TensorHandle::Wrap(env, result_.steps[i].unet_output));
      s.Set("latents", TensorHandle::Wrap(env, result_.steps[i].latents));
      steps.Set(static_cast<uint32_t>(i), s);
    }
    o.Set("steps", steps);
    deferred_.Resolve(o);
  }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  std::shared_ptr<ModelBox> unet_, vae_;
  std::shared_ptr<schedulers::Scheduler> sched_;
  sampling::InpaintRequest req_;
  std::shared_ptr<std::atomic<bool>> abort_;
  Napi::FunctionReference progress_cb_;
  Napi::Promise::Deferred deferred_;
  sampling::InpaintResult result_;
  CapturedError error_;
};

Napi::FunctionReference& abort_ctor_ref(Napi::Env env) { return addon_data(env).abort_token_class; }

Napi::Value Inpaint(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    auto unet = ModelHandle::FromValue(info[0], "unet", "unet");
    auto vae = ModelHandle::FromValue(info[1], "vae", "vae");
    std::string cfg = get_string(info[2], "schedulerConfig");
    std::string cls = info[3].IsString() ? info[3].As<Napi::String>().Utf8Value() : "";
    std::shared_ptr<schedulers::Scheduler> sched = schedulers::make_scheduler(json::parse(cfg, code::kConfig), cls);
    Napi::Object o = get_object(info[4], "request");
    sampling::InpaintRequest r;
    r.image = field_tensor(o, "image");
    r.mask = field_tensor(o, "mask");
    r.encoder_hidden_states = field_tensor(o, "encoderHiddenStates");
    r.negative_encoder_hidden_states = field_tensor(o, "negativeEncoderHiddenStates", false);
    r.latents = field_tensor(o, "latents", false);
    r.num_inference_steps = field_int(o, "steps", 1, 1000).value_or(50);
    r.guidance_scale = field_number(o, "guidanceScale").value_or(1.0);
    r.masked_fill = field_number(o, "maskedFill").value_or(-1.0);
    r.eta = field_number(o, "eta").value_or(0.0);
    r.seed = static_cast<uint64_t>(field_int(o, "seed", 0, (int64_t{1} << 53) - 1).value_or(0));
    r.keep_intermediates = field_bool(o, "keepIntermediates").value_or(false);
    Napi::Function cb;
    if (info.Length() > 5 && info[5].IsFunction()) cb = info[5].As<Napi::Function>();
    std::shared_ptr<std::atomic<bool>> flag;
    if (info.Length() > 6 && info[6].IsObject()) {
      Napi::Object tok = info[6].As<Napi::Object>();
      if (!AbortToken::IsToken(tok)) fail(code::kArgument, "abort token must come from createAbortToken()");
      flag = AbortToken::Unwrap(tok)->flag();
    }
    auto* w = new InpaintWorker(env, unet, vae, sched, r, cb, flag);
    Napi::Promise p = w->promise();
    w->Queue();
    return p;
  });
}

Napi::Value CreateAbortToken(const Napi::CallbackInfo& info) {
  return abort_ctor_ref(info.Env()).New({});
}

}  // namespace

void register_inpaint(Napi::Env env, Napi::Object exports) {
  abort_ctor_ref(env) = Napi::Persistent(AbortToken::Define(env));
  exports.Set("inpaint", Napi::Function::New(env, Inpaint, "inpaint"));
  exports.Set("createAbortToken", Napi::Function::New(env, CreateAbortToken, "createAbortToken"));
}

}  // namespace da::bind
