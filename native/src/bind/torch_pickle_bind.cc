// readTorchStateDict({ path }) -> Promise<{ names, tensors, skipped, wrapper }>: a torch.save'd
// state dict read with libtorch's loader; writeTorchStateDict({ path, names, tensors, wrapper? })
// writes one as torch.save does (the conversion tests build their .pth / .bin inputs with it).
#include <ATen/ATen.h>

#include "bind/args.h"
#include "bind/errors.h"
#include "bind/options.h"
#include "bind/register.h"
#include "bind/tensor_handle.h"
#include "bind/worker.h"
#include "core/error.h"
#include "io/torch_pickle.h"

namespace da::bind {
namespace {

Napi::Value ReadTorchStateDict(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    Options o(info[0], "options");
    std::string path = o.string("path").value_or("");
    o.finish();
    if (path.empty()) fail(code::kArgument, "options.path is required");
    return run_async<io::TorchStateDict>(
        env, [path]() { return io::read_torch_state_dict(path); },
        [](Napi::Env e, io::TorchStateDict& sd) -> Napi::Value {
          Napi::Object out = Napi::Object::New(e);
          Napi::Array names = Napi::Array::New(e, sd.tensors.size());
          Napi::Array tensors = Napi::Array::New(e, sd.tensors.size());
          for (size_t i = 0; i < sd.tensors.size(); ++i) {
            names.Set(static_cast<uint32_t>(i), sd.tensors[i].first);
            tensors.Set(static_cast<uint32_t>(i), TensorHandle::Wrap(e, sd.tensors[i].second));
          }
          Napi::Array skipped = Napi::Array::New(e, sd.skipped.size());
          for (size_t i = 0; i < sd.skipped.size(); ++i) skipped.Set(static_cast<uint32_t>(i), sd.skipped[i]);
          out.Set("names", names);
          out.Set("tensors", tensors);
          out.Set("skipped", skipped);
          out.Set("wrapper", sd.wrapper);
          return out;
        },
        Lane::kLight);
  });
}

Napi::Value WriteTorchStateDict(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    Options o(info[0], "options");
    std::string path = o.string("path").value_or("");
    Napi::Value names_v = o.value("names");
    std::vector<at::Tensor> tensors = o.tensors("tensors", true);
    std::string wrapper = o.string("wrapper").value_or("");
    o.finish();
    if (path.empty()) fail(code::kArgument, "options.path is required");
    if (!names_v.IsArray()) fail(code::kArgument, "options.names must be an array");
    Napi::Array names = names_v.As<Napi::Array>();
    if (names.Length() != tensors.size()) fail(code::kArgument, "names and tensors differ in length");
    io::NamedTensors list;
    for (uint32_t i = 0; i < names.Length(); ++i) list.emplace_back(get_string(names.Get(i), "names[" + std::to_string(i) + "]"), tensors[i]);
    return run_async<bool>(
        env, [path, list, wrapper]() { io::write_torch_state_dict(path, list, wrapper); return true; }, resolved_undefined, Lane::kLight);
  });
}

}  // namespace

void register_torch_pickle(Napi::Env env, Napi::Object exports) {
  exports.Set("readTorchStateDict", Napi::Function::New(env, ReadTorchStateDict, "readTorchStateDict"));
  exports.Set("writeTorchStateDict", Napi::Function::New(env, WriteTorchStateDict, "writeTorchStateDict"));
}

}  // namespace da::bind
