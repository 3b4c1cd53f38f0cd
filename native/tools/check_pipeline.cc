// Parity of the native inpainting loop with diffusers' StableDiffusionInpaintPipeline
// (fixtures/pipeline: every run its config.json records, e.g. guidance 1.0 and 7.5 with DDIM, and
// every intermediate). Runs, seeds and guidance come from that config, steps from the stored
// timesteps: another fixture root of the same layout runs unchanged.
#include <filesystem>

#include "core/error.h"
#include "core/json.h"
#include "harness.h"
#include "io/safetensors.h"
#include "models/config_reader.h"
#include "models/registry.h"
#include "models/unet.h"
#include "models/vae.h"
#include "sampling/inpaint.h"
#include "schedulers/scheduler.h"

DA_CHECK("parity.pipeline") {
  da::models::ModelSpec spec;
  spec.device = ctx.device;
  spec.dtype = ctx.dtype;
  auto vae = da::models::load_model(da::models::ModelKind::kVae, ctx.path("vae"), spec).typed<da::models::AutoencoderKLImpl>();
  auto unet = da::models::load_model(da::models::ModelKind::kUnet, ctx.path("unet"), spec).typed<da::models::UNet2DConditionModelImpl>();
  auto io = da::io::SafetensorsFile::open(ctx.path("pipeline/io.safetensors"));
  auto T = [&](const std::string& n) { return io->load(n); };
  // A fresh scheduler per loop (its timesteps and step index are per run).
  auto scheduler = [&] { return da::schedulers::make_scheduler_from_file(ctx.path("pipeline/scheduler_config.json")); };
  const auto meta = da::json::parse(da::models::read_text_file(ctx.path("pipeline/config.json")), da::code::kConfig);
  const da::json::Value* runs = meta.find("runs");
  if (!runs || !runs->is_object() || runs->as_object().empty()) da::fail(da::code::kConfig, "pipeline/config.json has no runs");
  for (const auto& [run, settings] : runs->as_object()) {
    auto setting = [&, run = run](const char* key) -> const da::json::Value& {
      const da::json::Value* v = settings.find(key);
      if (!v) da::fail(da::code::kConfig, "pipeline/config.json runs." + run + " has no " + key);
      return *v;
    };
    auto sched = scheduler();
    da::sampling::InpaintRequest r;
    r.image = T("input.image").to(ctx.device);
    r.mask = T("input.mask_image").to(ctx.device);
    r.encoder_hidden_states = T("input.prompt_embeds").to(ctx.device);
    r.negative_encoder_hidden_states = T("input.negative_prompt_embeds").to(ctx.device);
    r.latents = T("input.latents").to(ctx.device);
    r.guidance_scale = setting("guidance_scale").as_double();
    r.num_inference_steps = T(run + ".timesteps").size(0);
    r.seed = setting("generator_seed").as_uint();
    r.masked_fill = 0.0;  // diffusers' pipeline (DiffUTE's is -1): the reference's convention, not a fixture setting
    r.keep_intermediates = true;
    auto out = da::sampling::inpaint(*unet, *vae, *sched, r);
    const std::string p = run + ".";
    ctx.compare(p + "timesteps", out.timesteps, T(run + ".timesteps"), 0);
    ctx.compare(p + "prep.masked_image", out.masked_image, T("prep.masked_image"), 1e-6);
    ctx.compare(p + "mask_latent", out.mask_latent, T(p + "mask_latent"), 0);
    ctx.compare(p + "posterior_eps", out.posterior_eps, T(p + "posterior_eps"), 0);
    ctx.compare(p + "masked_image_latents", out.masked_image_latents, T(p + "masked_image_latents"), 1e-5, 1e-5);
    for (size_t i = 0; i < out.steps.size(); ++i) {
      const std::string s = p + "step" + std::to_string(i) + ".";
      ctx.compare(s + "unet_input", out.steps[i].unet_input, T(s + "unet_input"), 1e-5, 1e-5);
      ctx.compare(s + "unet_output", out.steps[i].unet_output, T(s + "unet_output"), 1e-5, 1e-5);
      ctx.compare(s + "latents", out.steps[i].latents, T(s + "latents"), 1e-4, 1e-5);
    }
    ctx.expect(p + "step count", out.steps.size() == static_cast<size_t>(T(run + ".timesteps").size(0)), std::to_string(out.steps.size()));
    // The README's float64 spread for gs7_5.final_latents is 3.1e-5 (CFG amplifies differences 7.5x).
    ctx.compare(p + "final_latents", out.final_latents, T(p + "final_latents"), 2e-4, 1e-5);
    ctx.compare(p + "image_decoded", out.image_decoded, T(p + "image_decoded"), 1e-4, 1e-5);
    ctx.compare(p + "image", out.image, T(p + "image"), 1e-4);

    // The cross-attention K/V cache (on above, the default) is used at every step after the first
    // and changes no bit of the result.
    const auto cross_layers = static_cast<int64_t>(unet->cross_attention_layers().size());
    const int64_t hits_before = unet->context_kv_cache_hits();
    auto cached = da::sampling::inpaint(*unet, *vae, *scheduler(), r);
    const int64_t hits = unet->context_kv_cache_hits() - hits_before;
    ctx.expect(p + "context K/V cache reused at every step after the first", cross_layers > 0 && hits == cross_layers * (r.num_inference_steps - 1),
               std::to_string(hits) + " hits, " + std::to_string(cross_layers) + " cross-attention layers");
    r.cache_context_kv = false;
    auto uncached = da::sampling::inpaint(*unet, *vae, *scheduler(), r);
    ctx.expect(p + "context K/V cache: the same bits as recomputing them every step",
               at::equal(cached.final_latents, uncached.final_latents) && at::equal(cached.image, uncached.image) &&
                   at::equal(cached.final_latents, out.final_latents));
    ctx.expect(p + "context K/V cache off: no reuse", unet->context_kv_cache_hits() - hits_before == hits);
  }
}
