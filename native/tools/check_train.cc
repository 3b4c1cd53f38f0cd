// Training core checks: the VAE loss convention (output-level gradients equal the documented
// formula, parameter-gradient ratio KL/recon equals the independently written formula's, batch
// averaging), AdamW against libtorch's torch::optim::AdamW, clipping, accumulation and exact state
// round trips, and real optimizer steps on the harness device (bf16 autocast on CUDA).
#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <torch/autograd.h>
#include <torch/optim/adamw.h>

#include <cmath>
#include <unistd.h>

#include <filesystem>

#include "core/fs_util.h"
#include "harness.h"
#include "models/registry.h"
#include "models/unet.h"
#include "models/vae.h"
#include "models/vit.h"
#include "models/weights.h"
#include "schedulers/scheduler.h"
#include "train/adamw.h"
#include "train/autocast.h"
#include "train/clip.h"
#include "train/trainer.h"
#include "train/unet_loss.h"
#include "train/vae_loss.h"

namespace {
using da::models::AutoencoderKLImpl;

std::shared_ptr<AutoencoderKLImpl> fixture_vae(da::harness::Context& ctx) {
  auto vae = da::models::load_model(da::models::ModelKind::kVae, ctx.path("vae"), {}).typed<AutoencoderKLImpl>();
  for (auto& p : vae->parameters()) p.set_requires_grad(true);
  return vae;
}

at::Tensor grad_of(AutoencoderKLImpl& vae, const at::Tensor& loss, const at::Tensor& param) {
  return torch::autograd::grad({loss}, {param}, {}, /*retain_graph=*/true)[0];
}
}  // namespace

DA_CHECK("train.vae_loss_convention") {
  auto vae = fixture_vae(ctx);
  auto io = da::io::SafetensorsFile::open(ctx.path("vae/io.safetensors"));
  at::Tensor x = io->load("input.x");  // [2, 3, 32, 32]
  const double B = 2, beta = 1e-6;
  da::train::VaeLossOptions o;
  o.recon = "mse";
  o.kl_weight = beta;
  at::Generator g = at::detail::createCPUGenerator(7);
  auto t = da::train::vae_loss(*vae, nullptr, x, o, g);
  ctx.compare("kl term = batch mean of the fixture's per-sample KL", t.kl.detach(), io->load("output.kl").mean(), 1e-3, 1e-5);

  // Output-level gradients: d recon / d x_hat = 2 (x_hat - x) / B; d (beta*KL) / d mu = beta*mu/B;
  // d (beta*KL) / d logvar = beta * 0.5 * (exp(logvar) - 1) / B.
  auto gd = torch::autograd::grad({t.recon}, {t.decoded}, {}, true)[0];
  ctx.compare("d recon / d decoded = 2 (decoded - x) / B", gd, 2.0 * (t.decoded.detach() - x) / B, 1e-6, 1e-5);
  const auto& post = *t.posterior;
  auto gk = torch::autograd::grad({beta * t.kl}, {post.mean, post.logvar}, {}, true);
  ctx.compare("d beta*KL / d mean = beta * mean / B", gk[0], beta * post.mean.detach() / B, 1e-16, 1e-5);
  ctx.compare("d beta*KL / d logvar = beta * (var - 1) / (2B)", gk[1], beta * 0.5 * (post.logvar.detach().exp() - 1) / B, 1e-16, 1e-5);

  // Parameter level: ratio |grad(beta*KL)| / |grad(recon)| on quant_conv.weight equals the ratio from
  // the formula written independently here (same posterior noise: same generator seed).
  const at::Tensor& w = vae->quant_conv->weight;
  double mine = grad_of(*vae, beta * t.kl, w).norm().item<double>() / grad_of(*vae, t.recon, w).norm().item<double>();
  at::Generator g2 = at::detail::createCPUGenerator(7);
  at::Tensor moments = vae->encode(x);
  auto chunks = moments.chunk(2, 1);
  at::Tensor mu = chunks[0], logvar = chunks[1].clamp(-30.0, 20.0);
  at::Tensor eps = at::randn(mu.sizes(), g2, at::TensorOptions().dtype(at::kFloat));
  at::Tensor dec = vae->decode(mu + (0.5 * logvar).exp() * eps);
  at::Tensor recon_ref = (dec - x).pow(2).sum() / B;
  at::Tensor kl_ref = 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).sum() / B;
  double ref = grad_of(*vae, beta * kl_ref, w).norm().item<double>() / grad_of(*vae, recon_ref, w).norm().item<double>();
  ctx.expect("grad ratio beta*KL / recon equals the LDM formula's (" + std::to_string(mine) + " vs " + std::to_string(ref) + ")",
             std::abs(mine - ref) <= 1e-4 * std::abs(ref));
  // A per-pixel mean reconstruction would make that ratio C*H*W times larger (the bug to avoid).
  at::Tensor recon_mean = (dec - x).pow(2).mean();
  double buggy = grad_of(*vae, beta * kl_ref, w).norm().item<double>() / grad_of(*vae, recon_mean, w).norm().item<double>();
  ctx.expect("per-pixel mean recon inflates the KL/recon ratio by C*H*W = 3072",
             std::abs(buggy / ref - 3072.0) <= 1e-3 * 3072.0);

  // Batch averaging: duplicating the batch leaves every term unchanged.
  da::train::VaeLossOptions om = o;
  om.sample_posterior = false;
  auto a = da::train::vae_loss(*vae, nullptr, x, om, g);
  auto b = da::train::vae_loss(*vae, nullptr, at::cat({x, x}, 0), om, g);
  ctx.compare("recon is batch-averaged", b.recon.detach(), a.recon.detach(), 1e-9, 1e-5);
  ctx.compare("KL is batch-averaged", b.kl.detach(), a.kl.detach(), 1e-9, 1e-5);
}

