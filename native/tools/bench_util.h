// Timing and memory helpers for the harness benchmarks (bench.* checks, opt-in).
#pragma once
#include <ATen/ATen.h>

#include <torch/nn/module.h>

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

// Waits for the device's queued work (CUDA); no-op on the CPU.
void sync(const c10::Device& device);

// Drops every parameter's gradient, as the trainer and diffusers' zero_grad(set_to_none=True) do
// (libtorch's Module::zero_grad detaches each gradient first: one op per parameter more).
void clear_grads(torch::nn::Module& m);

// Loads a model config from a manifest file ({"config": {...}}).
std::string manifest_config(const harness::Context& ctx, const std::string& file);

// Prints one table row: name | ms mean | ms min | iters | peak MB | extra.
void row(const std::string& name, const Timing& t, const std::string& extra = "");
void header(const std::string& title);

// Runs fn once and returns "ops in <what>: N (aten:: M)" with the `top` most frequent op names: the
// dispatcher ops (every level, autograd's backward functions too) it ran on any thread. Launch-bound
// steps (batch 1 on a GPU) are as fast as the ops they launch; bench/reference/diffusers_unet.py
// --opcount counts the reference the same way. Not reentrant (one process-wide counter).
std::string count_ops(const std::string& what, const c10::Device& device, const std::function<void()>& fn, int top = 15);

}  // namespace da::bench
