// Training entry points over native/src/train: createTrainer (AdamW + optional EMA + generator over
// a model's trainable parameters), trainerVaeStep / trainerUnetStep (one optimizer step each, over
// k micro-batches), and the trainer state (save/load, EMA weights in the diffusers layout).
// The trainer is an opaque, type-tagged external that keeps its model alive.
#include <ATen/ATen.h>
#include <torch/autograd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <functional>
#include <mutex>

#include "bind/args.h"
#include "bind/async.h"
#include "bind/dist_handle.h"
#include "bind/errors.h"
#include "bind/model_handle.h"
#include "bind/options.h"
#include "bind/register.h"
#include "bind/tensor_handle.h"
#include "core/error.h"
#include "core/json.h"
#include "dist/data_parallel.h"
#include "io/safetensors.h"
#include "models/config_reader.h"
#include "models/lpips.h"
#include "models/unet.h"
#include "models/vae.h"
#include "models/glyph_projection.h"
#include "models/vit.h"
#include "schedulers/scheduler.h"
#include "train/trainer.h"
#include "train/autocast.h"
#include "train/unet_loss.h"
#include "train/vae_loss.h"

namespace da::bind {
namespace {

const napi_type_tag kTrainerTag = {0x6a1d3e5f7b9c2e40ULL, 0x8f7e6d5c4b3a2918ULL};

struct TrainerBox {
  std::shared_ptr<ModelBox> model;
  std::shared_ptr<ModelBox> projection;  // a UNet trainer's glyph projection, trained with it (may be null)
  std::unique_ptr<train::Trainer> trainer;
  std::shared_ptr<dist::ProcessGroup> group;  // data parallelism (null: one process)
  std::atomic<bool> disposed{false};
};
using TrainerPtr = std::shared_ptr<TrainerBox>;

// The trainer, checked again on the compute thread with the model's lock held: a call queued before
// dispose() runs after it and must fail, not use the freed trainer.
train::Trainer& live_trainer(const TrainerPtr& t) {
  if (t->disposed.load() || !t->trainer) fail(code::kDisposed, "the trainer was disposed while this call waited to run");
  return *t->trainer;
}

TrainerPtr trainer_from(const Napi::Value& v) {
  if (!v.IsExternal() || !v.As<Napi::Object>().CheckTypeTag(&kTrainerTag)) fail(code::kArgument, "trainer must be a trainer handle");
  TrainerPtr t = *v.As<Napi::External<TrainerPtr>>().Data();
  if (t->disposed || !t->trainer) fail(code::kDisposed, "the trainer was disposed");
  return t;
}

std::shared_ptr<ModelBox> optional_model(const Napi::Value& v, const std::string& kind, const std::string& what) {
  if (v.IsUndefined() || v.IsNull()) return nullptr;
  return ModelHandle::FromValue(v, kind, what);
}

train::StepOptions step_options(const Napi::Object& o) {
  train::StepOptions s;
  s.lr = field_number(o, "lr").value_or(s.lr);
  s.max_grad_norm = field_number(o, "maxGradNorm").value_or(s.max_grad_norm);
  s.ema_decay = field_number(o, "emaDecay").value_or(s.ema_decay);
  return s;
}

std::vector<Napi::Value> micro_list(const Napi::Object& o) {
  if (!has_field(o, "micro") || !o.Get("micro").IsArray()) fail(code::kArgument, "micro must be a non-empty array of micro-batches");
  Napi::Array a = o.Get("micro").As<Napi::Array>();
  if (a.Length() == 0) fail(code::kConfig, "gradient accumulation needs at least 1 micro-batch per step");
  std::vector<Napi::Value> out;
  for (uint32_t i = 0; i < a.Length(); ++i) out.push_back(a.Get(i));
  return out;
}

// Images arrive as uint8 NHWC (what the data pipeline produces, 4x smaller to carry) or as float
// NCHW already in [-1, 1]; the models take float NCHW in [-1, 1].
at::Tensor model_image(const at::Tensor& t, const char* what) {
  if (t.scalar_type() == at::kByte) {
    if (t.dim() != 4 || t.size(3) != 3) fail(code::kShape, std::string(what) + " as uint8 must be [B, H, W, 3], got " + c10::str(t.sizes()));
    return t.permute({0, 3, 1, 2}).to(at::kFloat).div(127.5).sub(1.0).contiguous();
  }
  if (t.dim() != 4 || t.size(1) != 3) fail(code::kShape, std::string(what) + " must be [B, 3, H, W] float in [-1, 1] or [B, H, W, 3] uint8, got " + c10::str(t.sizes()));
  return t;
}

// Locks several models' mutexes without deadlock (std::lock's back-off), null boxes skipped.
std::vector<std::unique_lock<std::mutex>> lock_models(std::initializer_list<const std::shared_ptr<ModelBox>*> boxes) {
  std::vector<std::unique_lock<std::mutex>> locks;
  for (auto* b : boxes)
    if (*b) locks.emplace_back((*b)->mutex, std::defer_lock);
  // std::lock takes a fixed argument list; lock in address order instead (every multi-model call
  // here goes through this helper or std::lock, both free of lock-order deadlocks with each other).
  std::sort(locks.begin(), locks.end(), [](const auto& a, const auto& b) { return a.mutex() < b.mutex(); });
  for (auto& l : locks) l.lock();
  return locks;
}

Napi::Value result_to_js(Napi::Env env, train::StepResult& r) {
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

// createTrainer(model, { beta1, beta2, eps, weightDecay, ema, seed, processGroup?, glyphProjection? })
// -> Promise<trainer>. With a process group the parameters are broadcast from rank 0 and every step
// averages the gradients over the ranks (dist/data_parallel.h). A UNet trainer may also train a
// glyph projection: its parameters are named `glyph_projection.*` in the optimizer/EMA state.
Napi::Value CreateTrainer(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    auto model = ModelHandle::FromValue(info[0], "", "model");
    if (model->kind != "vae" && model->kind != "unet") fail(code::kArgument, "only vae and unet models can be trained, got " + model->kind);
    Napi::Object o = get_object(info[1], "options");
    train::TrainerOptions to;
    to.adamw.beta1 = field_number(o, "beta1").value_or(to.adamw.beta1);
    to.adamw.beta2 = field_number(o, "beta2").value_or(to.adamw.beta2);
    to.adamw.eps = field_number(o, "eps").value_or(to.adamw.eps);
    to.adamw.weight_decay = field_number(o, "weightDecay").value_or(to.adamw.weight_decay);
    to.ema = field_bool(o, "ema").value_or(false);
    to.seed = static_cast<uint64_t>(field_int(o, "seed", 0, (int64_t{1} << 53) - 1).value_or(0));
    std::shared_ptr<dist::ProcessGroup> group = has_field(o, "processGroup") ? process_group_from(o.Get("processGroup")) : nullptr;
    auto projection = has_field(o, "glyphProjection") ? optional_model(o.Get("glyphProjection"), "glyph_projection", "glyphProjection") : nullptr;
    if (projection && model->kind != "unet") fail(code::kArgument, "a glyph projection trains only with a unet");
    return run_async<TrainerPtr>(
        env,
        [model, projection, to, group]() {
          auto locks = lock_models({&model, &projection});
          auto box = std::make_shared<TrainerBox>();
          box->model = model;
          box->projection = projection;
          std::vector<train::TrainedModule> modules{{"", model->module.get()}};
          if (projection) modules.push_back({"glyph_projection", projection->module.get()});
          box->trainer = std::make_unique<train::Trainer>(modules, to);
          if (group) {
            dist::attach_data_parallel(*box->trainer, group);
            box->group = group;
          }
          return box;
        },
        [](Napi::Env e, TrainerPtr& t) -> Napi::Value {
          auto ext = Napi::External<TrainerPtr>::New(e, new TrainerPtr(t), [](Napi::Env, TrainerPtr* p) { delete p; });
          ext.TypeTag(&kTrainerTag);
          return ext;
        });
  });
}

// trainerVaeStep(trainer, lpips | null, { micro: Tensor[], recon, klWeight, lpipsWeight,
//   samplePosterior, autocast, lr, maxGradNorm, emaDecay })
Napi::Value TrainerVaeStep(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    TrainerPtr t = trainer_from(info[0]);
    if (t->model->kind != "vae") fail(code::kArgument, "trainerVaeStep needs a trainer over a vae");
    auto lpips = optional_model(info[1], "lpips", "lpips");
    Napi::Object o = get_object(info[2], "options");
    std::vector<at::Tensor> micro;
    for (auto& v : micro_list(o)) micro.push_back(TensorHandle::FromValue(v, "micro-batch"));
    train::VaeLossOptions lo;
    lo.recon = field_string(o, "recon").value_or(lo.recon);
    lo.kl_weight = field_number(o, "klWeight").value_or(lo.kl_weight);
    lo.lpips_weight = field_number(o, "lpipsWeight").value_or(lo.lpips_weight);
    lo.sample_posterior = field_bool(o, "samplePosterior").value_or(true);
    bool autocast = field_bool(o, "autocast").value_or(true);
    train::StepOptions so = step_options(o);
    if (lo.lpips_weight > 0 && !lpips) fail(code::kArgument, "lpipsWeight > 0 needs an LPIPS model");
    return run_async<train::StepResult>(
        env,
        [t, lpips, micro, lo, autocast, so]() {
          auto vae = ModelHandle::Typed<models::AutoencoderKLImpl>(t->model);
          std::unique_lock<std::mutex> l1(t->model->mutex, std::defer_lock), l2;
          if (lpips) {
            l2 = std::unique_lock<std::mutex>(lpips->mutex, std::defer_lock);
            std::lock(l1, l2);
          } else {
            l1.lock();
          }
          train::Trainer& trainer = live_trainer(t);
          auto* lp = lpips ? ModelHandle::Typed<models::Lpips>(lpips).get() : nullptr;
          const c10::Device device = vae->quant_conv->weight.device();
          return trainer.step(
              static_cast<int64_t>(micro.size()),
              [&](int64_t i) {
                at::Tensor x = model_image(micro[i], "micro-batch").to(device, at::kFloat);
                train::VaeLossTerms terms;
                {
                  train::AutocastScope ac(device, autocast);
                  terms = train::vae_loss(*vae, lp, x, lo, trainer.generator());
                }
                return std::map<std::string, at::Tensor>{{"loss", terms.loss}, {"recon", terms.recon}, {"kl", terms.kl},
                                                         {"lpips", terms.lpips}, {"latentStd", terms.latent_std}};
              },
              so);
        },
        result_to_js);
  });
}

