#include "train/vae_loss.h"

#include <ATen/ATen.h>
#include <torch/autograd.h>

#include <mutex>

#include "core/error.h"
#include "train/autocast.h"

namespace da::train {

namespace {
bool any_requires_grad(const torch::nn::Module& m) {
  for (const auto& p : m.parameters(true))
    if (p.requires_grad()) return true;
  return false;
}
}  // namespace

VaeLossTerms vae_loss(models::AutoencoderKLImpl& vae, models::Lpips* lpips, const at::Tensor& x,
                      const VaeLossOptions& o, at::Generator& generator) {
  if (o.recon != "l1" && o.recon != "mse") fail(code::kArgument, "recon must be 'l1' or 'mse'");
  if (o.recon_reduction != "sum_per_sample" && o.recon_reduction != "mean") fail(code::kArgument, "reconReduction must be 'sum_per_sample' or 'mean'");
  if (o.lpips_weight > 0 && lpips == nullptr) fail(code::kArgument, "lpips_weight > 0 needs an LPIPS model");
  if (x.dim() != 4 || x.size(1) != vae.config().in_channels)
    fail(code::kShape, "VAE training input must be [B, " + std::to_string(vae.config().in_channels) + ", H, W], got " + c10::str(x.sizes()));
  const int64_t f = vae.config().downsample_factor();
  if (x.size(2) % f || x.size(3) % f) fail(code::kShape, "crop height and width must be multiples of " + std::to_string(f));
  const double batch = static_cast<double>(x.size(0));
  AutocastScope autocast(x.device(), o.autocast);

  const bool encoder_trains = any_requires_grad(*vae.encoder) || any_requires_grad(*vae.quant_conv);
  at::Tensor moments;
  {
    c10::optional<torch::NoGradGuard> ng;
    if (!encoder_trains) ng.emplace();
    moments = vae.encode(x);
  }
  models::DiagonalGaussian post(moments.to(at::kFloat));
  at::Tensor z = post.mean;
  if (o.sample_posterior) {
    // (The sampling kernels take the generator's mutex themselves.)
    at::Tensor eps = o.eps.defined() ? o.eps : at::randn(post.mean.sizes(), generator, at::TensorOptions().dtype(at::kFloat));
    z = post.sample(eps.to(post.mean.device()));
  }
  // The posterior is float32; the decoder takes its own dtype (a bf16 model outside the trainer,
  // whose master weights are float32: no cast there).
  at::Tensor decoded = vae.decode(z.to(vae.decoder->conv_in->weight.scalar_type()));

  VaeLossTerms t;
  at::Tensor diff = decoded.to(at::kFloat) - x.to(at::kFloat);
  at::Tensor per = o.recon == "mse" ? diff.pow(2) : diff.abs();
  // Summed over C,H,W per sample and averaged over the batch (or, for references, a per-element mean).
  t.recon = o.recon_reduction == "mean" ? per.mean() : per.sum() / batch;
  t.kl_per_sample = post.kl();
  t.kl = t.kl_per_sample.sum() / batch;
  if (lpips != nullptr && o.lpips_weight > 0) {
    t.lpips = lpips->distance(decoded, x).to(at::kFloat).mean();
  } else {
    t.lpips = at::zeros({}, t.recon.options());
  }
  t.loss = t.recon + o.kl_weight * t.kl + o.lpips_weight * t.lpips;
  t.decoded = decoded;
  t.z = z;
  t.latent_std = post.mean.detach().std();
  t.posterior = std::move(post);
  return t;
}

}  // namespace da::train
