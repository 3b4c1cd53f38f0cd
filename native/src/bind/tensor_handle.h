// TensorHandle: an opaque JS handle over an at::Tensor. Data crosses by copy into JS-owned
// memory (Electron forbids external ArrayBuffers). dispose() frees eagerly; the finalizer is a net.
#pragma once
#include <ATen/core/Tensor.h>
#include <napi.h>

namespace da::bind {

class TensorHandle : public Napi::ObjectWrap<TensorHandle> {
 public:
  static void Init(Napi::Env env, Napi::Object exports);
  // Wraps a tensor into a new JS handle (JS thread only).
  static Napi::Object Wrap(Napi::Env env, at::Tensor t);
  // The tensor behind a JS value; throws ERR_ARGUMENT / ERR_DISPOSED naming `what`.
  static at::Tensor FromValue(const Napi::Value& v, const std::string& what);
  static bool IsHandle(const Napi::Value& v);

  explicit TensorHandle(const Napi::CallbackInfo& info);

 private:
  static Napi::Value FromTypedArray(const Napi::CallbackInfo& info);
  static Napi::Value Zeros(const Napi::CallbackInfo& info);
  static Napi::Value Randn(const Napi::CallbackInfo& info);
  Napi::Value Shape(const Napi::CallbackInfo& info);
  Napi::Value Dtype(const Napi::CallbackInfo& info);
  Napi::Value Device(const Napi::CallbackInfo& info);
  Napi::Value Numel(const Napi::CallbackInfo& info);
  Napi::Value Disposed(const Napi::CallbackInfo& info);
  Napi::Value ToTypedArray(const Napi::CallbackInfo& info);
  Napi::Value ToTypedArrayAsync(const Napi::CallbackInfo& info);
  Napi::Value To(const Napi::CallbackInfo& info);
  Napi::Value Dispose(const Napi::CallbackInfo& info);
  const at::Tensor& tensor(Napi::Env env) const;

  at::Tensor tensor_;
};

// Copies a CPU tensor into a new JS typed array of the matching kind.
Napi::Value tensor_to_typed_array(Napi::Env env, const at::Tensor& cpu_contiguous);

}  // namespace da::bind