DA_CHECK("train.adamw_matches_libtorch") {
  at::manual_seed(3);
  at::Tensor p0 = at::randn({5, 7});
  at::Tensor mine = p0.clone().set_requires_grad(true), ref = p0.clone().set_requires_grad(true);
  da::train::AdamWOptions ao;
  ao.weight_decay = 0.05;
  da::train::AdamW opt({{"w", mine}}, ao);
  torch::optim::AdamW topt({ref}, torch::optim::AdamWOptions(1e-2).weight_decay(0.05));
  for (int s = 0; s < 5; ++s) {
    at::Tensor gr = at::randn({5, 7});
    mine.mutable_grad() = gr.clone();
    ref.mutable_grad() = gr.clone();
    double lr = 1e-2 * (s + 1) / 5.0;
    static_cast<torch::optim::AdamWOptions&>(topt.param_groups()[0].options()).lr(lr);
    opt.step(lr);
    topt.step();
  }
  ctx.compare("AdamW: 5 steps with a changing lr equal torch::optim::AdamW", mine.detach(), ref.detach(), 1e-7, 1e-6);

  // Global-norm clipping.
  at::Tensor a = at::ones({3}).set_requires_grad(true), b = at::ones({4}).set_requires_grad(true);
  a.mutable_grad() = at::full({3}, 3.0);
  b.mutable_grad() = at::full({4}, 4.0);
  double n = da::train::clip_grad_norm({{"a", a}, {"b", b}}, 1.0);
  ctx.expect("clip: total norm sqrt(3*9 + 4*16) reported", std::abs(n - std::sqrt(91.0)) < 1e-5);
  at::Tensor total = at::cat({a.grad(), b.grad()}).norm();
  ctx.expect("clip: clipped norm is 1", std::abs(total.item<double>() - 1.0) < 1e-5);
}

