#include "bind/model_handle.h"

#include <ATen/ATen.h>

#include <algorithm>

#include "bind/args.h"
#include "bind/options.h"
#include "bind/register.h"
#include "bind/tensor_handle.h"
#include "bind/worker.h"
#include "models/weights.h"

namespace da::bind {

ModelLocks::ModelLocks(std::vector<ModelPtr> boxes) {
  boxes.erase(std::remove(boxes.begin(), boxes.end(), nullptr), boxes.end());
  std::sort(boxes.begin(), boxes.end());
  boxes.erase(std::unique(boxes.begin(), boxes.end()), boxes.end());
  for (const auto& b : boxes) locks_.emplace_back(b->mutex);
}

void ModelHandle::Init(Napi::Env env, Napi::Object exports) {
  Define(env,
         {
             InstanceAccessor("kind", &ModelHandle::Kind, nullptr),
             InstanceMethod("config", &ModelHandle::Config),
             InstanceMethod("parameters", &ModelHandle::Parameters),
             InstanceMethod("parameterCount", &ModelHandle::ParameterCount),
             InstanceMethod("grad", &ModelHandle::Grad),
             InstanceMethod("zeroGrad", &ModelHandle::ZeroGrad),
             InstanceMethod("setRequiresGrad", &ModelHandle::SetRequiresGrad),
             InstanceMethod("save", &ModelHandle::Save),
         },
         &exports);
}

ModelPtr ModelHandle::Of(const Napi::Value& v, models::ModelKind kind, const std::string& what) {
  const ModelPtr& b = From(v, what);
  if (b->model.kind != kind) fail(code::kArgument, what + " must be a " + models::traits(kind).name + " model, got " + b->name());
  return b;
}

ModelPtr ModelHandle::OptionalOf(const Napi::Value& v, models::ModelKind kind, const std::string& what) {
  if (v.IsUndefined() || v.IsNull()) return nullptr;
  return Of(v, kind, what);
}

Napi::Value ModelHandle::Kind(const Napi::CallbackInfo& info) {
  CheckReceiver(info);
  return guarded(info.Env(), [&]() -> Napi::Value { return Napi::String::New(info.Env(), payload()->name()); });
}

Napi::Value ModelHandle::Config(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    const auto& b = payload();
    const auto& t = models::traits(b->model.kind);
    return t.config_json ? Napi::String::New(env, t.config_json(*b->model.module)) : env.Null();
  });
}

Napi::Value ModelHandle::Parameters(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    auto sd = models::state_dict(*payload()->model.module);
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
  return guarded(env, [&]() -> Napi::Value { return Napi::Number::New(env, static_cast<double>(models::parameter_count(*payload()->model.module))); });
}

namespace {
// The JS-thread side of the locking rule: the model's lock only when it is free, else ERR_BUSY.
std::unique_lock<std::mutex> idle_lock(const ModelPtr& box) {
  std::unique_lock<std::mutex> lock(box->mutex, std::try_to_lock);
  if (!lock.owns_lock()) fail(code::kBusy, "the model is busy with another call (a train step?); await it first");
  return lock;
}
}  // namespace

Napi::Value ModelHandle::Grad(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    Options o(info[0], "options");
    std::string name = o.string("name").value_or("");
    o.finish();
    auto lock = idle_lock(payload());
    auto params = payload()->model.module->named_parameters(true);
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
    auto lock = idle_lock(payload());
    for (auto& p : payload()->model.module->parameters(true))
      if (p.grad().defined()) p.mutable_grad() = at::Tensor();
    return env.Undefined();
  });
}

Napi::Value ModelHandle::SetRequiresGrad(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    Options o(info[0], "options");
    auto on = o.boolean("requiresGrad");
    if (!on) fail(code::kArgument, "options.requiresGrad is required");
    std::string prefix = o.string("prefix").value_or("");
    o.finish();
    auto lock = idle_lock(payload());
    int n = 0;
    for (auto& item : payload()->model.module->named_parameters(true))
      if (item.key().compare(0, prefix.size(), prefix) == 0) {
        item.value().set_requires_grad(*on);
        ++n;
      }
    if (n == 0) fail(code::kArgument, "no parameter starts with '" + prefix + "'");
    return Napi::Number::New(env, n);
  });
}

Napi::Value ModelHandle::Save(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    Options o(info[0], "options");
    std::string dir = o.string("dir").value_or("");
    o.finish();
    if (dir.empty()) fail(code::kArgument, "options.dir is required");
    ModelPtr b = payload();
    const auto& t = models::traits(b->model.kind);
    if (!t.save) fail(code::kUnsupported, std::string(t.name) + " models cannot be saved");
    return run_async<bool>(
        env,
        [b, dir, save = t.save]() {
          ModelLocks lock({b});
          save(*b->model.module, dir);
          return true;
        },
        resolved_undefined);
  });
}

namespace {

Napi::Value wrap_model(Napi::Env env, models::Model& m) { return ModelHandle::Wrap(env, std::make_shared<ModelBox>(std::move(m))); }

// loadModel({ kind, path, dtype?, device?, variant?, heads? }) -> Promise<ModelHandle>
Napi::Value LoadModel(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    Options o(info[0], "options");
    models::ModelKind kind = models::model_kind(o.string("kind").value_or(""));
    std::string path = o.string("path").value_or("");
    if (path.empty()) fail(code::kArgument, "options.path is required");
    models::ModelSpec spec = read_model_spec(o);
    o.finish();
    return run_async<models::Model>(env, [kind, path, spec]() { return models::load_model(kind, path, spec); }, wrap_model);
  });
}

// createModel({ kind, config, seed?, dtype?, device? }) -> Promise<ModelHandle>: libtorch's default
// initialisation (tests, benchmarks, training from scratch), seeded when `seed` is given.
Napi::Value CreateModel(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    Options o(info[0], "options");
    models::ModelKind kind = models::model_kind(o.string("kind").value_or(""));
    std::string config = o.string("config").value_or("");
    std::optional<uint64_t> seed = o.seed("seed");
    models::ModelSpec spec = read_model_spec(o);
    o.finish();
    return run_async<models::Model>(env, [kind, config, spec, seed]() { return models::create_model(kind, config, spec, seed); }, wrap_model);
  });
}

// modelConfigSchema({ kind }) -> string: the config's fields (models/config_fields.h), or null.
Napi::Value ModelConfigSchema(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    Options o(info[0], "options");
    const auto& t = models::traits(models::model_kind(o.string("kind").value_or("")));
    o.finish();
    return t.config_schema ? Napi::Value(Napi::String::New(env, t.config_schema())) : env.Null();
  });
}

}  // namespace

void register_models(Napi::Env env, Napi::Object exports) {
  ModelHandle::Init(env, exports);
  exports.Set("loadModel", Napi::Function::New(env, LoadModel, "loadModel"));
  exports.Set("createModel", Napi::Function::New(env, CreateModel, "createModel"));
  exports.Set("modelConfigSchema", Napi::Function::New(env, ModelConfigSchema, "modelConfigSchema"));
}

}  // namespace da::bind
