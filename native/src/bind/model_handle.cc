#include "bind/model_handle.h"
#include "bind/wrap_guard.h"

#include <ATen/ATen.h>

#include "bind/addon_data.h"
#include "bind/args.h"
#include "bind/async.h"
#include "bind/errors.h"
#include "bind/tensor_handle.h"
#include "core/error.h"
#include "models/weights.h"

namespace da::bind {
namespace {
const napi_type_tag kModelTag = {0x2f7c1a9e5d3b4c60ULL, 0x91e8a7d6c5b4f302ULL};
const napi_type_tag kModelFactoryTag = {0x5a7c9e1b3d5f7a90ULL, 0x2c4e6a8b0d2f4a61ULL};
}  // namespace

void ModelHandle::Init(Napi::Env env, Napi::Object exports) {
  Napi::Function cls = DefineClass(env, "ModelHandle", {
      InstanceAccessor("kind", &ModelHandle::Kind, nullptr),
      InstanceAccessor("disposed", &ModelHandle::Disposed, nullptr),
      InstanceMethod("config", &ModelHandle::Config),
      InstanceMethod("parameters", &ModelHandle::Parameters),
      InstanceMethod("parameterCount", &ModelHandle::ParameterCount),
      InstanceMethod("grad", &ModelHandle::Grad),
      InstanceMethod("zeroGrad", &ModelHandle::ZeroGrad),
      InstanceMethod("setRequiresGrad", &ModelHandle::SetRequiresGrad),
      InstanceMethod("save", &ModelHandle::Save),
      InstanceMethod("dispose", &ModelHandle::Dispose),
  });
  addon_data(env).model_class = Napi::Persistent(cls);
  exports.Set("ModelHandle", cls);
}

ModelHandle::ModelHandle(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ModelHandle>(info) {
  box_ = *factory_data<std::shared_ptr<ModelBox>>(info, &kModelFactoryTag, "models are created by their loaders, not constructed directly");
  info.This().As<Napi::Object>().TypeTag(&kModelTag);
}

Napi::Object ModelHandle::Wrap(Napi::Env env, std::shared_ptr<ModelBox> box) {
  auto holder = std::move(box);
  return addon_data(env).model_class.New({tagged_external(env, &holder, &kModelFactoryTag)});
}

std::shared_ptr<ModelBox> ModelHandle::FromValue(const Napi::Value& v, const std::string& kind, const std::string& what) {
  if (!v.IsObject() || !v.As<Napi::Object>().CheckTypeTag(&kModelTag)) fail(code::kArgument, what + " must be a model handle");
  ModelHandle* h = Unwrap(v.As<Napi::Object>());
  if (!h->box_) fail(code::kDisposed, what + " was disposed");
  if (!kind.empty() && h->box_->kind != kind) fail(code::kArgument, what + " must be a " + kind + " model, got " + h->box_->kind);
  return h->box_;
}

const std::shared_ptr<ModelBox>& ModelHandle::box() const {
  if (!box_) fail(code::kDisposed, "the model was disposed");
  return box_;
}

Napi::Value ModelHandle::Kind(const Napi::CallbackInfo& info) {
  check_receiver(info, &kModelTag, "ModelHandle");
  return guarded(info.Env(), [&]() -> Napi::Value { return Napi::String::New(info.Env(), box()->kind); });
}
Napi::Value ModelHandle::Disposed(const Napi::CallbackInfo& info) {
  check_receiver(info, &kModelTag, "ModelHandle");
  return Napi::Boolean::New(info.Env(), !box_);
}

Napi::Value ModelHandle::Config(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    const auto& b = box();
    return b->config_json ? Napi::String::New(env, b->config_json()) : env.Null();
  });
}

Napi::Value ModelHandle::Parameters(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    auto sd = models::state_dict(*box()->module);
    Napi::Array out = Napi::Array::New(env, sd.size());
    uint32_t i = 0;
    for (const auto& [name, t] : sd) {
      Napi::Object o = Napi::Object::New(env);
      o.Set("name", name);
      Napi::Array shape = Napi::Array::New(env, t.dim());
      for (int64_t d = 0; d < t.dim(); ++d) shape.Set(static_cast<uint32_t>(d), Napi::Number::New(env, static_cast<double>(t.size(d))));
      o.Set("shape", shape);
      o.Set("dtype", dtype_name(t.scalar_type()));
      o.Set("device", t.device().str());
      o.Set("requiresGrad", t.requires_grad());
      out.Set(i++, o);
    }
    return out;
  });
}

Napi::Value ModelHandle::ParameterCount(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value { return Napi::Number::New(env, static_cast<double>(models::parameter_count(*box()->module))); });
}

