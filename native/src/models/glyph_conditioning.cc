#include "models/glyph_conditioning.h"

#include <ATen/ATen.h>
#include <torch/types.h>

#include "core/error.h"

namespace da::models {

int64_t glyph_channels(const UNet2DConditionConfig& unet, const AutoencoderKLConfig& vae) {
  const int64_t base = 2 * vae.latent_channels + 1;
  const int64_t extra = unet.in_channels - base;
  if (extra != 0 && extra != 1 && extra != vae.latent_channels)
    fail(code::kConfig, "the UNet has " + std::to_string(unet.in_channels) + " input channels; inpainting needs latent*2+1 = " +
                            std::to_string(base) + ", plus 1 (downsampled glyph) or " + std::to_string(vae.latent_channels) +
                            " (VAE-encoded glyph) for glyph-aligned conditioning");
  return extra;
}

at::Tensor glyph_condition(AutoencoderKLImpl& vae, const at::Tensor& glyph_image, int64_t channels) {
  const auto& vc = vae.config();
  if (!glyph_image.defined() || glyph_image.dim() != 4 || glyph_image.size(1) != 3)
    fail(code::kShape, "the glyph image must be [B, 3, H, W], got " + (glyph_image.defined() ? c10::str(glyph_image.sizes()) : std::string("none")));
  const int64_t f = vc.downsample_factor();
  if (glyph_image.size(2) % f || glyph_image.size(3) % f)
    fail(code::kShape, "the glyph image's height and width must be multiples of " + std::to_string(f));
  torch::NoGradGuard no_grad;
  const auto& w = vae.quant_conv->weight;
  at::Tensor g = glyph_image.to(w.device(), at::kFloat);
  if (channels == 1) {
    // Luminance averaged over each latent cell: the glyph's coverage at the latent's resolution.
    return at::avg_pool2d(g.mean(1, true), {f, f}, {f, f});
  }
  if (channels == vc.latent_channels) {
    DiagonalGaussian post(vae.encode(g.to(w.scalar_type())).to(at::kFloat));
    return post.mean * vc.scaling_factor;
  }
  fail(code::kConfig, "glyph-aligned conditioning takes 1 or latent_channels (" + std::to_string(vc.latent_channels) + ") channels, not " +
                          std::to_string(channels));
}

}  // namespace da::models
