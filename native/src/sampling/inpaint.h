// The inpainting sampling loop in one native call: the StableDiffusionInpaintPipeline computation
// (9-channel UNet: noisy latents, mask, masked-image latents), with DiffUTE's masked-image fill,
// optional classifier-free guidance, progress per step and abort between steps.
#pragma once
#include <ATen/core/Tensor.h>

#include <functional>
#include <optional>

#include "models/unet.h"
#include "models/vae.h"
#include "schedulers/scheduler.h"

namespace da::sampling {

struct InpaintRequest {
  at::Tensor image;          // [B, 3, H, W] float in [0, 1]
  at::Tensor mask;           // [B, 1, H, W] float in [0, 1]; >= 0.5 = repaint
  at::Tensor encoder_hidden_states;           // [B, S, D] (or [1, S, D], broadcast)
  at::Tensor negative_encoder_hidden_states;  // same shape; used when guidance_scale > 1
  int64_t num_inference_steps = 50;
  double guidance_scale = 1.0;
  double masked_fill = 0.0;  // value of the hole in the masked image, in [-1, 1] space (diffusers 0, DiffUTE -1)
  double eta = 0.0;          // DDIM only
  uint64_t seed = 0;
  // [B, 3, H, W] in [0, 1] like image: the replacement's glyph rendered into the box, for a UNet with
  // glyph-aligned input channels (models/glyph_conditioning.h); required exactly then.
  at::Tensor glyph_image;
  at::Tensor latents;        // optional initial latents [B, 4, h, w] (unscaled by init_noise_sigma)
  bool keep_intermediates = false;
  // Cross-attention keys/values of the (fixed) context computed once for all steps instead of at
  // every step: the same bits, less work (the glyph context has 577 tokens). Off only to compare.
  bool cache_context_kv = true;
};

struct InpaintStepRecord {
  at::Tensor unet_input, unet_output, latents;
};

struct InpaintResult {
  at::Tensor final_latents;   // [B, 4, h, w]
  at::Tensor image_decoded;   // vae.decode(latents / scaling) in [-1, 1]
  at::Tensor image;           // (decoded * 0.5 + 0.5).clamp(0, 1)
  // Debug/parity intermediates (when keep_intermediates):
  at::Tensor mask_latent, masked_image_latents, posterior_eps, masked_image, timesteps;
  std::vector<InpaintStepRecord> steps;
};

// Returns false to stop; the loop then throws da::Error(ERR_ABORTED). Called after each step.
using ProgressFn = std::function<bool(int64_t step, int64_t total)>;

// Runs the loop on the models' device and dtype. The scheduler is reset with set_timesteps.
// Random draws come from one CPU generator seeded with `seed`, in diffusers' order: initial
// latents (when not given), then the masked-image posterior sample, then scheduler noise.
InpaintResult inpaint(models::UNet2DConditionModelImpl& unet, models::AutoencoderKLImpl& vae,
                      schedulers::Scheduler& scheduler, const InpaintRequest& request,
                      const ProgressFn& progress = nullptr);

}  // namespace da::sampling
