// The boundary protocol: a call takes the native objects it acts on as positional handles, and
// everything else (tensors, settings, optional objects, callbacks) in ONE options object. Options
// reads that object: each read names its key and type, and finish() refuses keys nobody read (a
// typo would otherwise be silently ignored). Each options struct of the core has one reader below,
// used by every call that takes it.
#pragma once
#include <ATen/core/Tensor.h>
#include <napi.h>

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "dist/process_group.h"
#include "models/registry.h"
#include "sampling/inpaint.h"
#include "schedulers/scheduler.h"
#include "train/trainer.h"
#include "train/unet_loss.h"
#include "train/vae_loss.h"

namespace da::bind {

class Options {
 public:
  // `v` must be an object, undefined or null (no options); `what` names it in errors.
  Options(const Napi::Value& v, std::string what);

  bool has(const char* key);  // present and neither undefined nor null (marks the key read)
  Napi::Value value(const char* key);  // raw (undefined when absent)
  std::optional<double> number(const char* key);
  std::optional<int64_t> integer(const char* key, int64_t min, int64_t max);
  std::optional<uint64_t> seed(const char* key);  // an integer in [0, 2^53)
  std::optional<bool> boolean(const char* key);
  std::optional<std::string> string(const char* key);
  // One of `allowed` (ERR_ARGUMENT listing them).
  std::optional<std::string> choice(const char* key, const std::vector<std::string>& allowed);
  at::Tensor tensor(const char* key, bool required = true);
  std::vector<at::Tensor> tensors(const char* key, bool allow_empty = false);  // an array of tensors
  std::vector<Napi::Object> objects(const char* key, bool allow_empty = false);  // an array of objects
  std::vector<int64_t> shape(const char* key);
  at::ScalarType dtype(const char* key, at::ScalarType def);
  c10::Device device(const char* key, c10::Device def);
  Napi::Function function(const char* key);  // empty when absent

  // ERR_ARGUMENT naming every key that is present but was not read.
  void finish();

 private:
  Napi::Env env_;
  Napi::Object object_;
  bool present_;
  std::string what_;
  std::set<std::string> read_;
  std::string name(const char* key) const { return what_ + "." + key; }
};

// The readers of the core's options structs (one each: every call taking the struct uses it).
models::ModelSpec read_model_spec(Options& o);
train::VaeLossOptions read_vae_loss(Options& o);
train::UnetLossOptions read_unet_loss(Options& o);
train::StepOptions read_step(Options& o);
train::TrainerOptions read_trainer(Options& o);
sampling::InpaintRequest read_inpaint(Options& o);
schedulers::StepOptions read_scheduler_step(Options& o);
dist::ProcessGroupOptions read_process_group(Options& o);

}  // namespace da::bind
