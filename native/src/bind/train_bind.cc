// Training over native/src/train: createTrainer(model, { ..., processGroup?, glyphProjection? })
// makes a TrainerHandle (AdamW + optional EMA + the generator of every random draw, over a model's
// trainable parameters); its calls take one optimizer step over k micro-batches (vaeStep,
// unetStep) and save / restore the trainer state. The trainer keeps its models alive.
#include <ATen/ATen.h>
#include <torch/autograd.h>

#include <atomic>
#include <filesystem>
#include <functional>
#include <mutex>

#include "bind/errors.h"
#include "bind/handle.h"
#include "bind/model_handle.h"
#include "bind/options.h"
#include "bind/process_group_handle.h"
#include "bind/register.h"
#include "bind/scheduler_handle.h"
#include "bind/tensor_handle.h"
#include "bind/worker.h"
#include "core/error.h"
#include "dist/data_parallel.h"
#include "models/glyph_projection.h"
#include "models/lpips.h"
#include "models/pretrained.h"
#include "models/unet.h"
#include "models/vae.h"
#include "models/vit.h"
#include "tensor/image_ops.h"
#include "train/trainer.h"
#include "train/unet_loss.h"
#include "train/vae_loss.h"

namespace da::bind {
namespace {

using models::ModelKind;

struct TrainerBox {
  ModelPtr model;
  ModelPtr projection;  // a UNet trainer's glyph projection, trained with it (may be null)
  std::unique_ptr<train::Trainer> trainer;
  std::shared_ptr<dist::ProcessGroup> group;  // data parallelism (null: one process)
  std::atomic<bool> disposed{false};
};
using TrainerPtr = std::shared_ptr<TrainerBox>;

// The trainer, checked again on the compute thread with its models locked: a call queued before
// dispose() runs after it and must fail, not use the freed trainer.
train::Trainer& live_trainer(const TrainerPtr& t) {
  if (t->disposed.load() || !t->trainer) fail(code::kDisposed, "the trainer was disposed while this call waited to run");
  return *t->trainer;
}

Napi::Value step_result_to_js(Napi::Env env, train::StepResult& r) {
  Napi::Object o = Napi::Object::New(env);
  Napi::Object terms = Napi::Object::New(env);
  for (auto& [k, v] : r.terms) terms.Set(k, Napi::Number::New(env, v));
  o.Set("terms", terms);
  o.Set("gradNorm", Napi::Number::New(env, r.grad_norm));
  o.Set("lr", Napi::Number::New(env, r.lr));
  o.Set("skipped", Napi::Boolean::New(env, r.skipped));
  o.Set("step", Napi::Number::New(env, static_cast<double>(r.step)));
  return o;
}

class TrainerHandle : public Handle<TrainerHandle, TrainerPtr> {
 public:
  static constexpr const char* kClass = "TrainerHandle";
  static constexpr napi_type_tag kTag = {0x6a1d3e5f7b9c2e40ULL, 0x8f7e6d5c4b3a2918ULL};
  static constexpr napi_type_tag kFactoryTag = {0x7b2e4f6a8c1d3e5fULL, 0x9a0b1c2d3e4f5a6bULL};

  static void Init(Napi::Env env) {
    Define(env, {
                    InstanceMethod("info", &TrainerHandle::Info),
                    InstanceMethod("vaeStep", &TrainerHandle::VaeStep),
                    InstanceMethod("unetStep", &TrainerHandle::UnetStep),
                    InstanceMethod("saveState", &TrainerHandle::SaveState),
                    InstanceMethod("loadState", &TrainerHandle::LoadState),
                    InstanceMethod("saveEma", &TrainerHandle::SaveEma),
                    InstanceMethod("generatorState", &TrainerHandle::GeneratorState),
                    InstanceMethod("setGeneratorState", &TrainerHandle::SetGeneratorState),
                });
  }
  using Handle::Handle;