// trainerUnetStep(trainer, vae, glyphEncoder | null, schedulerConfigJson, { micro: [{ image, boxes?
//   | mask?, glyphPixels? | context? }], prediction, condDropout, maskedFill, autocast,
//   gradientCheckpointing, lr, maxGradNorm, emaDecay })
Napi::Value TrainerUnetStep(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    TrainerPtr t = trainer_from(info[0]);
    if (t->model->kind != "unet") fail(code::kArgument, "trainerUnetStep needs a trainer over a unet");
    auto vae = ModelHandle::FromValue(info[1], "vae", "vae");
    auto glyph = optional_model(info[2], "glyph_encoder", "glyphEncoder");
    std::string sched_cfg = get_string(info[3], "schedulerConfig");
    Napi::Object o = get_object(info[4], "options");
    std::vector<train::UnetBatch> micro;
    for (auto& v : micro_list(o)) {
      Napi::Object m = get_object(v, "micro-batch");
      train::UnetBatch b;
      b.image = field_tensor(m, "image");  // converted to float NCHW on the compute thread
      b.boxes = field_tensor(m, "boxes", false);
      b.mask = field_tensor(m, "mask", false);
      b.glyph_pixels = field_tensor(m, "glyphPixels", false);
      b.context = field_tensor(m, "context", false);
      micro.push_back(b);
    }
    train::UnetLossOptions lo;
    std::string prediction = field_string(o, "prediction").value_or("epsilon");
    if (prediction != "epsilon" && prediction != "v_prediction") fail(code::kArgument, "prediction must be 'epsilon' or 'v_prediction'");
    lo.v_prediction = prediction == "v_prediction";
    lo.cond_dropout = field_number(o, "condDropout").value_or(0.0);
    lo.masked_fill = field_number(o, "maskedFill").value_or(-1.0);
    lo.autocast_bf16 = field_bool(o, "autocast").value_or(true);
    bool checkpointing = field_bool(o, "gradientCheckpointing").value_or(false);
    train::StepOptions so = step_options(o);
    auto scheduler = std::shared_ptr<schedulers::Scheduler>(schedulers::make_scheduler(json::parse(sched_cfg, code::kConfig), "DDPMScheduler"));
    return run_async<train::StepResult>(
        env,
        [t, vae, glyph, scheduler, micro, lo, checkpointing, so]() mutable {
          for (auto& b : micro) b.image = model_image(b.image, "image");
          auto unet = ModelHandle::Typed<models::UNet2DConditionModelImpl>(t->model);
          auto v = ModelHandle::Typed<models::AutoencoderKLImpl>(vae);
          auto locks = lock_models({&t->model, &vae, &glyph, &t->projection});
          train::Trainer& trainer = live_trainer(t);
          auto* g = glyph ? ModelHandle::Typed<models::GlyphEncoder>(glyph).get() : nullptr;
          auto* proj = t->projection ? ModelHandle::Typed<models::GlyphProjection>(t->projection).get() : nullptr;
          unet->set_gradient_checkpointing(checkpointing);
          return trainer.step(
              static_cast<int64_t>(micro.size()),
              [&](int64_t i) {
                auto terms = train::unet_loss(*unet, *v, g, proj, *scheduler, micro[i], lo, trainer.generator());
                return std::map<std::string, at::Tensor>{{"loss", terms.loss}, {"mse", terms.loss}};
              },
              so);
        },
        result_to_js);
  });
}

