// TensorHandle: JS's handle over an at::Tensor. Data crosses by copy into JS-owned memory
// (Electron forbids external ArrayBuffers). dispose() frees eagerly; the finalizer is a net.
#pragma once
#include <ATen/core/Tensor.h>
#include <napi.h>

#include <string>
#include <utility>
#include <vector>

#include "bind/handle.h"

namespace da::bind {

class TensorHandle : public Handle<TensorHandle, at::Tensor> {
 public:
  static constexpr const char* kClass = "TensorHandle";
  static constexpr napi_type_tag kTag = {0x6a1f3c2e9b7d4a51ULL, 0x8c0e2f4b17a9d3e6ULL};
  static constexpr napi_type_tag kFactoryTag = {0x3d5e7f9102a4c6e8ULL, 0x1b3d5f7092a4c6e9ULL};

  static void Init(Napi::Env env, Napi::Object exports);
  using Handle::Handle;

 private:
  // fromTypedArray(data, { shape, dtype }), zeros({ shape, dtype?, device? }), randn({ shape, seed, dtype? })
  static Napi::Value FromTypedArray(const Napi::CallbackInfo& info);
  static Napi::Value Zeros(const Napi::CallbackInfo& info);
  static Napi::Value Randn(const Napi::CallbackInfo& info);
  Napi::Value Shape(const Napi::CallbackInfo& info);
  Napi::Value Dtype(const Napi::CallbackInfo& info);
  Napi::Value Device(const Napi::CallbackInfo& info);
  Napi::Value Numel(const Napi::CallbackInfo& info);
  Napi::Value ToTypedArray(const Napi::CallbackInfo& info);
  Napi::Value ToTypedArrayAsync(const Napi::CallbackInfo& info);
  Napi::Value To(const Napi::CallbackInfo& info);  // to({ device?, dtype? })
};

// Named tensors as a JS object of handles (undefined tensors are left out).
using NamedTensors = std::vector<std::pair<std::string, at::Tensor>>;
Napi::Object named_tensors_to_js(Napi::Env env, const NamedTensors& named);
Napi::Array tensors_to_js(Napi::Env env, const std::vector<at::Tensor>& tensors);

// Copies a CPU tensor into a new JS typed array of the matching kind.
Napi::Value tensor_to_typed_array(Napi::Env env, const at::Tensor& cpu_contiguous);

}  // namespace da::bind
