// AutoencoderKL entry points: loadVae, createVae, vaeEncode, vaeDecode, vaeLoss.
#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <torch/autograd.h>

#include "bind/args.h"
#include "bind/async.h"
#include "bind/errors.h"
#include "bind/model_handle.h"
#include "bind/options.h"
#include "bind/register.h"
#include "bind/tensor_handle.h"
#include "core/error.h"
#include "core/json.h"
#include "models/vae.h"
#include "train/vae_loss.h"

namespace da::bind {
namespace {

using models::AutoencoderKLImpl;

std::shared_ptr<ModelBox> make_box(std::shared_ptr<AutoencoderKLImpl> vae) {
  auto box = std::make_shared<ModelBox>();
  box->kind = "vae";
  box->module = vae;
  box->save = [vae](const std::string& dir) { vae->save_pretrained(dir); };
  box->config_json = [vae]() { return vae->config().to_json(); };
  return box;
}

Napi::Value LoadVae(const Napi::CallbackInfo& info) {
  return load_model_async(info, [](const std::string& dir, const LoadArgs& a) {
    models::LoadOptions lo;
    lo.dtype = a.dtype;
    lo.device = a.device;
    auto vae = AutoencoderKLImpl::from_pretrained(dir, lo, a.variant);
    vae->eval();
    return make_box(vae);
  });
}

// A model from a config with libtorch's default init (tests, benchmarks, training from scratch).
Napi::Value CreateVae(const Napi::CallbackInfo& info) {
  return create_model_async(info, [](const std::string& cfg, const LoadArgs& a) {
    auto vae = std::make_shared<AutoencoderKLImpl>(models::AutoencoderKLConfig::from_json(json::parse(cfg, code::kConfig)));
    vae->to(a.device, a.dtype);
    vae->eval();
    return make_box(vae);
  });
}

struct Tensors {
  std::vector<std::pair<std::string, at::Tensor>> items;
};

Napi::Value to_js(Napi::Env env, Tensors& t) {
  Napi::Object o = Napi::Object::New(env);
  for (auto& [k, v] : t.items) o.Set(k, v.defined() ? Napi::Value(TensorHandle::Wrap(env, v)) : env.Null());
  return o;
}

at::Tensor model_input(const at::Tensor& x, const AutoencoderKLImpl& vae, const char* what, int64_t channels) {
  if (x.dim() != 4 || x.size(1) != channels)
    fail(code::kShape, std::string(what) + " must be [B, " + std::to_string(channels) + ", H, W], got " + c10::str(x.sizes()));
  const auto& w = vae.quant_conv->weight;
  return x.to(w.device(), w.scalar_type());
}

Napi::Value VaeEncode(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    auto box = ModelHandle::FromValue(info[0], "vae", "vae");
    at::Tensor x = TensorHandle::FromValue(info[1], "x");
    return run_async<Tensors>(
        env,
        [box, x]() {
          std::lock_guard<std::mutex> lock(box->mutex);
          torch::NoGradGuard ng;
          auto vae = ModelHandle::Typed<AutoencoderKLImpl>(box);
          int64_t f = vae->config().downsample_factor();
          if (x.dim() == 4 && (x.size(2) % f || x.size(3) % f))
            fail(code::kShape, "image height and width must be multiples of " + std::to_string(f));
          models::DiagonalGaussian d(vae->encode(model_input(x, *vae, "x", vae->config().in_channels)));
          return Tensors{{{"moments", d.parameters}, {"mean", d.mean}, {"logvar", d.logvar}, {"std", d.std}, {"var", d.var}, {"kl", d.kl()}}};
        },
        to_js);
  });
}

Napi::Value VaeDecode(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    auto box = ModelHandle::FromValue(info[0], "vae", "vae");
    at::Tensor z = TensorHandle::FromValue(info[1], "z");
    return run_async<at::Tensor>(
        env,
        [box, z]() {
          std::lock_guard<std::mutex> lock(box->mutex);
          torch::NoGradGuard ng;
          auto vae = ModelHandle::Typed<AutoencoderKLImpl>(box);
          return vae->decode(model_input(z, *vae, "z", vae->config().latent_channels));
        },
        [](Napi::Env e, at::Tensor& t) -> Napi::Value { return TensorHandle::Wrap(e, t); });
  });
}

// Forward (+ optional backward) of the VAE training objective, train::vae_loss (the one definition,
// native/src/train/vae_loss.h) without LPIPS: recon "l1" (default) | "mse"; reconReduction
// "sum_per_sample" (default, the trainer's) | "mean" (per element, for references written that
// way); klWeight (1e-6); samplePosterior (true) with explicit `eps` or noise from `seed`.
// Gradients accumulate into the parameters' .grad.
Napi::Value VaeLoss(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    auto box = ModelHandle::FromValue(info[0], "vae", "vae");
    Napi::Object o = get_object(info[1], "options");
    at::Tensor x = field_tensor(o, "x");
    train::VaeLossOptions lo;
    lo.eps = field_tensor(o, "eps", false);
    lo.recon = field_string(o, "recon").value_or(lo.recon);
    lo.recon_reduction = field_string(o, "reconReduction").value_or(lo.recon_reduction);
    lo.kl_weight = field_number(o, "klWeight").value_or(lo.kl_weight);
    lo.sample_posterior = field_bool(o, "samplePosterior").value_or(true);
    bool backward = field_bool(o, "backward").value_or(false);
    std::optional<int64_t> seed = field_int(o, "seed", 0, (int64_t{1} << 53) - 1);
    return run_async<Tensors>(
        env,
        [=]() {
          std::lock_guard<std::mutex> lock(box->mutex);
          auto vae = ModelHandle::Typed<AutoencoderKLImpl>(box);
          at::Tensor xin = model_input(x, *vae, "x", vae->config().in_channels);
          c10::optional<torch::NoGradGuard> ng;
          if (!backward) ng.emplace();
          at::Generator g = at::detail::createCPUGenerator(seed.value_or(0));
          train::VaeLossTerms t = train::vae_loss(*vae, nullptr, xin, lo, g);
          if (backward) t.loss.backward();
          const auto& d = *t.posterior;
          return Tensors{{{"loss", t.loss.detach()}, {"recon", t.recon.detach()}, {"kl", t.kl_per_sample.detach()}, {"klMean", t.kl.detach()},
                          {"decoded", t.decoded.detach()}, {"z", t.z.detach()}, {"mean", d.mean.detach()}, {"logvar", d.logvar.detach()},
                          {"std", d.std.detach()}, {"var", d.var.detach()}, {"moments", d.parameters.detach()}}};
        },
        to_js);
  });
}

}  // namespace

void register_vae(Napi::Env env, Napi::Object exports) {
  exports.Set("loadVae", Napi::Function::New(env, LoadVae, "loadVae"));
  exports.Set("createVae", Napi::Function::New(env, CreateVae, "createVae"));
  exports.Set("vaeEncode", Napi::Function::New(env, VaeEncode, "vaeEncode"));
  exports.Set("vaeDecode", Napi::Function::New(env, VaeDecode, "vaeDecode"));
  exports.Set("vaeLoss", Napi::Function::New(env, VaeLoss, "vaeLoss"));
}

}  // namespace da::bind
