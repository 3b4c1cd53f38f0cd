// Per-environment state of the addon (one per Node/Electron context or worker thread).
#pragma once
#include <napi.h>

namespace da::bind {

struct AddonData {
  Napi::FunctionReference error_class;   // DocAnonError from TypeScript (registered by init())
  Napi::FunctionReference tensor_class;  // TensorHandle constructor
  Napi::FunctionReference safetensors_class;
  Napi::FunctionReference model_class;
  Napi::FunctionReference scheduler_class;
  Napi::FunctionReference abort_token_class;
};

inline AddonData& addon_data(Napi::Env env) { return *env.GetInstanceData<AddonData>(); }

}  // namespace da::bind