  // Calls already queued fail with ERR_DISPOSED (live_trainer); the optimizer state is freed on
  // the compute thread after a running step, so the JS thread never waits for one. -> Promise.
  Napi::Value Dispose(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    TrainerPtr t = payload_;
    payload_.reset();
    if (!t || t->disposed.exchange(true)) {
      auto done = Napi::Promise::Deferred::New(env);
      done.Resolve(env.Undefined());
      return done.Promise();
    }
    return run_async<bool>(
        env,
        [t]() {
          ModelLocks lock({t->model, t->projection});
          t->trainer.reset();
          return true;
        },
        resolved_undefined);
  }

 private:
  // Runs `body` on the compute thread with the trainer's models locked (and the trainer live).
  Napi::Value locked(Napi::Env env, std::function<void(train::Trainer&)> body) {
    TrainerPtr t = payload();
    return run_async<bool>(
        env,
        [t, body]() {
          ModelLocks lock({t->model, t->projection});
          body(live_trainer(t));
          return true;
        },
        resolved_undefined);
  }

  Napi::Value Info(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    return guarded(env, [&]() -> Napi::Value {
      const TrainerPtr& t = payload();
      if (t->disposed || !t->trainer) fail(code::kDisposed, "the trainer was disposed");
      Napi::Object o = Napi::Object::New(env);
      o.Set("step", Napi::Number::New(env, static_cast<double>(t->trainer->step_count())));
      o.Set("ema", Napi::Boolean::New(env, t->trainer->has_ema()));
      // Where the trained weights actually are (a CLI log line proves a GPU job is on the GPU).
      const auto& params = t->trainer->params();
      o.Set("device", Napi::String::New(env, params.empty() ? std::string("none") : params.front().param.device().str()));
      Napi::Array names = Napi::Array::New(env);
      uint32_t i = 0;
      for (const auto& p : params) names.Set(i++, p.name);
      o.Set("trainable", names);
      return o;
    });
  }

  // vaeStep({ micro: Tensor[], lpips?, recon, klWeight, lpipsWeight, samplePosterior, autocast,
  //   lr, maxGradNorm, emaDecay })
  Napi::Value VaeStep(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    return guarded(env, [&]() -> Napi::Value {
      TrainerPtr t = payload();
      if (t->model->model.kind != ModelKind::kVae) fail(code::kArgument, "vaeStep needs a trainer over a vae");
      Options o(info[0], "options");
      std::vector<at::Tensor> micro = o.tensors("micro");
      ModelPtr lpips = ModelHandle::OptionalOf(o.value("lpips"), ModelKind::kLpips, "options.lpips");
      train::VaeLossOptions lo = read_vae_loss(o);
      train::StepOptions so = read_step(o);
      o.finish();
      if (lo.lpips_weight > 0 && !lpips) fail(code::kArgument, "lpipsWeight > 0 needs an LPIPS model");
      return run_async<train::StepResult>(
          env,
          [t, lpips, micro, lo, so]() {
            ModelLocks lock({t->model, lpips});
            train::Trainer& trainer = live_trainer(t);
            auto& vae = t->model->model.as<models::AutoencoderKLImpl>();
            auto* lp = lpips ? &lpips->model.as<models::Lpips>() : nullptr;
            const c10::Device device = t->model->model.device();
            return trainer.step(
                static_cast<int64_t>(micro.size()),
                [&](int64_t i) {
                  at::Tensor x = tensor::model_image(micro[i], "micro-batch").to(device, at::kFloat);
                  train::VaeLossTerms terms = train::vae_loss(vae, lp, x, lo, trainer.generator());
                  return std::map<std::string, at::Tensor>{{"loss", terms.loss}, {"recon", terms.recon}, {"kl", terms.kl},
                                                           {"lpips", terms.lpips}, {"latentStd", terms.latent_std}};
                },
                so);
          },
          step_result_to_js);
    });
  }

