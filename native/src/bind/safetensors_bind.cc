// openSafetensors({ path }) -> Promise<SafetensorsHandle> (entries(), metadata(), load({ name }),
// dispose()); writeSafetensors({ path, names, tensors, metadata? }).
#include <ATen/ATen.h>

#include "bind/args.h"
#include "bind/errors.h"
#include "bind/handle.h"
#include "bind/options.h"
#include "bind/register.h"
#include "bind/tensor_handle.h"
#include "bind/worker.h"
#include "core/error.h"
#include "io/safetensors.h"

namespace da::bind {
namespace {

using File = std::shared_ptr<io::SafetensorsFile>;

class SafetensorsHandle : public Handle<SafetensorsHandle, File> {
 public:
  static constexpr const char* kClass = "SafetensorsHandle";
  static constexpr napi_type_tag kTag = {0x19a3c5e7f9b1d3f5ULL, 0x8b0d2f4a6c8e0a2cULL};
  static constexpr napi_type_tag kFactoryTag = {0x19a3c5e7f9b1d3f5ULL, 0x7a9c1e3f5b7d9f1cULL};

  static void Init(Napi::Env env) {
    Define(env, {
                    InstanceMethod("entries", &SafetensorsHandle::Entries),
                    InstanceMethod("metadata", &SafetensorsHandle::Metadata),
                    InstanceMethod("load", &SafetensorsHandle::Load),
                });
  }
  using Handle::Handle;

 private:
  Napi::Value Entries(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    return guarded(env, [&]() -> Napi::Value {
      const auto& entries = payload()->entries();
      Napi::Array out = Napi::Array::New(env, entries.size());
      for (size_t i = 0; i < entries.size(); ++i) {
        Napi::Object e = Napi::Object::New(env);
        e.Set("name", entries[i].name);
        e.Set("dtype", dtype_name(entries[i].dtype));
        Napi::Array shape = Napi::Array::New(env, entries[i].shape.size());
        for (size_t j = 0; j < entries[i].shape.size(); ++j) shape.Set(static_cast<uint32_t>(j), Napi::Number::New(env, static_cast<double>(entries[i].shape[j])));
        e.Set("shape", shape);
        e.Set("byteLength", Napi::Number::New(env, static_cast<double>(entries[i].end - entries[i].begin)));
        out.Set(static_cast<uint32_t>(i), e);
      }
      return out;
    });
  }
  Napi::Value Metadata(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    return guarded(env, [&]() -> Napi::Value {
      Napi::Object o = Napi::Object::New(env);
      for (const auto& [k, v] : payload()->metadata()) o.Set(k, v);
      return o;
    });
  }
  // load({ name }) -> Promise<Tensor> (pending loads keep the mapping alive past dispose()).
  Napi::Value Load(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    return guarded(env, [&]() -> Napi::Value {
      Options o(info[0], "options");
      std::string name = o.string("name").value_or("");
      o.finish();
      File f = payload();
      f->entry(name);  // fail fast, synchronously, on unknown names
      return run_async<at::Tensor>(env, [f, name]() { return f->load(name); },
                                   [](Napi::Env e, at::Tensor& t) -> Napi::Value { return TensorHandle::Wrap(e, t); }, Lane::kLight);
    });
  }
};

Napi::Value OpenSafetensors(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    Options o(info[0], "options");
    std::string path = o.string("path").value_or("");
    o.finish();
    return run_async<File>(
        env, [path]() { return io::SafetensorsFile::open(path); },
        [](Napi::Env e, File& f) -> Napi::Value { return SafetensorsHandle::Wrap(e, f); }, Lane::kLight);
  });
}

Napi::Value WriteSafetensors(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    Options o(info[0], "options");
    std::string path = o.string("path").value_or("");
    Napi::Value names_v = o.value("names");
    std::vector<at::Tensor> tensors = o.tensors("tensors", true);
    Napi::Value meta_v = o.value("metadata");
    o.finish();
    if (!names_v.IsArray()) fail(code::kArgument, "options.names must be an array");
    Napi::Array names = names_v.As<Napi::Array>();
    if (names.Length() != tensors.size()) fail(code::kArgument, "names and tensors differ in length");
    io::NamedTensors list;
    for (uint32_t i = 0; i < names.Length(); ++i) list.emplace_back(get_string(names.Get(i), "names[" + std::to_string(i) + "]"), tensors[i]);
    std::map<std::string, std::string> meta;
    if (meta_v.IsObject()) {
      Napi::Object m = meta_v.As<Napi::Object>();
      Napi::Array keys = m.GetPropertyNames();
      for (uint32_t i = 0; i < keys.Length(); ++i) {
        std::string k = get_string(keys.Get(i), "metadata key");
        meta[k] = get_string(m.Get(k), "metadata." + k);
      }
    }
    return run_async<bool>(
        env, [path, list, meta]() { io::write_safetensors(path, list, meta); return true; }, resolved_undefined, Lane::kLight);
  });
}

}  // namespace

void register_safetensors(Napi::Env env, Napi::Object exports) {
  SafetensorsHandle::Init(env);
  exports.Set("openSafetensors", Napi::Function::New(env, OpenSafetensors, "openSafetensors"));
  exports.Set("writeSafetensors", Napi::Function::New(env, WriteSafetensors, "writeSafetensors"));
}

}  // namespace da::bind
