// Runs core work off the JS thread and settles a Promise on the JS thread. The event loop never
// waits on libtorch; the work itself runs on the addon's single compute thread (compute_thread.h:
// one OpenMP team per process), queued from a libuv worker; exceptions are captured and rejected
// as DocAnonErrors.
#pragma once
#include <napi.h>

#include <functional>
#include <optional>

#include "bind/compute_thread.h"
#include "bind/errors.h"

namespace da::bind {

// Where a call's work runs: the compute thread (models, training, anything heavy) or, for small
// data-preparation calls, the libuv worker itself (see prepare_light_thread).
enum class Lane { kCompute, kLight };

// Runs `body` on the compute thread. `body` catches its own exceptions; a call refused or dropped
// at process exit (see drop_queued_work) lands in `error` too, so no worker loses its error code.
inline void run_captured_on_compute_thread(const std::function<void()>& body, CapturedError& error) {
  try {
    run_on_compute_thread(body);
  } catch (...) {
    error = capture_current_exception();
  }
}

template <typename R>
class FnWorker : public Napi::AsyncWorker {
 public:
  FnWorker(Napi::Env env, std::function<R()> work, std::function<Napi::Value(Napi::Env, R&)> done, Lane lane)
      : Napi::AsyncWorker(env, "doc-anon-torch"), work_(std::move(work)), done_(std::move(done)),
        deferred_(Napi::Promise::Deferred::New(env)), lane_(lane) {}

  Napi::Promise promise() { return deferred_.Promise(); }

 protected:
  void Execute() override {
    auto body = [this] {
      try {
        result_.emplace(work_());
      } catch (...) {
        error_ = capture_current_exception();
      }
    };
    if (lane_ == Lane::kLight) {
      prepare_light_thread();
      body();
    } else {
      run_captured_on_compute_thread(body, error_);
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
  Lane lane_;
};

// Queues `work` (runs off the JS thread; must not touch napi values) and converts its result
// with `done` on the JS thread.
template <typename R>
Napi::Promise run_async(Napi::Env env, std::function<R()> work, std::function<Napi::Value(Napi::Env, R&)> done,
                        Lane lane = Lane::kCompute) {
  auto* w = new FnWorker<R>(env, std::move(work), std::move(done), lane);
  Napi::Promise p = w->promise();
  w->Queue();
  return p;
}

}  // namespace da::bind