  // unetStep(vae, scheduler, { micro: [{ image, boxes? | mask?, glyphPixels? | context? }],
  //   glyphEncoder?, prediction, condDropout, maskedFill, autocast, gradientCheckpointing, lr,
  //   maxGradNorm, emaDecay }). The scheduler gives the DDPM noising (a copy per call).
  Napi::Value UnetStep(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    return guarded(env, [&]() -> Napi::Value {
      TrainerPtr t = payload();
      if (t->model->model.kind != ModelKind::kUnet) fail(code::kArgument, "unetStep needs a trainer over a unet");
      ModelPtr vae = ModelHandle::Of(info[0], ModelKind::kVae, "vae");
      std::shared_ptr<schedulers::Scheduler> scheduler = SchedulerHandle::CopyOf(info[1], "scheduler");
      Options o(info[2], "options");
      std::vector<train::UnetBatch> micro;
      uint32_t i = 0;
      for (const auto& m : o.objects("micro")) {
        Options mo(m, "options.micro[" + std::to_string(i++) + "]");
        train::UnetBatch b;
        b.image = mo.tensor("image");  // converted to float NCHW on the compute thread
        b.boxes = mo.tensor("boxes", false);
        b.mask = mo.tensor("mask", false);
        b.glyph_pixels = mo.tensor("glyphPixels", false);
        b.context = mo.tensor("context", false);
        b.glyph_image = mo.tensor("glyphImage", false);
        mo.finish();
        micro.push_back(b);
      }
      ModelPtr glyph = ModelHandle::OptionalOf(o.value("glyphEncoder"), ModelKind::kGlyphEncoder, "options.glyphEncoder");
      train::UnetLossOptions lo = read_unet_loss(o);
      bool checkpointing = o.boolean("gradientCheckpointing").value_or(false);
      train::StepOptions so = read_step(o);
      o.finish();
      return run_async<train::StepResult>(
          env,
          [t, vae, glyph, scheduler, micro, lo, checkpointing, so]() mutable {
            for (auto& b : micro) {
              b.image = tensor::model_image(b.image, "image");
              if (b.glyph_image.defined()) b.glyph_image = tensor::model_image(b.glyph_image, "glyphImage");
            }
            ModelLocks lock({t->model, vae, glyph, t->projection});
            train::Trainer& trainer = live_trainer(t);
            auto& unet = t->model->model.as<models::UNet2DConditionModelImpl>();
            auto& v = vae->model.as<models::AutoencoderKLImpl>();
            auto* g = glyph ? &glyph->model.as<models::GlyphEncoder>() : nullptr;
            auto* proj = t->projection ? &t->projection->model.as<models::GlyphProjection>() : nullptr;
            unet.set_gradient_checkpointing(checkpointing);
            return trainer.step(
                static_cast<int64_t>(micro.size()),
                [&](int64_t k) {
                  auto terms = train::unet_loss(unet, v, g, proj, *scheduler, micro[k], lo, trainer.generator());
                  return std::map<std::string, at::Tensor>{{"loss", terms.loss}, {"mse", terms.loss}};
                },
                so);
          },
          step_result_to_js);
    });
  }

  // saveState({ path }) / loadState({ path }): optimizer moments, step, EMA shadows and generator.
  Napi::Value SaveState(const Napi::CallbackInfo& info) { return state_call(info, [](train::Trainer& tr, const std::string& p) { tr.save_state(p); }); }
  Napi::Value LoadState(const Napi::CallbackInfo& info) { return state_call(info, [](train::Trainer& tr, const std::string& p) { tr.load_state(p); }); }

  Napi::Value state_call(const Napi::CallbackInfo& info, void (*body)(train::Trainer&, const std::string&)) {
    Napi::Env env = info.Env();
    return guarded(env, [&]() -> Napi::Value {
      Options o(info[0], "options");
      std::string path = o.string("path").value_or("");
      o.finish();
      if (path.empty()) fail(code::kArgument, "options.path is required");
      return locked(env, [body, path](train::Trainer& tr) { body(tr, path); });
    });
  }