// Gradients and requires_grad change under a running call on the compute thread: these JS-thread
// calls take the model's lock only when it is free (never block the event loop), else ERR_BUSY.
static std::unique_lock<std::mutex> idle_lock(const std::shared_ptr<ModelBox>& box) {
  std::unique_lock<std::mutex> lock(box->mutex, std::try_to_lock);
  if (!lock.owns_lock()) fail(code::kBusy, "the model is busy with another call (a train step?); await it first");
  return lock;
}

Napi::Value ModelHandle::Grad(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    std::string name = get_string(info[0], "name");
    auto lock = idle_lock(box());
    auto params = box()->module->named_parameters(true);
    const at::Tensor* p = params.find(name);
    if (!p) fail(code::kArgument, "no parameter named '" + name + "'");
    at::Tensor g = p->grad();
    if (!g.defined()) return env.Null();
    return TensorHandle::Wrap(env, g.detach().clone());
  });
}

Napi::Value ModelHandle::ZeroGrad(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    auto lock = idle_lock(box());
    for (auto& p : box()->module->parameters(true))
      if (p.grad().defined()) p.mutable_grad() = at::Tensor();
    return env.Undefined();
  });
}

Napi::Value ModelHandle::SetRequiresGrad(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    bool on = get_bool(info[0], "requiresGrad");
    std::string prefix = info.Length() > 1 && !info[1].IsUndefined() ? get_string(info[1], "prefix") : "";
    auto lock = idle_lock(box());
    int n = 0;
    for (auto& item : box()->module->named_parameters(true))
      if (item.key().compare(0, prefix.size(), prefix) == 0) {
        item.value().set_requires_grad(on);
        ++n;
      }
    if (n == 0) fail(code::kArgument, "no parameter starts with '" + prefix + "'");
    return Napi::Number::New(env, n);
  });
}

Napi::Value ModelHandle::Save(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    std::string dir = get_string(info[0], "dir");
    auto b = box();
    if (!b->save) fail(code::kUnsupported, b->kind + " models cannot be saved");
    return run_async<bool>(
        env, [b, dir]() { std::lock_guard<std::mutex> lock(b->mutex); b->save(dir); return true; },
        [](Napi::Env e, bool&) -> Napi::Value { return e.Undefined(); });
  });
}

Napi::Value ModelHandle::Dispose(const Napi::CallbackInfo& info) {
  box_.reset();  // calls in flight keep their own reference until they finish
  return info.Env().Undefined();
}

LoadArgs parse_load_args(const Napi::Value& v) {
  LoadArgs a{at::kFloat, c10::Device(c10::kCPU), ""};
  if (v.IsUndefined() || v.IsNull()) return a;
  if (!v.IsObject()) fail(code::kArgument, "options must be an object");
  Napi::Object o = v.As<Napi::Object>();
  if (o.Has("dtype") && !o.Get("dtype").IsUndefined()) {
    a.dtype = parse_dtype(get_string(o.Get("dtype"), "dtype"));
    if (!at::isFloatingType(a.dtype) || a.dtype == at::kDouble) fail(code::kDtype, "model dtype must be float32, float16 or bfloat16");
  }
  if (o.Has("device") && !o.Get("device").IsUndefined()) a.device = parse_device(get_string(o.Get("device"), "device"));
  if (o.Has("variant") && !o.Get("variant").IsUndefined()) a.variant = get_string(o.Get("variant"), "variant");
  return a;
}

Napi::Value load_model_async(const Napi::CallbackInfo& info, ModelLoader load) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    std::string dir = get_string(info[0], "dir");
    LoadArgs a = parse_load_args(info[1]);
    return run_async<std::shared_ptr<ModelBox>>(
        env, [dir, a, load]() { return load(dir, a); },
        [](Napi::Env e, std::shared_ptr<ModelBox>& b) -> Napi::Value { return ModelHandle::Wrap(e, b); });
  });
}

Napi::Value create_model_async(const Napi::CallbackInfo& info, ModelFactory make) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    std::string cfg = get_string(info[0], "config");
    LoadArgs a = parse_load_args(info[1]);
    std::optional<int64_t> seed;
    if (info.Length() > 2 && info[2].IsNumber()) seed = get_int(info[2], "seed", 0, (int64_t{1} << 53) - 1);
    return run_async<std::shared_ptr<ModelBox>>(
        env,
        [cfg, a, seed, make]() {
          if (seed) at::manual_seed(static_cast<uint64_t>(*seed));
          return make(cfg, a);
        },
        [](Napi::Env e, std::shared_ptr<ModelBox>& b) -> Napi::Value { return ModelHandle::Wrap(e, b); });
  });
}

void register_models(Napi::Env env, Napi::Object exports) { ModelHandle::Init(env, exports); }

}  // namespace da::bind
