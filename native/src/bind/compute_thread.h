// Every libtorch computation of the addon runs on one dedicated compute thread. Why: OpenMP makes
// each OS thread that enters a parallel region the master of its own thread team. With libtorch
// calls spread over libuv's pool (4 threads), a process grows 4 teams; once libgomp sees more
// threads than CPUs it stops spin-waiting and every operator pays a futex wake-up (measured on 2
// cores: tiny-UNet train steps at 2 threads ran at ~55% of eager PyTorch's speed; with one
// master they match it). One compute thread = one team, as in a PyTorch process. The libuv
// worker that queued a call sleeps until its work is done, so non-libtorch async work (sharp,
// file IO) keeps the other pool threads.
#pragma once
#include <functional>

namespace da::bind {

// Runs `fn` on the compute thread (after the calls queued before it) and waits for it. An
// exception thrown by `fn` is rethrown here unchanged.
void run_on_compute_thread(const std::function<void()>& fn);

// For process exit: calls queued behind the running one never start (their callers get an error)
// and later calls are refused with ERR_DISPOSED. The loader calls it from the main thread's 'exit'
// event, which comes before Node joins libuv's workers (each waiting on its queued call).
void drop_queued_work();

// Small data-preparation calls (image conversion, TrOCR resizing, file IO) run on the libuv worker
// itself instead, so the data pipeline keeps flowing while a train step holds the compute thread.
// This makes the calling thread single-threaded for OpenMP (no second team); call it first.
void prepare_light_thread();

}  // namespace da::bind
