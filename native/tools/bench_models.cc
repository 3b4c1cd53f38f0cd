// Benchmarks (opt-in: run with e.g. `docanon_harness bench.`): forward and forward+backward of the
// SD2 UNet and VAE at the fixture size and at the full SD2 size, LPIPS, the glyph encoder, and the
// inpainting loop per region. Random weights (timing only). On CPU each case runs at 1 thread and
// at all threads; on CUDA in the harness dtype (e.g. --dtype bfloat16).
#include <ATen/Parallel.h>
#include <c10/core/InferenceMode.h>
#include <torch/autograd.h>
#include <torch/csrc/autograd/profiler_legacy.h>

#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <sstream>
#include <thread>

#include "bench_util.h"
#include "core/json.h"
#include "harness.h"
#include "models/lpips.h"
#include "models/unet.h"
#include "models/vae.h"
#include "models/vit.h"
#include "sampling/inpaint.h"
#include "schedulers/scheduler.h"

namespace {

using namespace da;

std::vector<int> thread_counts(const harness::Context& ctx) {
  if (ctx.device.is_cuda()) return {at::get_num_threads()};
  int all = at::get_num_threads();
  const char* only = std::getenv("DOC_ANON_BENCH_THREADS");
  if (only && std::string(only) == "all") return {all};
  return all > 1 ? std::vector<int>{1, all} : std::vector<int>{1};
}

std::string read_file(const std::string& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

at::TensorOptions opts(const harness::Context& ctx) { return at::TensorOptions().device(ctx.device).dtype(ctx.dtype); }

// Optional narrowing for quick side-by-side runs: DOC_ANON_BENCH_LATENTS=32,64 (SD2 UNet latent
// sizes), DOC_ANON_BENCH_BACKWARD=0 (forward only), DOC_ANON_BENCH_THREADS=all (skip 1 thread).
std::vector<int64_t> env_list(const char* name, std::vector<int64_t> dflt) {
  const char* e = std::getenv(name);
  if (!e || !*e) return dflt;
  std::vector<int64_t> out;
  std::stringstream ss(e);
  std::string item;
  while (std::getline(ss, item, ',')) out.push_back(std::stoll(item));
  return out.empty() ? dflt : out;
}
bool env_off(const char* name) {
  const char* e = std::getenv(name);
  return e && std::string(e) == "0";
}

bool full_size_enabled() {
  const char* e = std::getenv("DOC_ANON_BENCH_FULL");
  return !(e && std::string(e) == "0");
}

}  // namespace

DA_CHECK("bench.unet") {
  struct Case { std::string name, config; std::vector<int64_t> latents; int64_t ctx_len; };
  std::vector<Case> cases = {{"fixture", read_file(ctx.path("unet/config.json")), {16}, 7}};
  if (full_size_enabled()) cases.push_back({"sd2", bench::manifest_config(ctx, "sd2_inpainting_unet.json"), env_list("DOC_ANON_BENCH_LATENTS", {32, 64}), 577});
  std::vector<int64_t> batches = ctx.device.is_cuda() ? std::vector<int64_t>{1, 8} : std::vector<int64_t>{1};
  bench::header(std::string("UNet2DConditionModel (") + ctx.device.str() + ", " + c10::toString(ctx.dtype) + ")");
  std::string op_counts;  // printed after the table
  for (const auto& c : cases) {
    at::manual_seed(0);
    auto cfg = models::UNet2DConditionConfig::from_json(json::parse(c.config, "ERR_CONFIG"));
    auto unet = std::make_shared<models::UNet2DConditionModelImpl>(cfg);
    unet->to(ctx.device, ctx.dtype);
    unet->eval();
    const bool cl = std::getenv("DOC_ANON_CHANNELS_LAST") && std::string(std::getenv("DOC_ANON_CHANNELS_LAST")) == "1";
    const bool inference_mode = !env_off("DOC_ANON_BENCH_INFERENCE_MODE");
    if (cl) {
      torch::NoGradGuard ng;
      for (auto& p : unet->parameters())
        if (p.dim() == 4) p.set_data(p.contiguous(at::MemoryFormat::ChannelsLast));
    }
    for (int64_t b : batches)
      for (int64_t hw : c.latents)
        for (int th : thread_counts(ctx)) {
          at::set_num_threads(th);
          at::Tensor x = at::randn({b, cfg.in_channels, hw, hw}, opts(ctx));
          if (cl) x = x.contiguous(at::MemoryFormat::ChannelsLast);
          at::Tensor t = at::full({b}, 500, at::TensorOptions().dtype(at::kLong).device(ctx.device));
          at::Tensor e = at::randn({b, c.ctx_len, cfg.cross_attention_dim.at(0)}, opts(ctx));
          std::string tag = c.name + " b" + std::to_string(b) + " latent " + std::to_string(hw) + "x" + std::to_string(hw) +
                            (ctx.device.is_cpu() ? " t" + std::to_string(th) : "");
          auto forward_step = [&] {
            if (inference_mode) {
              c10::InferenceMode im;
              (void)unet->forward(x, t, e);
            } else {
              torch::NoGradGuard ng;
              (void)unet->forward(x, t, e);
            }
          };
          auto train_step = [&] {
            bench::clear_grads(*unet);
            unet->forward(x, t, e).to(at::kFloat).pow(2).mean().backward();
          };
          auto fwd = bench::time_it(ctx.device, forward_step, 2, 2.0);
          bench::row(tag + " forward", fwd, ctx.device.is_cuda() ? std::to_string(1000.0 / fwd.mean_ms).substr(0, 5) + " it/s" : "");
          // DOC_ANON_BENCH_PROFILE=FILE: one more forward under libtorch's profiler, as a Chrome trace.
          if (const char* prof = std::getenv("DOC_ANON_BENCH_PROFILE"); prof && *prof) {
            c10::InferenceMode im;
            torch::autograd::profiler::RecordProfile guard(std::string(prof) + "." + std::to_string(hw) + ".json");
            (void)unet->forward(x, t, e);
          }
          if (env_off("DOC_ANON_BENCH_BACKWARD")) continue;
          bench::row(tag + " forward+backward", bench::time_it(ctx.device, train_step, 1, 2.0));
          // DOC_ANON_BENCH_OPCOUNT=1: the ops one SD2 batch-1 step launches (see bench::count_ops).
          if (std::getenv("DOC_ANON_BENCH_OPCOUNT") && op_counts.empty() && c.name == "sd2" && b == 1 && hw == c.latents.back()) {
            op_counts += bench::count_ops(tag + " forward" + (inference_mode ? " (inference mode)" : " (no-grad)"), ctx.device, forward_step);
            op_counts += bench::count_ops(tag + " forward+backward", ctx.device, train_step);
          }
          bench::clear_grads(*unet);  // the later cases' peak memory must not hold this case's gradients
        }
  }
  if (!op_counts.empty()) std::printf("%s", op_counts.c_str());
  at::set_num_threads(thread_counts(ctx).back());
  ctx.expect("bench.unet ran", true);
}

DA_CHECK("bench.vae") {
  struct Case { std::string name, config; std::vector<int64_t> sizes; };
  std::vector<Case> cases = {{"fixture", read_file(ctx.path("vae/config.json")), {32}}};
  if (full_size_enabled()) cases.push_back({"sd2", bench::manifest_config(ctx, "sd2_vae.json"), {256, 512}});
  bench::header(std::string("AutoencoderKL (") + ctx.device.str() + ", " + c10::toString(ctx.dtype) + ")");
  for (const auto& c : cases) {
    at::manual_seed(0);
    auto vae = std::make_shared<models::AutoencoderKLImpl>(models::AutoencoderKLConfig::from_json(json::parse(c.config, "ERR_CONFIG")));
    vae->to(ctx.device, ctx.dtype);
    vae->eval();
    int64_t f = vae->config().downsample_factor();
    for (int64_t px : c.sizes)
      for (int th : thread_counts(ctx)) {
        at::set_num_threads(th);
        at::Tensor x = at::rand({1, 3, px, px}, opts(ctx)) * 2 - 1;
        at::Tensor z = at::randn({1, 4, px / f, px / f}, opts(ctx));
        std::string tag = c.name + " " + std::to_string(px) + "px" + (ctx.device.is_cpu() ? " t" + std::to_string(th) : "");
        bench::row(tag + " encode", bench::time_it(ctx.device, [&] { torch::NoGradGuard ng; (void)vae->encode(x); }, 2, 2.0));
        bench::row(tag + " decode", bench::time_it(ctx.device, [&] { torch::NoGradGuard ng; (void)vae->decode(z); }, 2, 2.0));
        bench::row(tag + " encode+decode+backward", bench::time_it(ctx.device, [&] {
          bench::clear_grads(*vae);
          models::DiagonalGaussian d(vae->encode(x));
          vae->decode(d.mean).to(at::kFloat).sub(x.to(at::kFloat)).pow(2).mean().backward();
        }, 1, 2.0));
        bench::clear_grads(*vae);  // the next size's encode/decode peak must not hold these gradients
      }
  }
  at::set_num_threads(thread_counts(ctx).back());
  ctx.expect("bench.vae ran", true);
}

DA_CHECK("bench.lpips") {
  bench::header(std::string("LPIPS VGG16 forward+backward (") + ctx.device.str() + ", " + c10::toString(ctx.dtype) + ", random weights)");
  at::manual_seed(0);
  models::Lpips lp;
  {
    torch::NoGradGuard ng;
    for (auto& p : lp.parameters()) p.normal_(0, 0.05);
  }
  lp.to(ctx.device, ctx.dtype);
  lp.eval();
  for (int64_t px : std::vector<int64_t>{256, 512})
    for (int th : thread_counts(ctx)) {
      at::set_num_threads(th);
      at::Tensor a = (at::rand({1, 3, px, px}, opts(ctx)) * 2 - 1).set_requires_grad(true);
      at::Tensor b = at::rand({1, 3, px, px}, opts(ctx)) * 2 - 1;
      auto t = bench::time_it(ctx.device, [&] {
        auto out = lp.forward(a, b);
        torch::autograd::grad({out.dist.to(at::kFloat).sum()}, {a});
      }, 1, 2.0);
      bench::row(std::to_string(px) + "px" + (ctx.device.is_cpu() ? " t" + std::to_string(th) : ""), t);
    }
  at::set_num_threads(thread_counts(ctx).back());
  ctx.expect("bench.lpips ran", true);
}

DA_CHECK("bench.glyph") {
  bench::header(std::string("Glyph encoder (TrOCR ViT), batch of 8 glyphs at 384 (") + ctx.device.str() + ", " + c10::toString(ctx.dtype) + ")");
  for (auto [name, cfg] : std::vector<std::pair<std::string, models::ViTConfig>>{{"base", models::ViTConfig::trocr_base()}, {"large", models::ViTConfig::trocr_large()}}) {
    at::manual_seed(0);
    models::GlyphEncoder enc(cfg);
    enc.to(ctx.device, ctx.dtype);
    enc.eval();
    at::Tensor px = at::rand({8, 3, cfg.image_size, cfg.image_size}, opts(ctx)) * 2 - 1;
    for (int th : thread_counts(ctx)) {
      at::set_num_threads(th);
      bench::row(name + (ctx.device.is_cpu() ? " t" + std::to_string(th) : ""),
                 bench::time_it(ctx.device, [&] { torch::NoGradGuard ng; (void)enc.forward(px); }, 1, 2.0));
    }
  }
  at::set_num_threads(thread_counts(ctx).back());
  ctx.expect("bench.glyph ran", true);
}

DA_CHECK("bench.inpaint") {
  // Per-region latency of the DiffUTE loop (DDIM steps + VAE encode/decode), random weights, with
  // the cross-attention K/V cache (the default) and without it as the baseline in the same run.
  // DOC_ANON_BENCH_INPAINT_STEPS (default 2), DOC_ANON_BENCH_INPAINT_RES (SD2 case, default 512)
  // and DOC_ANON_BENCH_INPAINT_GUIDANCE (default 1: no classifier-free guidance; above 1 each step
  // runs the UNet on a batch of 2, as a guided sampler does).
  const char* guidance_env = std::getenv("DOC_ANON_BENCH_INPAINT_GUIDANCE");
  double guidance = 1.0;
  if (guidance_env && *guidance_env) {
    char* end = nullptr;
    guidance = std::strtod(guidance_env, &end);
    if (end == guidance_env || *end != '\0' || !(guidance >= 1.0))
      throw std::invalid_argument(std::string("DOC_ANON_BENCH_INPAINT_GUIDANCE must be a number >= 1, got ") + guidance_env);
  }
  const int64_t steps = std::max<int64_t>(1, env_list("DOC_ANON_BENCH_INPAINT_STEPS", {2})[0]);
  const int64_t sd2_res = std::max<int64_t>(8, env_list("DOC_ANON_BENCH_INPAINT_RES", {512})[0]);
  bench::header("Inpainting loop per region, " + std::to_string(steps) + " DDIM steps" +
                (guidance > 1 ? ", guidance " + c10::str(guidance) : std::string()) + " (" + ctx.device.str() + ", " + c10::toString(ctx.dtype) + ")");
  struct Case { std::string name, unet, vae; int64_t res, ctx_len; };
  std::vector<Case> cases = {{"fixture 16px", read_file(ctx.path("unet/config.json")), read_file(ctx.path("vae/config.json")), 16, 7}};
  if (full_size_enabled())
    cases.push_back({"sd2 " + std::to_string(sd2_res) + "px", bench::manifest_config(ctx, "sd2_inpainting_unet.json"), bench::manifest_config(ctx, "sd2_vae.json"), sd2_res, 577});
  for (const auto& c : cases) {
    at::manual_seed(0);
    auto unet = std::make_shared<models::UNet2DConditionModelImpl>(models::UNet2DConditionConfig::from_json(json::parse(c.unet, "ERR_CONFIG")));
    auto vae = std::make_shared<models::AutoencoderKLImpl>(models::AutoencoderKLConfig::from_json(json::parse(c.vae, "ERR_CONFIG")));
    unet->to(ctx.device, ctx.dtype);
    vae->to(ctx.device, ctx.dtype);
    unet->eval();
    vae->eval();
    auto sched = schedulers::make_scheduler(json::parse(read_file(ctx.path("pipeline/scheduler_config.json")), "ERR_CONFIG"));
    sampling::InpaintRequest r;
    r.image = at::rand({1, 3, c.res, c.res}, at::TensorOptions().device(ctx.device));
    r.mask = at::zeros({1, 1, c.res, c.res}, at::TensorOptions().device(ctx.device));
    r.mask.slice(2, c.res / 3, c.res / 2).fill_(1);
    r.encoder_hidden_states = at::randn({1, c.ctx_len, unet->config().cross_attention_dim.at(0)}, at::TensorOptions().device(ctx.device));
    r.num_inference_steps = steps;
    r.guidance_scale = guidance;
    if (guidance > 1) r.negative_encoder_hidden_states = at::zeros_like(r.encoder_hidden_states);
    for (bool cache : {true, false}) {
      r.cache_context_kv = cache;
      bench::row(c.name + (cache ? " (context K/V cached)" : " (K/V recomputed every step)"),
                 bench::time_it(ctx.device, [&] { (void)sampling::inpaint(*unet, *vae, *sched, r); }, 1, 2.0));
    }
  }
  ctx.expect("bench.inpaint ran", true);
}