// (trainer, path) calls: checks on the JS thread, then `body` on a worker under the model's lock.
Napi::Value trainer_path_call(const Napi::CallbackInfo& info, const char* what,
                              std::function<void(const TrainerPtr&, const std::string&)> body,
                              std::function<void(const TrainerPtr&)> precheck = nullptr) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    TrainerPtr t = trainer_from(info[0]);
    std::string path = get_string(info[1], what);
    if (precheck) precheck(t);
    return run_async<bool>(
        env,
        [t, path, body]() {
          std::lock_guard<std::mutex> lock(t->model->mutex);
          live_trainer(t);
          body(t, path);
          return true;
        },
        [](Napi::Env e, bool&) -> Napi::Value { return e.Undefined(); });
  });
}

Napi::Value TrainerSaveState(const Napi::CallbackInfo& info) {
  return trainer_path_call(info, "path", [](const TrainerPtr& t, const std::string& path) { t->trainer->save_state(path); });
}

Napi::Value TrainerLoadState(const Napi::CallbackInfo& info) {
  return trainer_path_call(info, "path", [](const TrainerPtr& t, const std::string& path) { t->trainer->load_state(path); });
}

// trainerSaveEma(trainer, dir, part?): the EMA weights (frozen parameters and buffers from the
// model) in the model's own layout, loadable by fromPretrained: the trained model's
// config.json + diffusion_pytorch_model.safetensors, or with part "glyph_projection" the
// projection's config.json + model.safetensors.
Napi::Value TrainerSaveEma(const Napi::CallbackInfo& info) {
  const bool projection = info.Length() > 2 && !info[2].IsUndefined() &&
                          (info[2].IsString() && info[2].As<Napi::String>().Utf8Value() == "glyph_projection");
  if (info.Length() > 2 && !info[2].IsUndefined() && !projection)
    return guarded(info.Env(), []() -> Napi::Value { fail(code::kArgument, "part must be undefined or 'glyph_projection'"); });
  return trainer_path_call(
      info, "dir",
      [projection](const TrainerPtr& t, const std::string& dir) {
        std::filesystem::create_directories(dir);
        const auto& box = projection ? t->projection : t->model;
        models::write_text_file(dir + "/config.json", box->config_json());
        io::write_safetensors(dir + (projection ? "/model.safetensors" : "/diffusion_pytorch_model.safetensors"),
                              t->trainer->ema()->averaged_state_dict(*box->module, projection ? "glyph_projection" : ""), {{"format", "pt"}});
      },
      [projection](const TrainerPtr& t) {
        if (!t->trainer->has_ema()) fail(code::kArgument, "this trainer was created without EMA");
        if (projection && !t->projection) fail(code::kArgument, "this trainer has no glyph projection");
        if (!t->model->config_json) fail(code::kUnsupported, "the model has no config to save");
      });
}

