// ModelHandle: JS's handle over one model of any kind (models/registry.h). Generic operations
// (parameters, gradients, save, config, dispose) live here, with the module functions that load
// and create models of every kind; each kind's own calls are free functions in its binding file.
//
// The one locking rule: a call that runs a model (on the compute thread) holds every model it
// touches, all taken at once through ModelLocks, for its whole run; a call on the JS thread that
// reads or changes a model's parameters (grad, zeroGrad, setRequiresGrad) only tries the lock and
// fails with ERR_BUSY instead of blocking the event loop. (In TypeScript, NativeModel.exclusive
// queues a call behind every model it touches, so calls on one model also start in call order.)
#pragma once
#include <napi.h>
#include <torch/nn/module.h>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "bind/handle.h"
#include "models/registry.h"

namespace da::bind {

struct ModelBox {
  models::Model model;
  std::mutex mutex;
  explicit ModelBox(models::Model m) : model(std::move(m)) {}
  const char* name() const { return models::traits(model.kind).name; }
};
using ModelPtr = std::shared_ptr<ModelBox>;

// Holds the locks of several models (null entries skipped), taken in address order so that no two
// calls can deadlock on each other.
class ModelLocks {
 public:
  explicit ModelLocks(std::vector<ModelPtr> boxes);

 private:
  std::vector<std::unique_lock<std::mutex>> locks_;
};

class ModelHandle : public Handle<ModelHandle, ModelPtr> {
 public:
  static constexpr const char* kClass = "ModelHandle";
  static constexpr napi_type_tag kTag = {0x2f7c1a9e5d3b4c60ULL, 0x91e8a7d6c5b4f302ULL};
  static constexpr napi_type_tag kFactoryTag = {0x5a7c9e1b3d5f7a90ULL, 0x2c4e6a8b0d2f4a61ULL};

  static void Init(Napi::Env env, Napi::Object exports);
  using Handle::Handle;

  // The model behind `v`, which must be of `kind`; ERR_ARGUMENT / ERR_DISPOSED naming `what`.
  static ModelPtr Of(const Napi::Value& v, models::ModelKind kind, const std::string& what);
  // The same when present, null for undefined / null.
  static ModelPtr OptionalOf(const Napi::Value& v, models::ModelKind kind, const std::string& what);

 private:
  Napi::Value Kind(const Napi::CallbackInfo& info);
  Napi::Value Config(const Napi::CallbackInfo& info);
  Napi::Value Parameters(const Napi::CallbackInfo& info);
  Napi::Value ParameterCount(const Napi::CallbackInfo& info);
  Napi::Value Grad(const Napi::CallbackInfo& info);             // grad({ name })
  Napi::Value ZeroGrad(const Napi::CallbackInfo& info);
  Napi::Value SetRequiresGrad(const Napi::CallbackInfo& info);  // setRequiresGrad({ requiresGrad, prefix? })
  Napi::Value Save(const Napi::CallbackInfo& info);             // save({ dir })
};

}  // namespace da::bind
