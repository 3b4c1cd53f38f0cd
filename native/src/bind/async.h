// Runs core work on a libuv worker thread and settles a Promise on the JS thread. The event loop
// never waits on libtorch; exceptions are captured on the worker and rejected as DocAnonErrors.
#pragma once
#include <napi.h>

#include <functional>
#include <optional>

#include "bind/errors.h"
#include "bind/threads.h"

namespace da::bind {

template <typename R>
class FnWorker : public Napi::AsyncWorker {
 public:
  FnWorker(Napi::Env env, std::function<R()> work, std::function<Napi::Value(Napi::Env, R&)> done)
      : Napi::AsyncWorker(env, "doc-anon-torch"), work_(std::move(work)), done_(std::move(done)),
        deferred_(Napi::Promise::Deferred::New(env)) {}

  Napi::Promise promise() { return deferred_.Promise(); }

 protected:
  void Execute() override {
    apply_thread_settings();
    try {
      result_.emplace(work_());
    } catch (...) {
      error_ = capture_current_exception();
    }
  }
  void OnOK() override {
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    if (error_.set()) {
      deferred_.Reject(make_error(env, error_.code, error_.message).Value());
      return;
    }
    try {
      deferred_.Resolve(done_(env, *result_));
    } catch (const Napi::Error& e) {
      deferred_.Reject(e.Value());
    } catch (...) {
      CapturedError e = capture_current_exception();
      deferred_.Reject(make_error(env, e.code, e.message).Value());
    }
  }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  std::function<R()> work_;
  std::function<Napi::Value(Napi::Env, R&)> done_;
  Napi::Promise::Deferred deferred_;
  std::optional<R> result_;
  CapturedError error_;
};

// Queues `work` (runs off the JS thread; must not touch napi values) and converts its result
// with `done` on the JS thread.
template <typename R>
Napi::Promise run_async(Napi::Env env, std::function<R()> work, std::function<Napi::Value(Napi::Env, R&)> done) {
  auto* w = new FnWorker<R>(env, std::move(work), std::move(done));
  Napi::Promise p = w->promise();
  w->Queue();
  return p;
}

}  // namespace da::bind