// trainerGeneratorState(trainer) -> Promise<uint8 tensor>; trainerSetGeneratorState(trainer, state)
// -> Promise<void>. Data-parallel checkpoints keep every rank's generator (each rank draws its own noise).
Napi::Value TrainerGeneratorState(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    TrainerPtr t = trainer_from(info[0]);
    return run_async<at::Tensor>(
        env,
        [t]() {
          std::lock_guard<std::mutex> lock(t->model->mutex);
          return live_trainer(t).generator_state();
        },
        [](Napi::Env e, at::Tensor& r) -> Napi::Value { return TensorHandle::Wrap(e, r); });
  });
}

Napi::Value TrainerSetGeneratorState(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    TrainerPtr t = trainer_from(info[0]);
    at::Tensor state = TensorHandle::FromValue(info[1], "state");
    return run_async<bool>(
        env,
        [t, state]() {
          std::lock_guard<std::mutex> lock(t->model->mutex);
          live_trainer(t).set_generator_state(state);
          return true;
        },
        [](Napi::Env e, bool&) -> Napi::Value { return e.Undefined(); });
  });
}

Napi::Value TrainerInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    TrainerPtr t = trainer_from(info[0]);
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

Napi::Value DisposeTrainer(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    if (!info[0].IsExternal() || !info[0].As<Napi::Object>().CheckTypeTag(&kTrainerTag)) fail(code::kArgument, "trainer must be a trainer handle");
    TrainerPtr t = *info[0].As<Napi::External<TrainerPtr>>().Data();
    // Calls already queued fail with ERR_DISPOSED (live_trainer); the optimizer state is freed on
    // the compute thread after a running step, so the JS thread never waits for one.
    if (t->disposed.exchange(true)) {
      auto done = Napi::Promise::Deferred::New(env);
      done.Resolve(env.Undefined());
      return done.Promise();
    }
    return run_async<bool>(
        env,
        [t]() {
          std::lock_guard<std::mutex> lock(t->model->mutex);
          t->trainer.reset();
          return true;
        },
        [](Napi::Env e, bool&) -> Napi::Value { return e.Undefined(); });
  });
}

}  // namespace

