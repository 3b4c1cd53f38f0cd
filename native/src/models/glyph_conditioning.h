// Glyph-aligned conditioning: the replacement text rendered into the box position of the crop
// enters the UNet as extra input channels after the inpainting ones (noisy latents, mask,
// masked-image latents), as text-rendering diffusion work after DiffUTE does. How many extra
// channels a UNet takes says how the glyph image is brought to latent size:
//   0                -> none (the DiffUTE method: cross-attention only);
//   1                -> the glyph image's luminance, area-downsampled to the latent grid;
//   latent_channels  -> the glyph image VAE-encoded (posterior mean * scaling_factor).
// conv_in's weights of the extra channels start at zero (grow_conv_in in weights.h), so a UNet
// grown from a 9-channel one computes exactly what it did until it is trained.
#pragma once
#include <ATen/core/Tensor.h>

#include "models/unet.h"
#include "models/vae.h"

namespace da::models {

// The UNet's glyph channels beyond 2 * latent_channels + 1; ERR_CONFIG for any count but 0, 1 and
// latent_channels.
int64_t glyph_channels(const UNet2DConditionConfig& unet, const AutoencoderKLConfig& vae);

// glyph_image: [B, 3, H, W] in [-1, 1] (ink dark on white, at the crop's resolution) ->
// [B, channels, H/f, W/f] float32 on the VAE's device. No randomness (the posterior mean), so the
// training and sampling draws keep their order.
at::Tensor glyph_condition(AutoencoderKLImpl& vae, const at::Tensor& glyph_image, int64_t channels);

}  // namespace da::models
