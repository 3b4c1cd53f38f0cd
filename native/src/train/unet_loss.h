// The DiffUTE UNet objective (DiffUTE train script + diffusers' inpainting training, fixed):
//  - mask: 1 inside the text box (already extended by the data pipeline), rasterised at pixel level
//    from boxes, downsampled to latent size with nearest interpolation;
//  - masked image: the image with the hole set to `masked_fill` (DiffUTE: -1, black; diffusers'
//    pipeline: 0);
//  - latents = posterior sample * scaling_factor for the image and for the masked image (frozen VAE);
//  - uniform timesteps in [0, num_train_timesteps), DDPM forward noising;
//  - target: the noise (epsilon) or the velocity (v_prediction);
//  - context: the frozen glyph encoder's last_hidden_state, through the trainable glyph projection
//    when there is one (hidden_size -> cross_attention_dim); with probability cond_dropout per
//    sample the UNet's context is replaced by zeros (so classifier-free guidance can use an
//    all-zero unconditional input at inference);
//  - glyph-aligned conditioning (when the UNet has channels beyond 2*latent+1): the glyph image
//    brought to latent size, concatenated after the masked-image latents, zeroed with the context
//    for the dropped samples (the unconditional input of guidance has neither);
//  - loss = mean squared error over all elements, in float32.
#pragma once
#include <ATen/core/Generator.h>
#include <ATen/core/Tensor.h>

#include "models/unet.h"
#include "models/glyph_projection.h"
#include "models/vae.h"
#include "models/vit.h"
#include "schedulers/scheduler.h"

namespace da::train {

struct UnetBatch {
  at::Tensor image;          // [B, 3, H, W] in [-1, 1]
  at::Tensor boxes;          // [B, 4] float (x0, y0, x1, y1) in pixels of `image`; or
  at::Tensor mask;           // [B, 1, H, W] (1 = hole); one of boxes / mask
  at::Tensor glyph_pixels;   // [B, 3, S, S] TrOCR-normalised glyphs (encoded here); or
  at::Tensor context;        // [B, T, D] precomputed encoder_hidden_states
  // [B, 3, H, W] in [-1, 1]: the replacement's glyph rendered into the box (glyph-aligned
  // conditioning, models/glyph_conditioning.h); required exactly when the UNet has glyph channels.
  at::Tensor glyph_image;
};

struct UnetLossOptions {
  bool v_prediction = false;
  double cond_dropout = 0.0;
  double masked_fill = -1.0;
  bool autocast_bf16 = true;  // CUDA only
};

struct UnetLossTerms {
  at::Tensor loss;  // attached
};

UnetLossTerms unet_loss(models::UNet2DConditionModelImpl& unet, models::AutoencoderKLImpl& vae,
                        models::GlyphEncoder* glyph, models::GlyphProjection* projection, schedulers::Scheduler& scheduler,
                        const UnetBatch& batch, const UnetLossOptions& options, at::Generator& generator);

// The UNet's regression loss on given inputs, as the fixtures define it: mean((unet(sample, t,
// context) - target)^2) over all elements, in float32 (inputs are moved to the model's device and
// dtype). `sample` is the prediction (attached).
struct UnetForwardLoss {
  at::Tensor loss, sample;
};
UnetForwardLoss unet_forward_loss(models::UNet2DConditionModelImpl& unet, const at::Tensor& sample, const at::Tensor& timesteps,
                                  const at::Tensor& context, const at::Tensor& target);

// [B, 1, H, W] float mask with ones inside each box (clipped to the image).
at::Tensor boxes_to_mask(const at::Tensor& boxes, int64_t height, int64_t width, const c10::Device& device);

}  // namespace da::train
