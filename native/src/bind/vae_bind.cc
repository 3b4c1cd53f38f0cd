// AutoencoderKL calls: vaeEncode(vae, { x }), vaeDecode(vae, { z }), vaeLoss(vae, { x, ... }).
#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <torch/autograd.h>

#include "bind/errors.h"
#include "bind/model_handle.h"
#include "bind/options.h"
#include "bind/register.h"
#include "bind/tensor_handle.h"
#include "bind/worker.h"
#include "core/error.h"
#include "models/vae.h"
#include "train/vae_loss.h"

namespace da::bind {
namespace {

using models::AutoencoderKLImpl;

// [B, channels, H, W] on the model's device and dtype.
at::Tensor model_input(const at::Tensor& x, const models::Model& m, const char* what, int64_t channels) {
  if (x.dim() != 4 || x.size(1) != channels)
    fail(code::kShape, std::string(what) + " must be [B, " + std::to_string(channels) + ", H, W], got " + c10::str(x.sizes()));
  return x.to(m.device(), m.dtype());
}

Napi::Value VaeEncode(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    ModelPtr box = ModelHandle::Of(info[0], models::ModelKind::kVae, "vae");
    Options o(info[1], "options");
    at::Tensor x = o.tensor("x");
    o.finish();
    return run_async<NamedTensors>(
        env,
        [box, x]() {
          ModelLocks lock({box});
          torch::NoGradGuard ng;
          auto& vae = box->model.as<AutoencoderKLImpl>();
          const int64_t f = vae.config().downsample_factor();
          if (x.dim() == 4 && (x.size(2) % f || x.size(3) % f))
            fail(code::kShape, "image height and width must be multiples of " + std::to_string(f));
          models::DiagonalGaussian d(vae.encode(model_input(x, box->model, "x", vae.config().in_channels)));
          return NamedTensors{{"moments", d.parameters}, {"mean", d.mean}, {"logvar", d.logvar}, {"std", d.std}, {"var", d.var}, {"kl", d.kl()}};
        },
        named_tensors_to_js);
  });
}

Napi::Value VaeDecode(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    ModelPtr box = ModelHandle::Of(info[0], models::ModelKind::kVae, "vae");
    Options o(info[1], "options");
    at::Tensor z = o.tensor("z");
    o.finish();
    return run_async<at::Tensor>(
        env,
        [box, z]() {
          ModelLocks lock({box});
          torch::NoGradGuard ng;
          auto& vae = box->model.as<AutoencoderKLImpl>();
          return vae.decode(model_input(z, box->model, "z", vae.config().latent_channels));
        },
        [](Napi::Env e, at::Tensor& t) -> Napi::Value { return TensorHandle::Wrap(e, t); });
  });
}

// The VAE training objective, train::vae_loss (its one definition) without LPIPS, with the
// options of train::VaeLossOptions; posterior noise `eps` or drawn from `seed`; `backward`
// accumulates gradients into the parameters' .grad.
Napi::Value VaeLoss(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    ModelPtr box = ModelHandle::Of(info[0], models::ModelKind::kVae, "vae");
    Options o(info[1], "options");
    at::Tensor x = o.tensor("x");
    train::VaeLossOptions lo = read_vae_loss(o);
    bool backward = o.boolean("backward").value_or(false);
    uint64_t seed = o.seed("seed").value_or(0);
    o.finish();
    return run_async<NamedTensors>(
        env,
        [=]() {
          ModelLocks lock({box});
          auto& vae = box->model.as<AutoencoderKLImpl>();
          at::Tensor xin = model_input(x, box->model, "x", vae.config().in_channels);
          c10::optional<torch::NoGradGuard> ng;
          if (!backward) ng.emplace();
          at::Generator g = at::detail::createCPUGenerator(seed);
          train::VaeLossTerms t = train::vae_loss(vae, nullptr, xin, lo, g);
          if (backward) t.loss.backward();
          const auto& d = *t.posterior;
          return NamedTensors{{"loss", t.loss.detach()}, {"recon", t.recon.detach()}, {"kl", t.kl_per_sample.detach()}, {"klMean", t.kl.detach()},
                              {"decoded", t.decoded.detach()}, {"z", t.z.detach()}, {"mean", d.mean.detach()}, {"logvar", d.logvar.detach()},
                              {"std", d.std.detach()}, {"var", d.var.detach()}, {"moments", d.parameters.detach()}};
        },
        named_tensors_to_js);
  });
}

}  // namespace

void register_vae(Napi::Env env, Napi::Object exports) {
  exports.Set("vaeEncode", Napi::Function::New(env, VaeEncode, "vaeEncode"));
  exports.Set("vaeDecode", Napi::Function::New(env, VaeDecode, "vaeDecode"));
  exports.Set("vaeLoss", Napi::Function::New(env, VaeLoss, "vaeLoss"));
}

}  // namespace da::bind
