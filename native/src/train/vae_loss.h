// The VAE training objective, with the latent-diffusion reductions (taming-transformers /
// ldm LPIPSWithDiscriminator without the discriminator and with a fixed logvar of 0):
//
//   recon  = mean_b  sum_{c,h,w} r(x_hat - x)           r = |.| (l1) or (.)^2 (mse)
//   kl     = mean_b  0.5 * sum_{c,h,w} (mu^2 + var - 1 - logvar)     (over the latent elements)
//   lpips  = mean_b  LPIPS(x_hat, x)                     (per-sample distance, as the lpips package)
//   loss   = recon + kl_weight * kl + lpips_weight * lpips
//
// With these reductions kl_weight = 1e-6 means what ldm's `kl_weight: 1e-6` means. A per-pixel
// mean reconstruction against a per-sample summed KL would multiply the KL pressure by C*H*W.
// LDM adds the perceptual term per pixel before summing, i.e. ldm's perceptual_weight w equals
// lpips_weight = w * C * H * W here (3*256*256*1.0 = 196608 for 256 px crops).
#pragma once
#include <ATen/core/Generator.h>
#include <ATen/core/Tensor.h>

#include <optional>
#include <string>

#include "models/lpips.h"
#include "models/vae.h"

namespace da::train {

struct VaeLossOptions {
  std::string recon = "l1";   // "l1" | "mse"
  // "sum_per_sample" (the convention above; training always uses it) or "mean" (per element, as
  // diffusers-based scripts' F.mse_loss: kept to reproduce such references; beta then weighs the
  // KL C*H*W times more relative to the reconstruction).
  std::string recon_reduction = "sum_per_sample";
  double kl_weight = 1e-6;    // beta
  double lpips_weight = 0.0;  // lambda; > 0 needs an Lpips model
  bool sample_posterior = true;
  at::Tensor eps;             // explicit posterior noise (latent shape); undefined: drawn from the generator
  bool autocast = false;      // bf16 autocast on CUDA (train/autocast.h); the trainer turns it on
};

struct VaeLossTerms {
  at::Tensor loss, recon, kl, lpips;  // scalars (lpips is 0 when unused); attached to the graph
  at::Tensor kl_per_sample;           // [B] (attached)
  at::Tensor decoded, z;              // for checks (attached)
  std::optional<models::DiagonalGaussian> posterior;
  at::Tensor latent_std;              // detached: std of the posterior means (drift monitor)
};

// x: [B, 3, H, W] in [-1, 1] on the model's device. The posterior noise is options.eps or drawn on
// the CPU from `generator` (so CPU and CUDA runs see the same numbers). When no encoder parameter requires
// grad the encoder runs without autograd (decoder-only fine-tuning).
VaeLossTerms vae_loss(models::AutoencoderKLImpl& vae, models::Lpips* lpips, const at::Tensor& x,
                      const VaeLossOptions& options, at::Generator& generator);

}  // namespace da::train
