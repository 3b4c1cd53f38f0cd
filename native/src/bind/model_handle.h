// ModelHandle: a JS handle over one native model (VAE, UNet, glyph encoder, LPIPS). Generic
// operations (parameters, gradients, save, dispose) live here; each model's own calls are free
// functions in its own binding file that take the handle.
#pragma once
#include <napi.h>
#include <torch/nn/module.h>

#include <functional>
#include <memory>
#include <mutex>
#include <string>

namespace da::bind {

struct ModelBox {
  std::string kind;                           // "vae" | "unet" | "glyph_encoder" | "lpips"
  std::shared_ptr<torch::nn::Module> module;  // the model (typed access via std::dynamic_pointer_cast)
  std::function<void(const std::string&)> save;  // writes the reference folder layout (may be empty)
  std::function<std::string()> config_json;       // the config as JSON (may be empty)
  std::mutex mutex;                           // one native call per model at a time
};

class ModelHandle : public Napi::ObjectWrap<ModelHandle> {
 public:
  static void Init(Napi::Env env, Napi::Object exports);
  static Napi::Object Wrap(Napi::Env env, std::shared_ptr<ModelBox> box);
  // The box behind a handle, checking kind ("" = any); ERR_ARGUMENT / ERR_DISPOSED.
  static std::shared_ptr<ModelBox> FromValue(const Napi::Value& v, const std::string& kind, const std::string& what);

  template <typename T>
  static std::shared_ptr<T> Typed(const std::shared_ptr<ModelBox>& box) {
    return std::dynamic_pointer_cast<T>(box->module);
  }

  explicit ModelHandle(const Napi::CallbackInfo& info);

 private:
  Napi::Value Kind(const Napi::CallbackInfo& info);
  Napi::Value Config(const Napi::CallbackInfo& info);
  Napi::Value Parameters(const Napi::CallbackInfo& info);
  Napi::Value ParameterCount(const Napi::CallbackInfo& info);
  Napi::Value Grad(const Napi::CallbackInfo& info);
  Napi::Value ZeroGrad(const Napi::CallbackInfo& info);
  Napi::Value SetRequiresGrad(const Napi::CallbackInfo& info);
  Napi::Value Save(const Napi::CallbackInfo& info);
  Napi::Value Dispose(const Napi::CallbackInfo& info);
  Napi::Value Disposed(const Napi::CallbackInfo& info);
  const std::shared_ptr<ModelBox>& box() const;

  std::shared_ptr<ModelBox> box_;
};

// Options shared by every loader: { dtype?: string, device?: string, variant?: string }.
struct LoadArgs {
  at::ScalarType dtype;
  c10::Device device{c10::kCPU};
  std::string variant;
};
LoadArgs parse_load_args(const Napi::Value& v);

// loadX(dir, options): runs `load` on a worker thread and resolves with the wrapped model.
using ModelLoader = std::function<std::shared_ptr<ModelBox>(const std::string& dir, const LoadArgs& args)>;
Napi::Value load_model_async(const Napi::CallbackInfo& info, ModelLoader load);

// createX(configJson, options, seed?): a model from a config with libtorch's default init (tests,
// benchmarks, training from scratch). The seed goes to libtorch's default generator first.
using ModelFactory = std::function<std::shared_ptr<ModelBox>(const std::string& config_json, const LoadArgs& args)>;
Napi::Value create_model_async(const Napi::CallbackInfo& info, ModelFactory make);

}  // namespace da::bind