DA_CHECK("train.accumulation_and_state") {
  // k micro-batches of size 1 == one micro-batch of size k (same generator draws: sample_posterior off).
  auto io = da::io::SafetensorsFile::open(ctx.path("vae/io.safetensors"));
  at::Tensor x = io->load("input.x");
  da::train::VaeLossOptions o;
  o.sample_posterior = false;
  auto run = [&](int k) {
    auto vae = fixture_vae(ctx);
    da::train::TrainerOptions to;
    to.ema = true;
    da::train::Trainer tr(*vae, to);
    da::train::StepOptions so;
    so.lr = 1e-3;
    so.max_grad_norm = 0;
    so.ema_decay = 0.5;
    auto r = tr.step(k, [&](int64_t i) {
      at::Tensor xi = k == 1 ? x : x.narrow(0, i, 1);
      auto t = da::train::vae_loss(*vae, nullptr, xi, o, tr.generator());
      return std::map<std::string, at::Tensor>{{"loss", t.loss}};
    }, so);
    return std::make_pair(r, vae->quant_conv->weight.detach().clone());
  };
  auto [r1, w1] = run(1);
  auto [r2, w2] = run(2);
  ctx.expect("accumulation: same reported loss", std::abs(r1.terms["loss"] - r2.terms["loss"]) <= 1e-5 * std::abs(r1.terms["loss"]));
  ctx.expect("accumulation: same grad norm", std::abs(r1.grad_norm - r2.grad_norm) <= 1e-4 * r1.grad_norm);
  ctx.compare("accumulation: same weights after the step", w2, w1, 1e-6, 1e-4);

  // State round trip: save after one step, load into a fresh trainer, the next step is identical.
  auto vae_a = fixture_vae(ctx);
  da::train::TrainerOptions to;
  to.ema = true;
  to.seed = 11;
  o.sample_posterior = true;
  da::train::StepOptions so;
  so.lr = 1e-3;
  auto step = [&](da::train::Trainer& tr, AutoencoderKLImpl& vae) {
    return tr.step(1, [&](int64_t) {
      auto t = da::train::vae_loss(vae, nullptr, x, o, tr.generator());
      return std::map<std::string, at::Tensor>{{"loss", t.loss}};
    }, so);
  };
  da::train::Trainer ta(*vae_a, to);
  step(ta, *vae_a);
  std::string dir = (std::filesystem::temp_directory_path() / ("docanon_train_check_" + std::to_string(::getpid()))).string();
  std::filesystem::create_directories(dir);
  ta.save_state(dir + "/state.safetensors");
  da::models::traits(da::models::ModelKind::kVae).save(*vae_a, dir + "/model");
  step(ta, *vae_a);
  auto vae_b = da::models::load_model(da::models::ModelKind::kVae, dir + "/model", {}).typed<AutoencoderKLImpl>();
  for (auto& p : vae_b->parameters()) p.set_requires_grad(true);
  da::train::Trainer tb(*vae_b, to);
  tb.load_state(dir + "/state.safetensors");
  step(tb, *vae_b);
  ctx.expect("resume: bit-identical weights after save/load + one more step",
             at::equal(vae_a->quant_conv->weight.detach(), vae_b->quant_conv->weight.detach()) &&
                 at::equal(vae_a->decoder->conv_out->weight.detach(), vae_b->decoder->conv_out->weight.detach()));
  da::fs::remove_tree(std::filesystem::path(dir).string());
}

// Optimizer steps computed on --device (the other train.* checks run on the CPU whatever the
// device): float32 master weights stay float32 on the device; on CUDA the step runs under bf16
// autocast, so its losses differ from the same steps in float32 on the CPU by bf16 rounding (not
// by more, and not by nothing); on the CPU autocast is off and they are identical.
// "cuda" (no index) means the current GPU, where tensors report "cuda:0".
static bool on_device(const at::Tensor& t, const c10::Device& d) {
  return t.device().type() == d.type() && (!d.has_index() || t.device().index() == d.index());
}

