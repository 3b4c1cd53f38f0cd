// Data-parallel entry points: distInit (join a c10d process group; resolves once every rank has
// joined), distAllReduceMean / distBarrier / distAllGather / distAny (collectives), distInfo and
// disposeProcessGroup. Trainers take the handle in createTrainer({ processGroup }).
#include <ATen/ATen.h>

#include "bind/args.h"
#include "bind/async.h"
#include "bind/dist_handle.h"
#include "bind/errors.h"
#include "bind/options.h"
#include "bind/register.h"
#include "bind/tensor_handle.h"
#include "core/error.h"

namespace da::bind {
namespace {

const napi_type_tag kProcessGroupTag = {0x3c5e7a9b1d2f4e60ULL, 0x9a8b7c6d5e4f3a21ULL};

struct GroupBox {
  std::shared_ptr<dist::ProcessGroup> group;
};

Napi::Value wrap(Napi::Env env, std::shared_ptr<dist::ProcessGroup>& g) {
  auto ext = Napi::External<GroupBox>::New(env, new GroupBox{g}, [](Napi::Env, GroupBox* p) { delete p; });
  ext.TypeTag(&kProcessGroupTag);
  return ext;
}

// distInit({ rank, worldSize, masterAddr, masterPort, device, timeoutMs }) -> Promise<group>
Napi::Value DistInit(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    Napi::Object o = get_object(info[0], "options");
    dist::ProcessGroupOptions po;
    po.world_size = static_cast<int>(field_int(o, "worldSize", 1, 1 << 16).value_or(1));
    po.rank = static_cast<int>(field_int(o, "rank", 0, po.world_size - 1).value_or(0));
    po.master_addr = field_string(o, "masterAddr").value_or(po.master_addr);
    po.master_port = static_cast<int>(field_int(o, "masterPort", 1, 65535).value_or(po.master_port));
    po.device = parse_device(field_string(o, "device").value_or("cpu"));
    po.timeout = std::chrono::milliseconds(field_int(o, "timeoutMs", 1, int64_t{1} << 40).value_or(po.timeout.count()));
    // Joining waits for every peer (up to timeoutMs). A CPU (Gloo) group joins on a libuv worker,
    // so the process's model calls go on meanwhile (no collective can be in flight before it). An
    // NCCL group joins on the compute thread: it makes the rank's GPU current there, which is a
    // per-thread setting that the compute thread's later CUDA work relies on.
    const Lane lane = po.device.is_cuda() ? Lane::kCompute : Lane::kLight;
    return run_async<std::shared_ptr<dist::ProcessGroup>>(
        env, [po]() { return dist::ProcessGroup::create(po); }, wrap, lane);
  });
}

// distAllReduceMean(group, tensors[]) -> Promise<void>: each tensor in place becomes the mean.
Napi::Value DistAllReduceMean(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    auto g = process_group_from(info[0]);
    if (!info[1].IsArray()) fail(code::kArgument, "tensors must be an array of tensors");
    Napi::Array a = info[1].As<Napi::Array>();
    std::vector<at::Tensor> ts;
    for (uint32_t i = 0; i < a.Length(); ++i) ts.push_back(TensorHandle::FromValue(a.Get(i), "tensors[" + std::to_string(i) + "]"));
    return run_async<bool>(
        env,
        [g, ts]() mutable {
          g->all_reduce_mean(ts);
          return true;
        },
        [](Napi::Env e, bool&) -> Napi::Value { return e.Undefined(); });
  });
}

Napi::Value DistBarrier(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    auto g = process_group_from(info[0]);
    return run_async<bool>(
        env,
        [g]() {
          g->barrier();
          return true;
        },
        [](Napi::Env e, bool&) -> Napi::Value { return e.Undefined(); });
  });
}

// distAllGather(group, tensor) -> Promise<tensor [worldSize, ...]> (every rank's tensor, on the CPU).
Napi::Value DistAllGather(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    auto g = process_group_from(info[0]);
    at::Tensor t = TensorHandle::FromValue(info[1], "tensor");
    return run_async<at::Tensor>(
        env, [g, t]() { return g->all_gather(t); }, [](Napi::Env e, at::Tensor& r) -> Napi::Value { return TensorHandle::Wrap(e, r); });
  });
}

// distAny(group, flag) -> Promise<boolean>: true on every rank when any rank passed true.
Napi::Value DistAny(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    auto g = process_group_from(info[0]);
    if (!info[1].IsBoolean()) fail(code::kArgument, "flag must be a boolean");
    bool flag = info[1].As<Napi::Boolean>().Value();
    return run_async<bool>(
        env, [g, flag]() { return g->any(flag); }, [](Napi::Env e, bool& r) -> Napi::Value { return Napi::Boolean::New(e, r); });
  });
}

Napi::Value DistInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    auto g = process_group_from(info[0]);
    Napi::Object o = Napi::Object::New(env);
    o.Set("rank", Napi::Number::New(env, g->rank()));
    o.Set("worldSize", Napi::Number::New(env, g->world_size()));
    o.Set("backend", Napi::String::New(env, g->backend()));
    return o;
  });
}

// Drops this handle's reference; the group closes when no trainer holds it either.
Napi::Value DisposeProcessGroup(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    if (!info[0].IsExternal() || !info[0].As<Napi::Object>().CheckTypeTag(&kProcessGroupTag)) fail(code::kArgument, "group must be a process-group handle");
    info[0].As<Napi::External<GroupBox>>().Data()->group.reset();
    return env.Undefined();
  });
}

}  // namespace

std::shared_ptr<dist::ProcessGroup> process_group_from(const Napi::Value& v) {
  if (!v.IsExternal() || !v.As<Napi::Object>().CheckTypeTag(&kProcessGroupTag)) fail(code::kArgument, "group must be a process-group handle");
  auto g = v.As<Napi::External<GroupBox>>().Data()->group;
  if (!g) fail(code::kDisposed, "the process group was disposed");
  return g;
}

void register_dist(Napi::Env env, Napi::Object exports) {
  exports.Set("distInit", Napi::Function::New(env, DistInit, "distInit"));
  exports.Set("distAllReduceMean", Napi::Function::New(env, DistAllReduceMean, "distAllReduceMean"));
  exports.Set("distBarrier", Napi::Function::New(env, DistBarrier, "distBarrier"));
  exports.Set("distAllGather", Napi::Function::New(env, DistAllGather, "distAllGather"));
  exports.Set("distAny", Napi::Function::New(env, DistAny, "distAny"));
  exports.Set("distInfo", Napi::Function::New(env, DistInfo, "distInfo"));
  exports.Set("disposeProcessGroup", Napi::Function::New(env, DisposeProcessGroup, "disposeProcessGroup"));
}

}  // namespace da::bind
