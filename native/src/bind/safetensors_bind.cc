// openSafetensors(path) -> Promise<SafetensorsHandle>; writeSafetensors(path, names, tensors, metadata).
#include <ATen/ATen.h>

#include "bind/wrap_guard.h"
#include "bind/addon_data.h"
#include "bind/args.h"
#include "bind/async.h"
#include "bind/errors.h"
#include "bind/register.h"
#include "bind/tensor_handle.h"
#include "core/error.h"
#include "io/safetensors.h"

namespace da::bind {
namespace {

const napi_type_tag kSafetensorsFactoryTag = {0x19a3c5e7f9b1d3f5ULL, 0x7a9c1e3f5b7d9f1cULL};

class SafetensorsHandle : public Napi::ObjectWrap<SafetensorsHandle> {
 public:
  static void Init(Napi::Env env, Napi::Object exports) {
    Napi::Function cls = DefineClass(env, "SafetensorsHandle", {
        InstanceMethod("entries", &SafetensorsHandle::Entries),
        InstanceMethod("metadata", &SafetensorsHandle::Metadata),
        InstanceMethod("load", &SafetensorsHandle::Load),
        InstanceMethod("close", &SafetensorsHandle::Close),
    });
    addon_data(env).safetensors_class = Napi::Persistent(cls);
  }
  static Napi::Object New(Napi::Env env, std::shared_ptr<io::SafetensorsFile> f) {
    auto holder = std::move(f);
    return addon_data(env).safetensors_class.New({tagged_external(env, &holder, &kSafetensorsFactoryTag)});
  }
  explicit SafetensorsHandle(const Napi::CallbackInfo& info) : Napi::ObjectWrap<SafetensorsHandle>(info) {
    file_ = *factory_data<std::shared_ptr<io::SafetensorsFile>>(info, &kSafetensorsFactoryTag, "use openSafetensors(path)");
  }

 private:
  const std::shared_ptr<io::SafetensorsFile>& file() const {
    if (!file_) fail(code::kDisposed, "the safetensors file was closed");
    return file_;
  }
  Napi::Value Entries(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    return guarded(env, [&]() -> Napi::Value {
      const auto& entries = file()->entries();
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
      for (const auto& [k, v] : file()->metadata()) o.Set(k, v);
      return o;
    });
  }
  Napi::Value Load(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    return guarded(env, [&]() -> Napi::Value {
      std::string name = get_string(info[0], "name");
      auto f = file();
      f->entry(name);  // fail fast, synchronously, on unknown names
      return run_async<at::Tensor>(env, [f, name]() { return f->load(name); },
                                   [](Napi::Env e, at::Tensor& t) -> Napi::Value { return TensorHandle::Wrap(e, t); }, Lane::kLight);
    });
  }
  Napi::Value Close(const Napi::CallbackInfo& info) {
    file_.reset();  // pending loads keep the mapping alive until they finish
    return info.Env().Undefined();
  }

  std::shared_ptr<io::SafetensorsFile> file_;
};

Napi::Value OpenSafetensors(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    std::string path = get_string(info[0], "path");
    return run_async<std::shared_ptr<io::SafetensorsFile>>(
        env, [path]() { return io::SafetensorsFile::open(path); },
        [](Napi::Env e, std::shared_ptr<io::SafetensorsFile>& f) -> Napi::Value { return SafetensorsHandle::New(e, f); },
        Lane::kLight);
  });
}

Napi::Value WriteSafetensors(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    std::string path = get_string(info[0], "path");
    if (!info[1].IsArray() || !info[2].IsArray()) fail(code::kArgument, "names and tensors must be arrays");
    Napi::Array names = info[1].As<Napi::Array>();
    Napi::Array tensors = info[2].As<Napi::Array>();
    if (names.Length() != tensors.Length()) fail(code::kArgument, "names and tensors differ in length");
    io::NamedTensors list;
    for (uint32_t i = 0; i < names.Length(); ++i) {
      std::string n = get_string(names.Get(i), "names[" + std::to_string(i) + "]");
      list.emplace_back(n, TensorHandle::FromValue(tensors.Get(i), "tensor '" + n + "'"));
    }
    std::map<std::string, std::string> meta;
    if (info.Length() > 3 && info[3].IsObject()) {
      Napi::Object m = info[3].As<Napi::Object>();
      Napi::Array keys = m.GetPropertyNames();
      for (uint32_t i = 0; i < keys.Length(); ++i) {
        std::string k = get_string(keys.Get(i), "metadata key");
        meta[k] = get_string(m.Get(k), "metadata." + k);
      }
    }
    return run_async<bool>(
        env, [path, list, meta]() { io::write_safetensors(path, list, meta); return true; },
        [](Napi::Env e, bool&) -> Napi::Value { return e.Undefined(); }, Lane::kLight);
  });
}

}  // namespace

void register_safetensors(Napi::Env env, Napi::Object exports) {
  SafetensorsHandle::Init(env, exports);
  exports.Set("openSafetensors", Napi::Function::New(env, OpenSafetensors, "openSafetensors"));
  exports.Set("writeSafetensors", Napi::Function::New(env, WriteSafetensors, "writeSafetensors"));
}

}  // namespace da::bind
