// Timing and memory helpers for the harness benchmarks (bench.* checks, opt-in).
#pragma once
#include <ATen/ATen.h>

#include <functional>
#include <string>

#include "harness.h"

namespace da::bench {

struct Timing {
  double mean_ms = 0, min_ms = 0;
  int iters = 0;
  double peak_mb = 0;  // CUDA: allocator peak during the runs; CPU: resident-size peak above the start
};

// Runs fn once to warm up, then repeats until `min_iters` runs and `budget_s` seconds have passed
// (at least one timed run). Synchronises CUDA around each run.
Timing time_it(const c10::Device& device, const std::function<void()>& fn, int min_iters = 3, double budget_s = 3.0);

// Loads a model config from a manifest file ({"config": {...}}).
std::string manifest_config(const harness::Context& ctx, const std::string& file);

// Prints one table row: name | ms mean | ms min | iters | peak MB | extra.
void row(const std::string& name, const Timing& t, const std::string& extra = "");
void header(const std::string& title);

}  // namespace da::bench
