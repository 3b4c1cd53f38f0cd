#include "bind/options.h"

#include <ATen/ATen.h>

#include <chrono>

#include "bind/args.h"
#include "bind/tensor_handle.h"
#include "core/error.h"

namespace da::bind {

Options::Options(const Napi::Value& v, std::string what) : env_(v.Env()), present_(false), what_(std::move(what)) {
  if (v.IsUndefined() || v.IsNull()) return;
  if (!v.IsObject() || v.IsArray() || v.IsFunction()) fail(code::kArgument, what_ + " must be an options object");
  object_ = v.As<Napi::Object>();
  present_ = true;
}

Napi::Value Options::value(const char* key) {
  read_.insert(key);
  if (!present_ || !object_.Has(key)) return env_.Undefined();
  return object_.Get(key);
}

bool Options::has(const char* key) {
  read_.insert(key);
  if (!present_ || !object_.Has(key)) return false;
  Napi::Value v = object_.Get(key);
  return !v.IsUndefined() && !v.IsNull();
}

std::optional<double> Options::number(const char* key) {
  if (!has(key)) return std::nullopt;
  return get_number(object_.Get(key), name(key));
}

std::optional<int64_t> Options::integer(const char* key, int64_t min, int64_t max) {
  if (!has(key)) return std::nullopt;
  return get_int(object_.Get(key), name(key), min, max);
}

std::optional<uint64_t> Options::seed(const char* key) {
  auto v = integer(key, 0, (int64_t{1} << 53) - 1);
  if (!v) return std::nullopt;
  return static_cast<uint64_t>(*v);
}

std::optional<bool> Options::boolean(const char* key) {
  if (!has(key)) return std::nullopt;
  return get_bool(object_.Get(key), name(key));
}

std::optional<std::string> Options::string(const char* key) {
  if (!has(key)) return std::nullopt;
  return get_string(object_.Get(key), name(key));
}

std::optional<std::string> Options::choice(const char* key, const std::vector<std::string>& allowed) {
  auto v = string(key);
  if (!v) return std::nullopt;
  std::string list;
  for (const auto& a : allowed) {
    if (*v == a) return v;
    list += (list.empty() ? "'" : ", '") + a + "'";
  }
  fail(code::kArgument, name(key) + " must be " + list + ", got '" + *v + "'");
}

at::Tensor Options::tensor(const char* key, bool required) {
  if (!has(key)) {
    if (required) fail(code::kArgument, name(key) + " is required");
    return at::Tensor();
  }
  return TensorHandle::From(object_.Get(key), name(key));
}

std::vector<Napi::Object> Options::objects(const char* key, bool allow_empty) {
  const char* want = allow_empty ? " must be an array" : " must be a non-empty array";
  if (!has(key) || !object_.Get(key).IsArray()) fail(code::kArgument, name(key) + want);
  Napi::Array a = object_.Get(key).As<Napi::Array>();
  if (a.Length() == 0 && !allow_empty) fail(code::kArgument, name(key) + want);
  std::vector<Napi::Object> out;
  for (uint32_t i = 0; i < a.Length(); ++i) {
    Napi::Value v = a.Get(i);
    if (!v.IsObject()) fail(code::kArgument, name(key) + "[" + std::to_string(i) + "] must be an object");
    out.push_back(v.As<Napi::Object>());
  }
  return out;
}

std::vector<at::Tensor> Options::tensors(const char* key, bool allow_empty) {
  std::vector<at::Tensor> out;
  uint32_t i = 0;
  for (const auto& v : objects(key, allow_empty)) out.push_back(TensorHandle::From(v, name(key) + "[" + std::to_string(i++) + "]"));
  return out;
}

std::vector<int64_t> Options::shape(const char* key) {
  if (!has(key)) fail(code::kArgument, name(key) + " is required");
  return get_shape(object_.Get(key), name(key));
}

at::ScalarType Options::dtype(const char* key, at::ScalarType def) {
  auto s = string(key);
  return s ? parse_dtype(*s) : def;
}

c10::Device Options::device(const char* key, c10::Device def) {
  auto s = string(key);
  return s ? parse_device(*s) : def;
}

Napi::Function Options::function(const char* key) {
  if (!has(key)) return Napi::Function();
  Napi::Value v = object_.Get(key);
  if (!v.IsFunction()) fail(code::kArgument, name(key) + " must be a function");
  return v.As<Napi::Function>();
}

void Options::finish() {
  if (!present_) return;
  std::string unknown;
  Napi::Array keys = object_.GetPropertyNames();
  for (uint32_t i = 0; i < keys.Length(); ++i) {
    const std::string k = keys.Get(i).ToString().Utf8Value();
    if (read_.count(k) || object_.Get(k).IsUndefined()) continue;
    unknown += (unknown.empty() ? "" : ", ") + k;
  }
  if (!unknown.empty()) fail(code::kArgument, what_ + " has options this call does not take: " + unknown);
}

// ---------------------------------------------------------------- readers of the core's structs

models::ModelSpec read_model_spec(Options& o) {
  models::ModelSpec s;
  s.dtype = o.dtype("dtype", s.dtype);
  if (!at::isFloatingType(s.dtype) || s.dtype == at::kDouble) fail(code::kDtype, "model dtype must be float32, float16 or bfloat16");
  s.device = o.device("device", s.device);
  s.variant = o.string("variant").value_or("");
  s.heads = o.string("heads").value_or("");
  s.in_channels = o.integer("inChannels", 1, 4096).value_or(0);
  return s;
}

train::VaeLossOptions read_vae_loss(Options& o) {
  train::VaeLossOptions l;
  l.recon = o.choice("recon", {"l1", "mse"}).value_or(l.recon);
  l.recon_reduction = o.choice("reconReduction", {"sum_per_sample", "mean"}).value_or(l.recon_reduction);
  l.kl_weight = o.number("klWeight").value_or(l.kl_weight);
  l.lpips_weight = o.number("lpipsWeight").value_or(l.lpips_weight);
  l.sample_posterior = o.boolean("samplePosterior").value_or(l.sample_posterior);
  l.eps = o.tensor("eps", false);
  l.autocast = o.boolean("autocast").value_or(l.autocast);
  return l;
}

train::UnetLossOptions read_unet_loss(Options& o) {
  train::UnetLossOptions l;
  l.v_prediction = o.choice("prediction", {"epsilon", "v_prediction"}).value_or("epsilon") == "v_prediction";
  l.cond_dropout = o.number("condDropout").value_or(l.cond_dropout);
  l.masked_fill = o.number("maskedFill").value_or(l.masked_fill);
  l.autocast_bf16 = o.boolean("autocast").value_or(l.autocast_bf16);
  return l;
}

train::StepOptions read_step(Options& o) {
  train::StepOptions s;
  s.lr = o.number("lr").value_or(s.lr);
  s.max_grad_norm = o.number("maxGradNorm").value_or(s.max_grad_norm);
  s.ema_decay = o.number("emaDecay").value_or(s.ema_decay);
  return s;
}

train::TrainerOptions read_trainer(Options& o) {
  train::TrainerOptions t;
  t.adamw.beta1 = o.number("beta1").value_or(t.adamw.beta1);
  t.adamw.beta2 = o.number("beta2").value_or(t.adamw.beta2);
  t.adamw.eps = o.number("eps").value_or(t.adamw.eps);
  t.adamw.weight_decay = o.number("weightDecay").value_or(t.adamw.weight_decay);
  t.ema = o.boolean("ema").value_or(t.ema);
  t.seed = o.seed("seed").value_or(t.seed);
  return t;
}

sampling::InpaintRequest read_inpaint(Options& o) {
  sampling::InpaintRequest r;
  r.image = o.tensor("image");
  r.mask = o.tensor("mask");
  r.encoder_hidden_states = o.tensor("encoderHiddenStates");
  r.negative_encoder_hidden_states = o.tensor("negativeEncoderHiddenStates", false);
  r.latents = o.tensor("latents", false);
  r.glyph_image = o.tensor("glyphImage", false);
  r.num_inference_steps = o.integer("steps", 1, 1000).value_or(50);
  r.guidance_scale = o.number("guidanceScale").value_or(1.0);
  r.masked_fill = o.number("maskedFill").value_or(-1.0);  // DiffUTE's black hole
  r.eta = o.number("eta").value_or(r.eta);
  r.seed = o.seed("seed").value_or(0);
  r.keep_intermediates = o.boolean("keepIntermediates").value_or(false);
  return r;
}

schedulers::StepOptions read_scheduler_step(Options& o) {
  schedulers::StepOptions s;
  s.eta = o.number("eta").value_or(0.0);
  s.variance_noise = o.tensor("varianceNoise", false);
  return s;
}

dist::ProcessGroupOptions read_process_group(Options& o) {
  dist::ProcessGroupOptions p;
  p.world_size = static_cast<int>(o.integer("worldSize", 1, 1 << 16).value_or(1));
  p.rank = static_cast<int>(o.integer("rank", 0, p.world_size - 1).value_or(0));
  p.master_addr = o.string("masterAddr").value_or(p.master_addr);
  p.master_port = static_cast<int>(o.integer("masterPort", 1, 65535).value_or(p.master_port));
  p.device = o.device("device", p.device);
  p.timeout = std::chrono::milliseconds(o.integer("timeoutMs", 1, int64_t{1} << 40).value_or(p.timeout.count()));
  return p;
}

}  // namespace da::bind
