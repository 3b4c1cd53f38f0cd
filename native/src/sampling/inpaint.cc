#include "sampling/inpaint.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <torch/nn/functional/upsampling.h>
#include <torch/types.h>

#include "core/error.h"
#include "models/glyph_conditioning.h"

namespace da::sampling {
namespace {

void check_request(const InpaintRequest& r, int64_t factor) {
  auto need = [](bool ok, const std::string& m) {
    if (!ok) fail(code::kShape, m);
  };
  need(r.image.defined() && r.image.dim() == 4 && r.image.size(1) == 3, "image must be [B, 3, H, W]");
  need(r.mask.defined() && r.mask.dim() == 4 && r.mask.size(1) == 1 && r.mask.size(0) == r.image.size(0) &&
           r.mask.size(2) == r.image.size(2) && r.mask.size(3) == r.image.size(3),
       "mask must be [B, 1, H, W] matching the image");
  need(r.image.size(2) % factor == 0 && r.image.size(3) % factor == 0,
       "image height and width must be multiples of the VAE's down-sampling factor " + std::to_string(factor));
  need(r.encoder_hidden_states.defined() && r.encoder_hidden_states.dim() == 3, "encoder_hidden_states must be [B, S, D]");
  int64_t b = r.image.size(0);
  need(r.encoder_hidden_states.size(0) == b || r.encoder_hidden_states.size(0) == 1,
       "encoder_hidden_states batch must be 1 or the image batch");
  if (r.guidance_scale > 1.0) {
    need(r.negative_encoder_hidden_states.defined() &&
             r.negative_encoder_hidden_states.sizes() == r.encoder_hidden_states.sizes(),
         "guidance_scale > 1 needs negative_encoder_hidden_states of the same shape");
  }
  if (r.num_inference_steps < 1 || r.num_inference_steps > 1000) fail(code::kArgument, "num_inference_steps must be in [1, 1000]");
  if (!(r.masked_fill >= -1.0 && r.masked_fill <= 1.0)) fail(code::kArgument, "masked_fill must be in [-1, 1]");
}

}  // namespace

InpaintResult inpaint(models::UNet2DConditionModelImpl& unet, models::AutoencoderKLImpl& vae,
                      schedulers::Scheduler& scheduler, const InpaintRequest& r, const ProgressFn& progress) {
  const auto& vcfg = vae.config();
  const int64_t factor = vcfg.downsample_factor();
  check_request(r, factor);
  const int64_t extra = models::glyph_channels(unet.config(), vcfg);
  if (extra > 0 && !r.glyph_image.defined())
    fail(code::kArgument, "the UNet has glyph-aligned input channels: the request needs glyphImage");
  if (extra == 0 && r.glyph_image.defined())
    fail(code::kArgument, "glyphImage given but the UNet has no glyph-aligned input channels (in_channels = latent*2+1)");
  if (extra > 0 && (r.glyph_image.size(0) != r.image.size(0) || r.glyph_image.size(2) != r.image.size(2) || r.glyph_image.size(3) != r.image.size(3)))
    fail(code::kShape, "glyphImage must be [B, 3, H, W] like the image");

  torch::NoGradGuard no_grad;
  const auto param = unet.conv_in->weight;
  const c10::Device device = param.device();
  const at::ScalarType dtype = param.scalar_type();
  const auto vae_dtype = vae.quant_conv->weight.scalar_type();
  const int64_t b = r.image.size(0);
  const int64_t h = r.image.size(2) / factor, w = r.image.size(3) / factor;
  const double scaling = vcfg.scaling_factor;
  at::Generator gen = at::detail::createCPUGenerator(r.seed);
  InpaintResult out;

  scheduler.set_timesteps(r.num_inference_steps);

  // 1. Initial latents (diffusers draws them first when not supplied).
  at::Tensor latents;
  if (r.latents.defined()) {
    if (r.latents.sizes() != at::IntArrayRef({b, vcfg.latent_channels, h, w}))
      fail(code::kShape, "latents must be [B, latent_channels, H/f, W/f]");
    latents = r.latents.to(device, at::kFloat);
  } else {
    latents = at::randn({b, vcfg.latent_channels, h, w}, gen, at::TensorOptions().dtype(at::kFloat)).to(device);
  }
  latents = latents * scheduler.init_noise_sigma();

  // 2. Image, mask and the masked image (hole filled with masked_fill).
  at::Tensor init_image = (r.image.to(device, at::kFloat) * 2.0 - 1.0);
  at::Tensor mask = (r.mask.to(device, at::kFloat) >= 0.5).to(at::kFloat);
  at::Tensor keep = (mask < 0.5).to(at::kFloat);
  at::Tensor masked_image = init_image * keep + (1.0 - keep) * r.masked_fill;

  // 3. Mask latent (nearest) and masked-image latents (a posterior SAMPLE, as diffusers does).
  namespace F = torch::nn::functional;
  at::Tensor mask_latent = F::interpolate(mask, F::InterpolateFuncOptions().size(std::vector<int64_t>{h, w}).mode(torch::kNearest));
  at::Tensor eps = at::randn({b, vcfg.latent_channels, h, w}, gen, at::TensorOptions().dtype(at::kFloat)).to(device);
  models::DiagonalGaussian post(vae.encode(masked_image.to(vae_dtype)).to(at::kFloat));
  at::Tensor masked_latents = post.sample(eps) * scaling;

  const bool cfg = r.guidance_scale > 1.0;
  at::Tensor context = r.encoder_hidden_states.to(device, dtype);
  if (context.size(0) == 1 && b > 1) context = context.expand({b, context.size(1), context.size(2)});
  if (cfg) {
    at::Tensor neg = r.negative_encoder_hidden_states.to(device, dtype);
    if (neg.size(0) == 1 && b > 1) neg = neg.expand({b, neg.size(1), neg.size(2)});
    context = at::cat({neg, context}, 0);  // unconditional first, as diffusers
  }
  at::Tensor mask_in = cfg ? at::cat({mask_latent, mask_latent}, 0) : mask_latent;
  at::Tensor masked_in = cfg ? at::cat({masked_latents, masked_latents}, 0) : masked_latents;
  // The glyph channels: zeros for the unconditional half, as the training's dropout zeroes them.
  at::Tensor glyph_in;
  if (extra > 0) {
    at::Tensor g = models::glyph_condition(vae, r.glyph_image.to(device, at::kFloat) * 2.0 - 1.0, extra).to(device);
    glyph_in = cfg ? at::cat({at::zeros_like(g), g}, 0) : g;
    masked_in = at::cat({masked_in, glyph_in}, 1);  // after the masked-image latents, as in training
  }

  if (r.keep_intermediates) {
    out.mask_latent = mask_in;
    out.masked_image_latents = masked_in;
    out.posterior_eps = eps;
    out.masked_image = masked_image;
    out.timesteps = scheduler.timesteps_tensor();
  }

  // The cache lives for this loop only (also when a step throws or the caller aborts).
  struct KvCacheScope {
    models::UNet2DConditionModelImpl& unet;
    KvCacheScope(models::UNet2DConditionModelImpl& u, bool on) : unet(u) { unet.set_context_kv_cache(on); }
    ~KvCacheScope() { unet.set_context_kv_cache(false); }
  } kv_cache_scope(unet, r.cache_context_kv);

  schedulers::StepOptions step_opts;
  step_opts.eta = r.eta;
  step_opts.generator = gen;
  const auto& ts = scheduler.timesteps();
  const int64_t total = static_cast<int64_t>(ts.size());
  for (int64_t i = 0; i < total; ++i) {
    const double t = ts[i];
    at::Tensor x = cfg ? at::cat({latents, latents}, 0) : latents;
    x = scheduler.scale_model_input(x, t);
    at::Tensor unet_in = at::cat({x, mask_in, masked_in}, 1);
    at::Tensor tt = at::full({unet_in.size(0)}, t, at::TensorOptions().dtype(at::kFloat).device(device));
    if (t == static_cast<double>(static_cast<int64_t>(t))) tt = tt.to(at::kLong);
    at::Tensor noise_pred = unet.forward(unet_in.to(dtype), tt, context).to(at::kFloat);
    at::Tensor guided = noise_pred;
    if (cfg) {
      auto chunks = noise_pred.chunk(2, 0);
      guided = chunks[0] + r.guidance_scale * (chunks[1] - chunks[0]);
    }
    latents = scheduler.step(guided, t, latents, step_opts).prev_sample;
    if (r.keep_intermediates) out.steps.push_back({unet_in, noise_pred, latents});
    if (progress && !progress(i + 1, total)) fail(code::kAborted, "sampling was aborted after step " + std::to_string(i + 1) + " of " + std::to_string(total));
  }

  out.final_latents = latents;
  out.image_decoded = vae.decode((latents / scaling).to(vae_dtype)).to(at::kFloat);
  out.image = (out.image_decoded * 0.5 + 0.5).clamp(0, 1);
  return out;
}

}  // namespace da::sampling
