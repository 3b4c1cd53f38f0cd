// Data parallelism: distInit({ rank, worldSize, masterAddr, masterPort, device, timeoutMs }) joins
// a c10d process group (resolves once every rank has joined); the ProcessGroupHandle's collectives.
#include <ATen/ATen.h>

#include "bind/errors.h"
#include "bind/options.h"
#include "bind/process_group_handle.h"
#include "bind/register.h"
#include "bind/tensor_handle.h"
#include "bind/worker.h"
#include "core/error.h"

namespace da::bind {

using Group = std::shared_ptr<dist::ProcessGroup>;

void ProcessGroupHandle::Init(Napi::Env env) {
  Define(env, {
                  InstanceMethod("allReduceMean", &ProcessGroupHandle::AllReduceMean),
                  InstanceMethod("barrier", &ProcessGroupHandle::Barrier),
                  InstanceMethod("allGather", &ProcessGroupHandle::AllGather),
                  InstanceMethod("any", &ProcessGroupHandle::Any),
                  InstanceMethod("info", &ProcessGroupHandle::Info),
              });
}

// Each tensor in place becomes its mean over the ranks.
Napi::Value ProcessGroupHandle::AllReduceMean(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    Group g = payload();
    Options o(info[0], "options");
    std::vector<at::Tensor> ts = o.tensors("tensors", true);
    o.finish();
    return run_async<bool>(
        env,
        [g, ts]() mutable {
          g->all_reduce_mean(ts);
          return true;
        },
        resolved_undefined);
  });
}

Napi::Value ProcessGroupHandle::Barrier(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    Group g = payload();
    return run_async<bool>(
        env,
        [g]() {
          g->barrier();
          return true;
        },
        resolved_undefined);
  });
}

// Every rank's tensor stacked in rank order [worldSize, ...], on the CPU.
Napi::Value ProcessGroupHandle::AllGather(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    Group g = payload();
    Options o(info[0], "options");
    at::Tensor t = o.tensor("tensor");
    o.finish();
    return run_async<at::Tensor>(
        env, [g, t]() { return g->all_gather(t); }, [](Napi::Env e, at::Tensor& r) -> Napi::Value { return TensorHandle::Wrap(e, r); });
  });
}

// True on every rank when any rank passed true.
Napi::Value ProcessGroupHandle::Any(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    Group g = payload();
    Options o(info[0], "options");
    auto flag = o.boolean("flag");
    o.finish();
    if (!flag) fail(code::kArgument, "options.flag is required");
    return run_async<bool>(
        env, [g, f = *flag]() { return g->any(f); }, [](Napi::Env e, bool& r) -> Napi::Value { return Napi::Boolean::New(e, r); });
  });
}

Napi::Value ProcessGroupHandle::Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    const Group& g = payload();
    Napi::Object o = Napi::Object::New(env);
    o.Set("rank", Napi::Number::New(env, g->rank()));
    o.Set("worldSize", Napi::Number::New(env, g->world_size()));
    o.Set("backend", Napi::String::New(env, g->backend()));
    return o;
  });
}

namespace {

Napi::Value DistInit(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    Options o(info[0], "options");
    dist::ProcessGroupOptions po = read_process_group(o);
    o.finish();
    // Joining waits for every peer (up to timeoutMs). A CPU (Gloo) group joins on a libuv worker,
    // so the process's model calls go on meanwhile (no collective can be in flight before it). An
    // NCCL group joins on the compute thread: it makes the rank's GPU current there, which is a
    // per-thread setting that the compute thread's later CUDA work relies on.
    const Lane lane = po.device.is_cuda() ? Lane::kCompute : Lane::kLight;
    return run_async<Group>(
        env, [po]() { return dist::ProcessGroup::create(po); },
        [](Napi::Env e, Group& g) -> Napi::Value { return ProcessGroupHandle::Wrap(e, g); }, lane);
  });
}

}  // namespace

void register_dist(Napi::Env env, Napi::Object exports) {
  ProcessGroupHandle::Init(env);
  exports.Set("distInit", Napi::Function::New(env, DistInit, "distInit"));
}

}  // namespace da::bind
