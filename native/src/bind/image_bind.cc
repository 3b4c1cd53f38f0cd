// imageToTensor({ image }) / tensorToImage({ tensor }): uint8 NHWC <-> float NCHW in [0, 1], off the JS thread.
#include <ATen/ATen.h>

#include "bind/args.h"
#include "bind/options.h"
#include "bind/worker.h"
#include "bind/errors.h"
#include "bind/register.h"
#include "bind/tensor_handle.h"
#include "tensor/image_ops.h"

namespace da::bind {
namespace {

Napi::Value wrap(Napi::Env e, at::Tensor& t) { return TensorHandle::Wrap(e, t); }

Napi::Value ImageToTensor(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    Options o(info[0], "options");
    at::Tensor x = o.tensor("image");
    o.finish();
    return run_async<at::Tensor>(env, [x]() { return tensor::image_u8_to_float(x); }, wrap, Lane::kLight);
  });
}

Napi::Value TensorToImage(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    Options o(info[0], "options");
    at::Tensor x = o.tensor("tensor");
    o.finish();
    return run_async<at::Tensor>(env, [x]() { return tensor::image_float_to_u8(x); }, wrap, Lane::kLight);
  });
}

}  // namespace

void register_image(Napi::Env env, Napi::Object exports) {
  exports.Set("imageToTensor", Napi::Function::New(env, ImageToTensor, "imageToTensor"));
  exports.Set("tensorToImage", Napi::Function::New(env, TensorToImage, "tensorToImage"));
}

}  // namespace da::bind
