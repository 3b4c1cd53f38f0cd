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
      queue_.push_back(std::move(task));
    }
    ready_.notify_one();
    done.get();  // rethrows what fn threw
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
};

ComputeThread& compute_thread() {
  static ComputeThread* instance = new ComputeThread();  // intentionally leaked (see above)
  return *instance;
}

}  // namespace

void run_on_compute_thread(const std::function<void()>& fn) { compute_thread().run(fn); }

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
