#include "train/unet_loss.h"

#include <ATen/ATen.h>
#include <torch/autograd.h>

#include <mutex>

#include "core/error.h"
#include "models/glyph_conditioning.h"
#include "train/autocast.h"

namespace da::train {

at::Tensor boxes_to_mask(const at::Tensor& boxes, int64_t height, int64_t width, const c10::Device& device) {
  if (boxes.dim() != 2 || boxes.size(1) != 4) fail(code::kShape, "boxes must be [B, 4] (x0, y0, x1, y1), got " + c10::str(boxes.sizes()));
  at::Tensor b = boxes.to(at::kDouble).cpu().contiguous();
  auto acc = b.accessor<double, 2>();
  at::Tensor mask = at::zeros({b.size(0), 1, height, width}, at::kFloat);
  for (int64_t i = 0; i < b.size(0); ++i) {
    // Pixel (x, y) is inside when its centre lies in the box: floor/ceil of the edges.
    int64_t x0 = std::max<int64_t>(0, static_cast<int64_t>(std::floor(acc[i][0])));
    int64_t y0 = std::max<int64_t>(0, static_cast<int64_t>(std::floor(acc[i][1])));
    int64_t x1 = std::min<int64_t>(width, static_cast<int64_t>(std::ceil(acc[i][2])));
    int64_t y1 = std::min<int64_t>(height, static_cast<int64_t>(std::ceil(acc[i][3])));
    if (!(std::isfinite(acc[i][0]) && std::isfinite(acc[i][1]) && std::isfinite(acc[i][2]) && std::isfinite(acc[i][3])))
      fail(code::kArgument, "boxes must be finite");
    if (x1 > x0 && y1 > y0) mask.index({i, 0, at::indexing::Slice(y0, y1), at::indexing::Slice(x0, x1)}).fill_(1.0);
  }
  return mask.to(device);
}

UnetForwardLoss unet_forward_loss(models::UNet2DConditionModelImpl& unet, const at::Tensor& sample, const at::Tensor& timesteps,
                                  const at::Tensor& context, const at::Tensor& target) {
  const auto& c = unet.config();
  if (!target.defined() || target.dim() != 4 || target.size(0) != sample.size(0) || target.size(1) != c.out_channels ||
      target.size(2) != sample.size(2) || target.size(3) != sample.size(3))
    fail(code::kShape, "target must be [B, " + std::to_string(c.out_channels) + ", h, w] like the sample");
  const auto& w = unet.conv_in->weight;
  at::Tensor out = unet.forward(sample.to(w.device(), w.scalar_type()), timesteps.to(w.device()), context.to(w.device(), w.scalar_type()));
  return {(out.to(at::kFloat) - target.to(w.device(), at::kFloat)).pow(2).mean(), out};
}

UnetLossTerms unet_loss(models::UNet2DConditionModelImpl& unet, models::AutoencoderKLImpl& vae,
                        models::GlyphEncoder* glyph, models::GlyphProjection* projection, schedulers::Scheduler& scheduler,
                        const UnetBatch& batch, const UnetLossOptions& o, at::Generator& generator) {
  const at::Tensor& w = vae.quant_conv->weight;
  const c10::Device device = w.device();
  at::Tensor image = batch.image;
  if (!image.defined() || image.dim() != 4 || image.size(1) != 3) fail(code::kShape, "image must be [B, 3, H, W]");
  const int64_t B = image.size(0), H = image.size(2), W = image.size(3);
  const int64_t f = vae.config().downsample_factor();
  if (H % f || W % f) fail(code::kShape, "image height and width must be multiples of " + std::to_string(f));
  if (!(o.cond_dropout >= 0 && o.cond_dropout <= 1)) fail(code::kArgument, "condDropout must be in [0, 1]");
  image = image.to(device, at::kFloat);

  at::Tensor mask;
  if (batch.mask.defined()) {
    if (batch.mask.dim() != 4 || batch.mask.size(0) != B || batch.mask.size(1) != 1 || batch.mask.size(2) != H || batch.mask.size(3) != W)
      fail(code::kShape, "mask must be [B, 1, H, W] like the image");
    mask = (batch.mask.to(device, at::kFloat) >= 0.5).to(at::kFloat);
  } else if (batch.boxes.defined()) {
    if (batch.boxes.size(0) != B) fail(code::kShape, "boxes must have one row per image");
    mask = boxes_to_mask(batch.boxes, H, W, device);
  } else {
    fail(code::kArgument, "a UNet batch needs boxes or mask");
  }

  const int64_t extra = models::glyph_channels(unet.config(), vae.config());
  if (extra > 0 && !batch.glyph_image.defined())
    fail(code::kArgument, "the UNet has glyph-aligned input channels: a UNet batch needs glyphImage");
  if (extra == 0 && batch.glyph_image.defined())
    fail(code::kArgument, "glyphImage given but the UNet has no glyph-aligned input channels (in_channels = latent*2+1)");
  if (extra > 0 && (batch.glyph_image.size(0) != B || batch.glyph_image.size(2) != H || batch.glyph_image.size(3) != W))
    fail(code::kShape, "glyphImage must be [B, 3, H, W] like the image");

  at::Tensor latents, masked_latents, mask_latent, context, noise, timesteps, noisy, target, drop, glyph_cond;
  {
    torch::NoGradGuard ng;
    at::Tensor masked = image * (1.0 - mask) + o.masked_fill * mask;
    models::DiagonalGaussian p_img(vae.encode(image.to(w.scalar_type())).to(at::kFloat));
    models::DiagonalGaussian p_msk(vae.encode(masked.to(w.scalar_type())).to(at::kFloat));
    const auto lat_sizes = p_img.mean.sizes();
    const int64_t T = scheduler.num_train_timesteps();
    at::Tensor eps_img, eps_msk;
    {
      // Every draw from one CPU generator, in a fixed order: CPU and CUDA runs see the same numbers,
      // and the generator state in a checkpoint resumes the stream exactly. (The sampling kernels
      // take the generator's mutex themselves.)
      auto f32 = at::TensorOptions().dtype(at::kFloat);
      eps_img = at::randn(lat_sizes, generator, f32);
      eps_msk = at::randn(lat_sizes, generator, f32);
      noise = at::randn(lat_sizes, generator, f32);
      timesteps = at::randint(0, T, {B}, generator, at::TensorOptions().dtype(at::kLong));
      drop = at::rand({B}, generator, f32);
    }
    const double sf = vae.config().scaling_factor;
    latents = p_img.sample(eps_img.to(device)) * sf;
    masked_latents = p_msk.sample(eps_msk.to(device)) * sf;
    mask_latent = at::upsample_nearest2d(mask, {lat_sizes[2], lat_sizes[3]});
    noise = noise.to(device);
    noisy = scheduler.add_noise(latents, noise, timesteps);
    target = o.v_prediction ? scheduler.get_velocity(latents, noise, timesteps) : noise;

    if (batch.context.defined()) {
      context = batch.context.to(device, at::kFloat);
    } else if (batch.glyph_pixels.defined()) {
      if (glyph == nullptr) fail(code::kArgument, "glyph pixels given without a glyph encoder");
      const at::Tensor& gw = glyph->embeddings->patch_embeddings->projection->weight;
      context = glyph->forward(batch.glyph_pixels.to(gw.device(), gw.scalar_type())).to(device, at::kFloat);
    } else {
      fail(code::kArgument, "a UNet batch needs glyphPixels (with a glyph encoder) or context");
    }
    if (context.dim() != 3 || context.size(0) != B) fail(code::kShape, "context must be [B, T, D], got " + c10::str(context.sizes()));
    if (extra > 0) {
      glyph_cond = models::glyph_condition(vae, batch.glyph_image, extra).to(device);
      if (o.cond_dropout > 0) glyph_cond = glyph_cond * (drop >= o.cond_dropout).to(at::kFloat).to(device).view({B, 1, 1, 1});
    }
  }
  at::Tensor input = extra > 0 ? at::cat({noisy, mask_latent, masked_latents, glyph_cond}, 1) : at::cat({noisy, mask_latent, masked_latents}, 1);
  const at::Tensor& uw = unet.conv_in->weight;
  at::Tensor pred;
  {
    AutocastScope ac(device, o.autocast_bf16);
    // The projection trains with the UNet (outside the no-grad block); dropout zeroes what the UNet
    // sees, the same all-zero context the engine's guidance uses as its unconditional input.
    if (projection != nullptr) context = projection->forward(context.to(projection->proj->weight.scalar_type()));
    if (o.cond_dropout > 0) {
      at::Tensor keep = (drop >= o.cond_dropout).to(at::kFloat).to(device).view({B, 1, 1});
      context = context * keep.to(context.scalar_type());
    }
    const int64_t want = unet.config().cross_attention_dim.at(0);
    if (context.size(2) != want)
      fail(code::kConfig, "the glyph context is " + std::to_string(context.size(2)) + " wide but the UNet's cross_attention_dim is " +
                              std::to_string(want) + (projection ? "" : ": train a glyph projection (glyph_projection in the config)"));
    pred = unet.forward(input.to(uw.scalar_type()), timesteps.to(device), context.to(uw.scalar_type()));
  }
  UnetLossTerms t;
  t.loss = at::mse_loss(pred.to(at::kFloat), target.to(at::kFloat));
  return t;
}

}  // namespace da::train
