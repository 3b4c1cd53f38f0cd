#include "bind/threads.h"

#include <ATen/Parallel.h>

#include <atomic>

namespace da::bind {
namespace {
std::atomic<int> g_threads{0};
thread_local bool t_initialised = false;
thread_local int t_applied = -1;
}  // namespace

void set_desired_threads(int n) { g_threads.store(n); }
int desired_threads() { return g_threads.load(); }

void apply_thread_settings() {
  if (!t_initialised) {
    at::init_num_threads();
    t_initialised = true;
  }
  int want = g_threads.load();
  if (want > 0 && want != t_applied) {
    at::set_num_threads(want);
    t_applied = want;
  }
}

}  // namespace da::bind