  // saveEma({ dir, part? }): the EMA weights (frozen parameters and buffers from the model) in the
  // model's own layout, loadable as the model is: the trained model, or with part
  // "glyph_projection" the projection trained with it.
  Napi::Value SaveEma(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    return guarded(env, [&]() -> Napi::Value {
      TrainerPtr t = payload();
      Options o(info[0], "options");
      std::string dir = o.string("dir").value_or("");
      const bool projection = o.choice("part", {"glyph_projection"}).has_value();
      o.finish();
      if (dir.empty()) fail(code::kArgument, "options.dir is required");
      if (projection && !t->projection) fail(code::kArgument, "this trainer has no glyph projection");
      const ModelPtr box = projection ? t->projection : t->model;
      const auto& traits = models::traits(box->model.kind);
      if (!traits.config_json || !traits.weights_name) fail(code::kUnsupported, "the model has no config to save");
      return locked(env, [box, dir, projection, &traits](train::Trainer& tr) {
        if (!tr.has_ema()) fail(code::kArgument, "this trainer was created without EMA");
        models::write_pretrained(dir, traits.config_json(*box->model.module), traits.weights_name,
                                 tr.ema()->averaged_state_dict(*box->model.module, projection ? "glyph_projection" : ""));
      });
    });
  }

  // generatorState() -> Promise<uint8 tensor>; setGeneratorState({ state }). Data-parallel
  // checkpoints keep every rank's generator (each rank draws its own noise).
  Napi::Value GeneratorState(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    return guarded(env, [&]() -> Napi::Value {
      TrainerPtr t = payload();
      return run_async<at::Tensor>(
          env,
          [t]() {
            ModelLocks lock({t->model, t->projection});
            return live_trainer(t).generator_state();
          },
          [](Napi::Env e, at::Tensor& r) -> Napi::Value { return TensorHandle::Wrap(e, r); });
    });
  }

  Napi::Value SetGeneratorState(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    return guarded(env, [&]() -> Napi::Value {
      Options o(info[0], "options");
      at::Tensor state = o.tensor("state");
      o.finish();
      return locked(env, [state](train::Trainer& tr) { tr.set_generator_state(state); });
    });
  }
};

// createTrainer(model, { beta1, beta2, eps, weightDecay, ema, seed, processGroup?, glyphProjection? })
// -> Promise<TrainerHandle>. With a process group the parameters are broadcast from rank 0 and every
// step averages the gradients over the ranks (dist/data_parallel.h). A UNet trainer may also train
// a glyph projection: its parameters are named `glyph_projection.*` in the optimizer/EMA state.
Napi::Value CreateTrainer(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    ModelPtr model = ModelHandle::From(info[0], "model");
    if (model->model.kind != ModelKind::kVae && model->model.kind != ModelKind::kUnet)
      fail(code::kArgument, std::string("only vae and unet models can be trained, got ") + model->name());
    Options o(info[1], "options");
    train::TrainerOptions to = read_trainer(o);
    std::shared_ptr<dist::ProcessGroup> group = o.has("processGroup") ? ProcessGroupHandle::From(o.value("processGroup"), "options.processGroup") : nullptr;
    ModelPtr projection = ModelHandle::OptionalOf(o.value("glyphProjection"), ModelKind::kGlyphProjection, "options.glyphProjection");
    o.finish();
    if (projection && model->model.kind != ModelKind::kUnet) fail(code::kArgument, "a glyph projection trains only with a unet");
    return run_async<TrainerPtr>(
        env,
        [model, projection, to, group]() {
          ModelLocks lock({model, projection});
          auto box = std::make_shared<TrainerBox>();
          box->model = model;
          box->projection = projection;
          std::vector<train::TrainedModule> modules{{"", model->model.module.get()}};
          if (projection) modules.push_back({"glyph_projection", projection->model.module.get()});
          box->trainer = std::make_unique<train::Trainer>(modules, to);
          if (group) {
            dist::attach_data_parallel(*box->trainer, group);
            box->group = group;
          }
          return box;
        },
        [](Napi::Env e, TrainerPtr& t) -> Napi::Value { return TrainerHandle::Wrap(e, t); });
  });
}

}  // namespace

void register_train(Napi::Env env, Napi::Object exports) {
  TrainerHandle::Init(env);
  exports.Set("createTrainer", Napi::Function::New(env, CreateTrainer, "createTrainer"));
}

}  // namespace da::bind