void register_train(Napi::Env env, Napi::Object exports) {
  exports.Set("createTrainer", Napi::Function::New(env, CreateTrainer, "createTrainer"));
  exports.Set("trainerVaeStep", Napi::Function::New(env, TrainerVaeStep, "trainerVaeStep"));
  exports.Set("trainerUnetStep", Napi::Function::New(env, TrainerUnetStep, "trainerUnetStep"));
  exports.Set("trainerSaveState", Napi::Function::New(env, TrainerSaveState, "trainerSaveState"));
  exports.Set("trainerLoadState", Napi::Function::New(env, TrainerLoadState, "trainerLoadState"));
  exports.Set("trainerSaveEma", Napi::Function::New(env, TrainerSaveEma, "trainerSaveEma"));
  exports.Set("trainerInfo", Napi::Function::New(env, TrainerInfo, "trainerInfo"));
  exports.Set("trainerGeneratorState", Napi::Function::New(env, TrainerGeneratorState, "trainerGeneratorState"));
  exports.Set("trainerSetGeneratorState", Napi::Function::New(env, TrainerSetGeneratorState, "trainerSetGeneratorState"));
  exports.Set("disposeTrainer", Napi::Function::New(env, DisposeTrainer, "disposeTrainer"));
}

}  // namespace da::bind
