#include "bind/compute_thread.h"

#include <ATen/Parallel.h>
#include <dlfcn.h>

#include <condition_variable>
#include <deque>
#include <exception>
#include <future>
#include <mutex>
#include <thread>

#include "bind/threads.h"
#include "core/error.h"

namespace da::bind {
namespace {

class ComputeThread {
 public:
  ComputeThread() {
    // Detached and never destroyed: it must outlive every caller, including work still queued
    // while the process exits (a joinable std::thread destroyed at exit would abort).
    std::thread([this] { loop(); }).detach();
  }

  void run(const std::function<void()>& fn) {
    std::packaged_task<void()> task(fn);
    std::future<void> done = task.get_future();
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (exiting_) fail(code::kDisposed, "the process is exiting: no more native work is started");
      queue_.push_back(std::move(task));
    }
    ready_.notify_one();
    try {
      done.get();  // rethrows what fn threw
    } catch (const std::future_error& e) {
      // A task destroyed unrun (drop_queued() at process exit) breaks its promise.
      if (e.code() != std::future_errc::broken_promise) throw;
      fail(code::kDisposed, "the process is exiting: this native call was dropped before it started");
    }
  }

  // At process exit: the calls still queued never start. Node's exit joins libuv's workers, each
  // blocked on its call here, so it would otherwise wait for every queued call in turn, not only
  // for the one running (which cannot be interrupted).
  void drop_queued() {
    std::deque<std::packaged_task<void()>> dropped;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      exiting_ = true;
      dropped.swap(queue_);
    }
    // Destroying a task that never ran makes its caller's done.get() throw (broken promise).
  }

 private:
  void loop() {
    for (;;) {
      std::packaged_task<void()> task;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        ready_.wait(lock, [this] { return !queue_.empty(); });
        task = std::move(queue_.front());
        queue_.pop_front();
      }
      apply_thread_settings();
      task();  // exceptions go into the task's future
    }
  }

  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::packaged_task<void()>> queue_;
  bool exiting_ = false;
};

ComputeThread& compute_thread() {
  static ComputeThread* instance = new ComputeThread();  // intentionally leaked (see above)
  return *instance;
}

}  // namespace

void run_on_compute_thread(const std::function<void()>& fn) { compute_thread().run(fn); }

void drop_queued_work() { compute_thread().drop_queued(); }

void prepare_light_thread() {
  thread_local bool prepared = false;
  if (prepared) return;
  prepared = true;
  // libtorch sets a thread's OpenMP thread count lazily, on its first parallel call; trigger that
  // now so the setting below is not overwritten. Then one thread: its parallel regions run inline.
  // The OpenMP runtime is the one libtorch loaded (looked up, not linked: no second runtime).
  (void)at::get_num_threads();
  using SetThreads = void (*)(int);
  if (auto set = reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "omp_set_num_threads"))) set(1);
}

}  // namespace da::bind