DA_CHECK("train.device_steps") {
  const c10::Device dev = ctx.device;
  const bool cuda = dev.is_cuda();
  auto io = da::io::SafetensorsFile::open(ctx.path("vae/io.safetensors"));
  const at::Tensor x = io->load("input.x");

  auto vae_losses = [&](c10::Device d, std::vector<double>* losses) {
    da::models::ModelSpec lo;
    lo.device = d;
    auto vae = da::models::load_model(da::models::ModelKind::kVae, ctx.path("vae"), lo).typed<AutoencoderKLImpl>();
    for (auto& p : vae->parameters()) p.set_requires_grad(true);
    at::Tensor w0 = vae->decoder->conv_out->weight.detach().clone();
    da::train::TrainerOptions to;
    to.ema = true;
    to.seed = 5;
    da::train::Trainer tr(*vae, to);
    da::train::StepOptions so;
    so.lr = 1e-3;
    for (int s = 0; s < 3; ++s) {
      auto r = tr.step(1, [&](int64_t) {
        da::train::VaeLossOptions vo;
        vo.autocast = true;  // as the trainer's step
        auto t = da::train::vae_loss(*vae, nullptr, x.to(d), vo, tr.generator());
        return std::map<std::string, at::Tensor>{{"loss", t.loss}};
      }, so);
      losses->push_back(r.terms["loss"]);
      ctx.expect("vae step " + std::to_string(s) + " on " + d.str() + ": finite, applied", std::isfinite(r.terms["loss"]) && !r.skipped);
    }
    const at::Tensor& w = vae->decoder->conv_out->weight;
    ctx.expect("vae master weights stay float32 on " + d.str(), w.scalar_type() == at::kFloat && on_device(w, d));
    ctx.expect("vae weights moved on " + d.str(), !at::equal(w.detach().cpu(), w0.cpu()));
  };
  std::vector<double> on_dev, on_cpu;
  vae_losses(dev, &on_dev);
  vae_losses(c10::Device(c10::kCPU), &on_cpu);
  const double rel = std::abs(on_dev[0] - on_cpu[0]) / std::abs(on_cpu[0]);
  if (cuda)
    ctx.expect("vae: bf16 autocast step vs float32 CPU step: 0 < rel. diff < 5e-2 (" + std::to_string(rel) + ")", rel > 0 && rel < 5e-2);
  else
    ctx.expect("vae: CPU steps are plain float32 (identical losses)", on_dev == on_cpu);

  // DiffUTE UNet step (fixture UNet, frozen fixture VAE and glyph encoder).
  auto unet_losses = [&](c10::Device d, std::vector<double>* losses) {
    da::models::ModelSpec lo;
    lo.device = d;
    auto unet = da::models::load_model(da::models::ModelKind::kUnet, ctx.path("unet"), lo).typed<da::models::UNet2DConditionModelImpl>();
    auto vae = da::models::load_model(da::models::ModelKind::kVae, ctx.path("vae"), lo).typed<AutoencoderKLImpl>();
    auto glyph = da::models::load_model(da::models::ModelKind::kGlyphEncoder, ctx.path("glyph_encoder"), lo).typed<da::models::GlyphEncoder>();
    for (auto& p : vae->parameters()) p.set_requires_grad(false);
    for (auto& p : unet->parameters()) p.set_requires_grad(true);
    auto sched = da::schedulers::make_scheduler_from_file(ctx.path("pipeline/scheduler_config.json"), "DDPMScheduler");
    da::train::Trainer tr(*unet, {});
    da::train::StepOptions so;
    so.lr = 1e-3;
    const int64_t f = vae->config().downsample_factor();
    const int64_t latent = unet->config().sample_size.empty() ? 16 : unet->config().sample_size[0];
    const int64_t side = latent * f, S = glyph->config().image_size;
    at::manual_seed(9);
    da::train::UnetBatch b;
    b.image = at::rand({2, 3, side, side}) * 2 - 1;
    b.boxes = at::tensor({0.0f, 0.0f, float(side) / 2, float(side) / 4, float(side) / 4, float(side) / 2, float(side), float(side)}).view({2, 4});
    b.glyph_pixels = at::rand({2, 3, S, S}) * 2 - 1;
    da::train::UnetLossOptions uo;
    uo.cond_dropout = 0.5;
    for (int s = 0; s < 2; ++s) {
      auto r = tr.step(1, [&](int64_t) {
        auto t = da::train::unet_loss(*unet, *vae, glyph.get(), nullptr, *sched, b, uo, tr.generator());
        return std::map<std::string, at::Tensor>{{"loss", t.loss}};
      }, so);
      losses->push_back(r.terms["loss"]);
      ctx.expect("unet step " + std::to_string(s) + " on " + d.str() + ": finite, applied", std::isfinite(r.terms["loss"]) && !r.skipped);
    }
    ctx.expect("unet master weights stay float32 on " + d.str(), unet->conv_in->weight.scalar_type() == at::kFloat && on_device(unet->conv_in->weight, d));
  };
  std::vector<double> u_dev, u_cpu;
  unet_losses(dev, &u_dev);
  unet_losses(c10::Device(c10::kCPU), &u_cpu);
  const double urel = std::abs(u_dev[0] - u_cpu[0]) / std::abs(u_cpu[0]);
  if (cuda)
    ctx.expect("unet: bf16 autocast step vs float32 CPU step: 0 < rel. diff < 5e-2 (" + std::to_string(urel) + ")", urel > 0 && urel < 5e-2);
  else
    ctx.expect("unet: CPU steps are plain float32 (identical losses)", u_dev == u_cpu);
}
