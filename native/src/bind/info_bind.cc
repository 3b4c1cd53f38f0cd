// init(ErrorClass) (registers the JS error class), info(), configure({ threads?, allowTf32? }) and
// dropQueuedWork().
#include <ATen/Context.h>
#include <ATen/Parallel.h>
#include <ATen/detail/CUDAHooksInterface.h>
#include <torch/version.h>

#include "bind/addon_data.h"
#include "bind/args.h"
#include "bind/compute_thread.h"
#include "bind/options.h"
#include "bind/errors.h"
#include "bind/register.h"
#include "bind/tensor_handle.h"
#include "bind/threads.h"
#include "core/error.h"
#include "core/runtime.h"
#include "dist/process_group.h"

namespace da::bind {
namespace {

Napi::Value Init(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsFunction()) throw_arg(env, "init(ErrorClass) needs the DocAnonError class");
  addon_data(env).error_class = Napi::Persistent(info[0].As<Napi::Function>());
  return env.Undefined();
}

Napi::Value Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    Napi::Object o = Napi::Object::New(env);
    o.Set("libtorch", Napi::String::New(env, TORCH_VERSION));
    bool cuda = at::hasCUDA();
    Napi::Object c = Napi::Object::New(env);
    c.Set("available", Napi::Boolean::New(env, cuda));
    c.Set("deviceCount", Napi::Number::New(env, cuda ? at::detail::getCUDAHooks().deviceCount() : 0));
    // isBuilt: the CUDA hooks of libtorch_cuda are registered, GPU or not (hasCUDA needs a device).
    c.Set("builtWithCuda", Napi::Boolean::New(env, at::detail::getCUDAHooks().isBuilt() || cuda));
    o.Set("cuda", c);
    Napi::Object t = Napi::Object::New(env);
    t.Set("intraOp", Napi::Number::New(env, desired_threads() > 0 ? desired_threads() : at::get_num_threads()));
    t.Set("interOp", Napi::Number::New(env, at::get_num_interop_threads()));
    t.Set("configured", Napi::Boolean::New(env, desired_threads() > 0));
    o.Set("threads", t);
    // SDPA is part of ATen since 2.0; on CPU it is the fused flash kernel for float/bf16.
    o.Set("sdpa", Napi::Boolean::New(env, true));
    o.Set("mkldnn", Napi::Boolean::New(env, at::hasMKLDNN()));
    o.Set("openmp", Napi::Boolean::New(env, at::hasOpenMP()));
    // NNPACK convolutions: off on CPUs it does not support (core/runtime.h).
    o.Set("nnpack", Napi::Boolean::New(env, da::runtime::settle_nnpack()));
    o.Set("parallelInfo", Napi::String::New(env, at::get_parallel_info()));
    // Process-group backends this build can create (data-parallel training on CPU / CUDA).
    o.Set("gloo", Napi::Boolean::New(env, dist::gloo_available()));
    o.Set("nccl", Napi::Boolean::New(env, dist::nccl_available()));
    o.Set("napiVersion", Napi::Number::New(env, NAPI_VERSION));
    return o;
  });
}

// configure({ threads?, allowTf32? }): libtorch's intra-op threads for later work, and TF32 on CUDA
// (cuDNN convolutions use it by default: fast, ~1e-3 relative error; matmuls don't).
Napi::Value Configure(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    Options o(info[0], "options");
    auto threads = o.integer("threads", 1, 1024);
    auto tf32 = o.boolean("allowTf32");
    o.finish();
    if (threads) {
      set_desired_threads(static_cast<int>(*threads));
      apply_thread_settings();
    }
    if (tf32) {
      at::globalContext().setAllowTF32CuDNN(*tf32);
      at::globalContext().setAllowTF32CuBLAS(*tf32);
    }
    return env.Undefined();
  });
}

// dropQueuedWork(): see compute_thread.h (process exit only).
Napi::Value DropQueuedWork(const Napi::CallbackInfo& info) {
  drop_queued_work();
  return info.Env().Undefined();
}

}  // namespace

void register_info(Napi::Env env, Napi::Object exports) {
  da::runtime::settle_nnpack();
  exports.Set("dropQueuedWork", Napi::Function::New(env, DropQueuedWork, "dropQueuedWork"));
  exports.Set("init", Napi::Function::New(env, Init, "init"));
  exports.Set("info", Napi::Function::New(env, Info, "info"));
  exports.Set("configure", Napi::Function::New(env, Configure, "configure"));
}

void register_tensor(Napi::Env env, Napi::Object exports) { TensorHandle::Init(env, exports); }

}  // namespace da::bind
