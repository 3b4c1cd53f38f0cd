// The one way a call runs off the JS thread: AsyncCall queues its work, settles a Promise on the JS
// thread, and optionally reports progress. The event loop never waits on libtorch; model work runs
// on the addon's single compute thread (compute_thread.h: one OpenMP team per process), queued
// from a libuv worker; small data calls run on the libuv worker itself. Exceptions are captured and
// rejected as DocAnonErrors with their code.
#pragma once
#include <napi.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <utility>

#include "bind/compute_thread.h"
#include "bind/errors.h"

namespace da::bind {

// Where a call's work runs: the compute thread (models, training, anything heavy) or, for small
// data-preparation calls, the libuv worker itself (see prepare_light_thread).
enum class Lane { kCompute, kLight };

// A step of a long call (the sampling loop): `step` of `total` done.
struct Progress {
  int64_t step, total;
};
// What a work function calls to report progress (any thread; delivered to the JS thread).
using Report = std::function<void(int64_t step, int64_t total)>;

template <class R>
class AsyncCall : public Napi::AsyncProgressQueueWorker<Progress> {
 public:
  using Work = std::function<R(const Report&)>;
  using Done = std::function<Napi::Value(Napi::Env, R&)>;

  AsyncCall(Napi::Env env, Work work, Done done, Lane lane, Napi::Function on_progress)
      : Napi::AsyncProgressQueueWorker<Progress>(env, "doc-anon-torch"), work_(std::move(work)), done_(std::move(done)),
        deferred_(Napi::Promise::Deferred::New(env)), lane_(lane) {
    if (!on_progress.IsEmpty()) on_progress_ = Napi::Persistent(on_progress);
  }

  Napi::Promise promise() { return deferred_.Promise(); }

 protected:
  void Execute(const ExecutionProgress& progress) override {
    const Report report = [&progress](int64_t step, int64_t total) {
      Progress p{step, total};
      progress.Send(&p, 1);  // queued to the JS thread
    };
    auto body = [&] {
      try {
        result_.emplace(work_(report));
      } catch (...) {
        error_ = capture_current_exception();
      }
    };
    if (lane_ == Lane::kLight) {
      prepare_light_thread();
      body();
      return;
    }
    try {
      run_on_compute_thread(body);
    } catch (...) {
      // Refused or dropped at process exit (compute_thread.h): the error keeps its code.
      error_ = capture_current_exception();
    }
  }

  void OnProgress(const Progress* data, size_t count) override {
    if (on_progress_.IsEmpty() || !count) return;
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    try {
      on_progress_.Call({Napi::Number::New(env, static_cast<double>(data[count - 1].step)),
                         Napi::Number::New(env, static_cast<double>(data[count - 1].total))});
    } catch (...) {
      // A throwing progress callback must not take the process down; the call goes on.
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
  Work work_;
  Done done_;
  Napi::Promise::Deferred deferred_;
  Lane lane_;
  Napi::FunctionReference on_progress_;
  std::optional<R> result_;
  CapturedError error_;
};

// Queues `work` (off the JS thread: it must not touch napi values) and converts its result with
// `done` on the JS thread. `on_progress(step, total)`, when given, gets what `work` reports.
template <class R>
Napi::Promise run_async(Napi::Env env, typename AsyncCall<R>::Work work, typename AsyncCall<R>::Done done, Lane lane = Lane::kCompute,
                        Napi::Function on_progress = Napi::Function()) {
  auto* w = new AsyncCall<R>(env, std::move(work), std::move(done), lane, on_progress);
  Napi::Promise p = w->promise();
  w->Queue();
  return p;
}

// The same for work that reports no progress.
template <class R>
Napi::Promise run_async(Napi::Env env, std::function<R()> work, typename AsyncCall<R>::Done done, Lane lane = Lane::kCompute) {
  return run_async<R>(env, [w = std::move(work)](const Report&) { return w(); }, std::move(done), lane);
}

// A Promise resolved with undefined (calls whose work returns nothing use `bool`).
inline Napi::Value resolved_undefined(Napi::Env env, bool&) { return env.Undefined(); }

}  // namespace da::bind
