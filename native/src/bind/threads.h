// Intra-op thread settings. OpenMP thread counts are per OS thread, so the configured value is
// re-applied on each worker thread before it runs libtorch work.
#pragma once

namespace da::bind {

void set_desired_threads(int n);  // 0 = libtorch default (physical cores)
int desired_threads();
void apply_thread_settings();

}  // namespace da::bind
