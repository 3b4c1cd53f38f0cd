// Entry points that exist to test the boundary itself: spin({ ms }), a long native call (event-loop
// test), and throwKind({ kind }), a thrower per exception kind (error-mapping test).
#include <ATen/ATen.h>
#include <c10/util/Exception.h>

#include <chrono>
#include <thread>

#include "bind/args.h"
#include "bind/options.h"
#include "bind/worker.h"
#include "bind/errors.h"
#include "bind/register.h"
#include "core/error.h"

namespace da::bind {
namespace {

// Busy libtorch work for about `ms` milliseconds on a worker thread.
Napi::Value Spin(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    Options o(info[0], "options");
    int64_t ms = o.integer("ms", 0, 60000).value_or(0);
    o.finish();
    return run_async<double>(
        env,
        [ms]() {
          auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
          at::Tensor a = at::rand({128, 128});
          double acc = 0;
          while (std::chrono::steady_clock::now() < until) acc += at::mm(a, a).sum().item<double>() * 1e-12;
          return acc;
        },
        [](Napi::Env e, double& v) -> Napi::Value { return Napi::Number::New(e, v); });
  });
}

Napi::Value Throw(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    Options o(info[0], "options");
    std::string kind = o.string("kind").value_or("");
    o.finish();
    return run_async<bool>(
        env,
        [kind]() -> bool {
          if (kind == "da") throw da::Error(code::kShape, "shape test");
          if (kind == "c10") TORCH_CHECK(false, "c10 test");
          if (kind == "oom") throw std::bad_alloc();
          if (kind == "std") throw std::runtime_error("std test");
          if (kind == "torch-op") (void)at::mm(at::ones({2, 3}), at::ones({2, 3}));
          if (kind == "unknown") throw 42;
          return true;
        },
        resolved_undefined);
  });
}

}  // namespace

void register_testing(Napi::Env env, Napi::Object exports) {
  Napi::Object t = Napi::Object::New(env);
  t.Set("spin", Napi::Function::New(env, Spin, "spin"));
  t.Set("throwKind", Napi::Function::New(env, Throw, "throwKind"));
  exports.Set("testing", t);
}

}  // namespace da::bind
