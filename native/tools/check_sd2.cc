// SD2 VAE and UNet against the diffusers fixtures (computations exactly as
// fixtures/README.md describes), and the full-size structures against the manifests.
//
// Tolerances: the README's float64 recompute shows how far a float32 implementation that orders
// its arithmetic differently may drift: at most ~3e-6 relative to each tensor's largest value for
// the forward outputs (decoded_mode 4.5e-6 on 1.62; kl 3e-4 on 3.8e3) and ~1e-9 absolute on the
// gradients. We allow 5e-5 of max|ref| on forward tensors and 2e-4 of max|ref| on gradients
// (gradients sum more products): over 10x the spread, yet a wrong block, eps, clamp or head split
// moves results by 1e-2 or more. ctx.tol_scale widens all of them (bf16/fp16, CUDA).
#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <torch/nn/module.h>

#include <cstdio>
#include <functional>
#include <filesystem>
#include <map>
#include <set>
#include <unistd.h>

#include "core/fs_util.h"
#include "core/error.h"
#include "core/json.h"
#include "harness.h"
#include "io/safetensors.h"
#include "models/config_reader.h"
#include "models/registry.h"
#include "models/unet.h"
#include "models/vae.h"
#include "models/weights.h"
#include "train/unet_loss.h"
#include "train/vae_loss.h"

namespace {

using da::harness::Context;
namespace dm = da::models;

constexpr double kForwardRtol = 5e-5;
constexpr double kGradRtol = 2e-4;
constexpr double kAtol = 1e-7;

// Compares every `output.*`, `intermediate.*` and `grad.*` tensor of the fixture file with `got`;
// a stored tensor nobody computed is a failure (the fixture may grow).
void compare_all(Context& ctx, const std::string& part, const da::io::SafetensorsFile& io,
                 const std::map<std::string, at::Tensor>& got) {
  for (const auto& e : io.entries()) {
    if (e.name.rfind("input.", 0) == 0) continue;
    auto it = got.find(e.name);
    if (it == got.end()) {
      ctx.expect(part + " " + e.name, false, "stored in the fixture but not computed");
      continue;
    }
    const double rtol = e.name.rfind("grad.", 0) == 0 ? kGradRtol : kForwardRtol;
    ctx.compare(part + " " + e.name, it->second, io.load(e.name), kAtol, rtol);
  }
}

at::Tensor input(Context& ctx, const da::io::SafetensorsFile& io, const std::string& name) {
  at::Tensor t = io.load(name);
  return at::isFloatingType(t.scalar_type()) ? t.to(ctx.device, ctx.dtype) : t.to(ctx.device);
}

at::Tensor grad_of(torch::nn::Module& m, const std::string& name) {
  auto params = m.named_parameters(true);
  const at::Tensor* p = params.find(name);
  if (!p) da::fail(da::code::kInternal, "no parameter named " + name);
  if (!p->grad().defined()) da::fail(da::code::kInternal, "parameter " + name + " got no gradient");
  return p->grad();
}

// All parameter gradients flattened into one vector (to compare two backward passes).
at::Tensor all_grads(torch::nn::Module& m) {
  std::vector<at::Tensor> g;
  for (const auto& p : m.parameters()) g.push_back(p.grad().defined() ? p.grad().reshape(-1) : at::zeros({p.numel()}, p.options()));
  return at::cat(g);
}

// Inference runs elementwise steps in place on fresh outputs (models/inplace.h); under autograd the
// same steps run out of place. The two must agree bit for bit, and the inputs must come back
// untouched (an in-place step on a tensor that was not fresh would show in one or the other).
void expect_inference_equals_autograd(Context& ctx, const std::string& part, const at::Tensor& autograd_out,
                                      const std::vector<at::Tensor>& inputs,
                                      const std::function<at::Tensor()>& forward) {
  std::vector<at::Tensor> before;
  for (const auto& t : inputs) before.push_back(t.detach().clone());
  at::Tensor inference_out;
  {
    c10::InferenceMode guard;
    inference_out = forward();
  }
  ctx.expect(part + " inference forward (in place) equals the autograd forward bit for bit",
             at::equal(inference_out, autograd_out.detach()),
             "max_abs " + std::to_string((inference_out - autograd_out.detach()).abs().max().item<double>()));
  bool untouched = true;
  for (size_t i = 0; i < inputs.size(); ++i) untouched = untouched && at::equal(inputs[i], before[i]);
  ctx.expect(part + " inference forward leaves its inputs untouched", untouched);
}

da::models::ModelSpec spec(const Context& ctx) {
  da::models::ModelSpec s;
  s.dtype = ctx.dtype;
  s.device = ctx.device;
  return s;
}

// A fixture model as the addon loads it (models/registry.h).
template <class Impl>
std::shared_ptr<Impl> load(da::models::ModelKind kind, const std::string& dir, const da::models::ModelSpec& s) {
  return da::models::load_model(kind, dir, s).typed<Impl>();
}

}  // namespace

DA_CHECK("parity.vae") {
  auto io = da::io::SafetensorsFile::open(ctx.path("vae/io.safetensors"));
  dm::AutoencoderKL vae(load<dm::AutoencoderKLImpl>(dm::ModelKind::kVae, ctx.path("vae"), spec(ctx)));
  at::Tensor x = input(ctx, *io, "input.x");
  at::Tensor eps = input(ctx, *io, "input.eps");

  // The fixture's loss, mse(decoded, x) + 1e-6 * kl.mean(), is the trainer's objective with a
  // per-element mean reconstruction (train/vae_loss.h): the addon's vaeLoss runs the same call.
  std::map<std::string, at::Tensor> got;
  da::train::VaeLossOptions lo;
  lo.recon = "mse";
  lo.recon_reduction = "mean";
  lo.kl_weight = 1e-6;
  lo.eps = eps;
  at::Generator unused = at::detail::createCPUGenerator(0);
  vae->zero_grad();
  da::train::VaeLossTerms terms = da::train::vae_loss(*vae, nullptr, x, lo, unused);
  const dm::DiagonalGaussian& post = *terms.posterior;
  at::Tensor z = terms.z;
  at::Tensor decoded = terms.decoded;
  at::Tensor kl = terms.kl_per_sample;
  at::Tensor recon = terms.recon;
  at::Tensor loss = terms.loss;
  loss.backward();
  got["output.moments"] = post.parameters;
  got["output.mean"] = post.mean;
  got["output.logvar"] = post.logvar;
  got["output.std"] = post.std;
  got["output.var"] = post.var;
  got["output.z"] = z;
  got["output.decoded"] = decoded;
  got["output.kl"] = kl;
  got["output.recon_mse"] = recon;
  got["output.loss"] = loss;
  for (const auto& e : io->entries())
    if (e.name.rfind("grad.", 0) == 0) got[e.name] = grad_of(*vae, e.name.substr(5));
  {
    at::NoGradGuard no_grad;
    got["output.decoded_mode"] = vae->forward(x, /*sample_posterior=*/false);
  }
  compare_all(ctx, "vae", *io, got);
  // (The loss decodes its float32 posterior sample in the model's dtype, as here.)
  const at::Tensor z_model = z.detach().to(decoded.scalar_type());
  expect_inference_equals_autograd(ctx, "vae decode", decoded, {z_model}, [&] { return vae->decode(z_model); });
  expect_inference_equals_autograd(ctx, "vae encode", vae->encode(x), {x}, [&] { return vae->encode(x); });

  // Gradient checkpointing recomputes the blocks in backward: same loss and gradients.
  at::Tensor plain = all_grads(*vae).clone();
  vae->set_gradient_checkpointing(true);
  vae->zero_grad();
  dm::DiagonalGaussian post2 = vae->encode_dist(x);
  at::Tensor loss2 = at::mse_loss(vae->decode(post2.sample(eps)), x) + 1e-6 * post2.kl().mean();
  loss2.backward();
  vae->set_gradient_checkpointing(false);
  ctx.compare("vae checkpointed loss", loss2, loss, kAtol, kForwardRtol);
  ctx.compare("vae checkpointed grads (all parameters)", all_grads(*vae), plain, kAtol, kGradRtol);
}

DA_CHECK("parity.unet") {
  auto io = da::io::SafetensorsFile::open(ctx.path("unet/io.safetensors"));
  dm::UNet2DConditionModel unet(load<dm::UNet2DConditionModelImpl>(dm::ModelKind::kUnet, ctx.path("unet"), spec(ctx)));
  at::Tensor sample = input(ctx, *io, "input.sample");
  at::Tensor timesteps = input(ctx, *io, "input.timesteps");
  at::Tensor ehs = input(ctx, *io, "input.encoder_hidden_states");
  at::Tensor target = input(ctx, *io, "input.target");

  dm::UNetIntermediates inter;
  {
    at::NoGradGuard no_grad;
    unet->forward(sample, timesteps, ehs, &inter);
  }
  // The fixture's loss is the addon's unetLoss: train::unet_forward_loss.
  unet->zero_grad();
  da::train::UnetForwardLoss fl = da::train::unet_forward_loss(*unet, sample, timesteps, ehs, target);
  at::Tensor out = fl.sample;
  at::Tensor loss = fl.loss;
  loss.backward();
  std::map<std::string, at::Tensor> got{{"output.sample", out},
                                        {"output.loss", loss},
                                        {"intermediate.time_proj", inter.time_proj},
                                        {"intermediate.time_embedding", inter.time_embedding},
                                        {"intermediate.mid_block", inter.mid_block}};
  for (const auto& e : io->entries())
    if (e.name.rfind("grad.", 0) == 0) got[e.name] = grad_of(*unet, e.name.substr(5));
  compare_all(ctx, "unet", *io, got);
  expect_inference_equals_autograd(ctx, "unet", out, {sample, ehs}, [&] { return unet->forward(sample, timesteps, ehs); });

  // Every parameter must receive a gradient (training relies on it).
  int64_t without = 0;
  for (const auto& p : unet->parameters()) without += p.grad().defined() ? 0 : 1;
  ctx.expect("unet every parameter has a gradient", without == 0, std::to_string(without) + " without");

  at::Tensor plain = all_grads(*unet).clone();
  unet->set_gradient_checkpointing(true);
  unet->zero_grad();
  at::Tensor loss2 = da::train::unet_forward_loss(*unet, sample, timesteps, ehs, target).loss;
  loss2.backward();
  unet->set_gradient_checkpointing(false);
  ctx.compare("unet checkpointed loss", loss2, loss, kAtol, kForwardRtol);
  ctx.compare("unet checkpointed grads (all parameters)", all_grads(*unet), plain, kAtol, kGradRtol);

  // A latent size that is not a multiple of 2^levels: upsamplers follow the skips' sizes.
  {
    at::NoGradGuard no_grad;
    at::Tensor odd = sample.slice(2, 0, sample.size(2) - 3).slice(3, 0, sample.size(3) - 1);
    at::Tensor o = unet->forward(odd, timesteps.select(0, 0), ehs);
    ctx.expect("unet odd latent size " + c10::str(odd.sizes()), o.sizes().equals({odd.size(0), out.size(1), odd.size(2), odd.size(3)}),
               c10::str(o.sizes()));
  }
}

namespace {

// Builds a full-size model from a manifest's stored config and checks keys, shapes, counts.
void check_manifest(Context& ctx, const std::string& rel, const std::function<std::shared_ptr<torch::nn::Module>(const da::json::Value&)>& build,
                    const std::function<void(torch::nn::Module&)>& smoke) {
  da::json::Value m = da::json::parse(dm::read_text_file(ctx.path(rel)), da::code::kConfig);
  const da::json::Value* config = m.find("config");
  if (!config) da::fail(da::code::kConfig, rel + " has no config");
  std::shared_ptr<torch::nn::Module> model = build(*config);

  std::map<std::string, std::vector<int64_t>> expected;
  for (const auto& e : m.find("state_dict")->as_array()) {
    std::vector<int64_t> shape;
    for (const auto& d : e.find("shape")->as_array()) shape.push_back(d.as_int());
    expected[e.find("key")->as_string()] = shape;
  }
  std::map<std::string, std::vector<int64_t>> ours;
  for (const auto& [k, t] : dm::state_dict(*model)) ours[k] = t.sizes().vec();

  std::vector<std::string> missing, extra, wrong;
  for (const auto& [k, s] : expected) {
    auto it = ours.find(k);
    if (it == ours.end()) missing.push_back(k);
    else if (it->second != s) wrong.push_back(k + " " + c10::str(at::IntArrayRef(it->second)) + " vs " + c10::str(at::IntArrayRef(s)));
  }
  for (const auto& [k, _] : ours)
    if (!expected.count(k)) extra.push_back(k);
  auto some = [](const std::vector<std::string>& v) {
    std::string s;
    for (size_t i = 0; i < v.size() && i < 5; ++i) s += (i ? ", " : "") + v[i];
    return s;
  };
  const int64_t want_keys = m.find("num_state_dict_keys")->as_int();
  const int64_t want_params = m.find("total_parameters")->as_int();
  const int64_t params = dm::parameter_count(*model);
  ctx.expect(rel + " key count", (int64_t)ours.size() == want_keys && (int64_t)expected.size() == want_keys,
             std::to_string(ours.size()) + " (manifest " + std::to_string(want_keys) + ")");
  ctx.expect(rel + " no missing key", missing.empty(), std::to_string(missing.size()) + " " + some(missing));
  ctx.expect(rel + " no extra key", extra.empty(), std::to_string(extra.size()) + " " + some(extra));
  ctx.expect(rel + " every shape", wrong.empty(), std::to_string(wrong.size()) + " wrong " + some(wrong));
  ctx.expect(rel + " parameter count", params == want_params,
             std::to_string(params) + " (manifest " + std::to_string(want_params) + ")");
  at::NoGradGuard no_grad;
  smoke(*model);
}

}  // namespace

DA_CHECK("manifest.sd2") {
  // Besides the structure, one small forward at full width (random weights): shapes and finiteness.
  check_manifest(
      ctx, "manifests/sd2_vae.json",
      [](const da::json::Value& c) { return std::make_shared<dm::AutoencoderKLImpl>(dm::AutoencoderKLConfig::from_json(c)); },
      [&ctx](torch::nn::Module& m) {
        auto& vae = dynamic_cast<dm::AutoencoderKLImpl&>(m);
        const int64_t f = vae.config().downsample_factor();
        at::Tensor x = at::rand({1, vae.config().in_channels, 2 * f, 3 * f}) * 2 - 1;
        at::Tensor moments = vae.encode(x);
        at::Tensor y = vae.decode(dm::DiagonalGaussian(moments).mode());
        ctx.expect("sd2 vae forward at full width", y.sizes().equals(x.sizes()) && y.isfinite().all().item<bool>(),
                   c10::str(moments.sizes()) + " -> " + c10::str(y.sizes()));
      });
  check_manifest(
      ctx, "manifests/sd2_inpainting_unet.json",
      [](const da::json::Value& c) { return std::make_shared<dm::UNet2DConditionModelImpl>(dm::UNet2DConditionConfig::from_json(c)); },
      [&ctx](torch::nn::Module& m) {
        auto& unet = dynamic_cast<dm::UNet2DConditionModelImpl&>(m);
        const auto& c = unet.config();
        // DiffUTE's context: 577 TrOCR tokens of cross_attention_dim (1024); a 10x6 latent (not a multiple of 8).
        at::Tensor out = unet.forward(at::randn({1, c.in_channels, 10, 6}), at::tensor(int64_t(500)),
                                      at::randn({1, 577, c.cross_attention_dim[0]}));
        ctx.expect("sd2 unet forward at full width", out.sizes().equals({1, c.out_channels, 10, 6}) && out.isfinite().all().item<bool>(),
                   c10::str(out.sizes()));
      });
}

DA_CHECK("config.sd2") {
  // Unsupported values and unknown fields are refused with ERR_CONFIG naming the field.
  const std::string unet_text = dm::read_text_file(ctx.path("unet/config.json"));
  const std::string vae_text = dm::read_text_file(ctx.path("vae/config.json"));
  auto refuses = [&](const std::string& what, const std::string& text, const std::string& field, bool unet) {
    std::string detail = "accepted";
    bool ok = false;
    try {
      auto v = da::json::parse(text, da::code::kConfig);
      if (unet) dm::UNet2DConditionConfig::from_json(v); else dm::AutoencoderKLConfig::from_json(v);
    } catch (const da::Error& e) {
      detail = e.code() + ": " + e.what();
      ok = e.code() == da::code::kConfig && detail.find(field) != std::string::npos;
    }
    ctx.expect("refuses " + what, ok, detail);
  };
  auto replace = [](std::string s, const std::string& from, const std::string& to) {
    auto p = s.find(from);
    if (p != std::string::npos) s.replace(p, from.size(), to);
    return s;
  };
  refuses("unet act_fn gelu", replace(unet_text, "\"act_fn\": \"silu\"", "\"act_fn\": \"gelu\""), "act_fn", true);
  refuses("unet class_embed_type", replace(unet_text, "\"class_embed_type\": null", "\"class_embed_type\": \"timestep\""), "class_embed_type", true);
  refuses("unet num_attention_heads", replace(unet_text, "\"num_attention_heads\": null", "\"num_attention_heads\": 8"), "num_attention_heads", true);
  refuses("unet block type", replace(unet_text, "\"DownBlock2D\"", "\"AttnDownBlock2D\""), "down_block_types", true);
  refuses("unet unknown field", replace(unet_text, "{", "{\"fancy_new_option\": 1,"), "fancy_new_option", true);
  refuses("vae act_fn", replace(vae_text, "\"act_fn\": \"silu\"", "\"act_fn\": \"relu\""), "act_fn", false);
  refuses("vae up block", replace(vae_text, "\"UpDecoderBlock2D\"", "\"AttnUpDecoderBlock2D\""), "up_block_types", false);

  // Save -> load (the registry's, as the addon's ModelHandle.save and loadModel) gives the same
  // config and weights, for every kind with a config.json.
  namespace fs = std::filesystem;
  fs::path tmp = fs::temp_directory_path() / ("docanon_sd2_roundtrip_" + std::to_string(::getpid()));
  for (const auto& [kind, dir] : std::vector<std::pair<dm::ModelKind, std::string>>{
           {dm::ModelKind::kVae, "vae"}, {dm::ModelKind::kUnet, "unet"}, {dm::ModelKind::kGlyphEncoder, "glyph_encoder"}}) {
    const auto& t = dm::traits(kind);
    dm::Model m = dm::load_model(kind, ctx.path(dir), {});
    t.save(*m.module, (tmp / dir).string());
    dm::Model back = dm::load_model(kind, (tmp / dir).string(), {});
    bool same = t.config_json(*back.module) == t.config_json(*m.module);
    auto a = dm::state_dict(*m.module), b = dm::state_dict(*back.module);
    same = same && a.size() == b.size();
    for (size_t i = 0; same && i < a.size(); ++i) same = a[i].first == b[i].first && at::equal(a[i].second, b[i].second);
    ctx.expect(std::string(t.name) + " save -> load round trip", same);
  }
  da::fs::remove_tree(std::filesystem::path(tmp).string());
}

DA_CHECK("parity.sd2_pipeline_models") {
  // The model calls of the end-to-end inpainting fixture (the scheduler and the pipeline's glue
  // are checked elsewhere): masked-image latents, every UNet call with a 0-d timestep, the decode.
  auto io = da::io::SafetensorsFile::open(ctx.path("pipeline/io.safetensors"));
  dm::AutoencoderKL vae(load<dm::AutoencoderKLImpl>(dm::ModelKind::kVae, ctx.path("vae"), spec(ctx)));
  dm::UNet2DConditionModel unet(load<dm::UNet2DConditionModelImpl>(dm::ModelKind::kUnet, ctx.path("unet"), spec(ctx)));
  at::NoGradGuard no_grad;
  const double sf = vae->config().scaling_factor;
  std::vector<std::string> runs;
  for (const auto& e : io->entries()) {
    const std::string suffix = ".timesteps";
    if (e.name.size() > suffix.size() && e.name.compare(e.name.size() - suffix.size(), suffix.size(), suffix) == 0)
      runs.push_back(e.name.substr(0, e.name.size() - suffix.size()));
  }
  ctx.expect("pipeline runs found", !runs.empty(), std::to_string(runs.size()));
  for (const auto& r : runs) {
    at::Tensor masked = input(ctx, *io, "prep.masked_image");
    at::Tensor lat = vae->encode_dist(masked).sample(input(ctx, *io, r + ".posterior_eps")) * sf;
    at::Tensor want = io->load(r + ".masked_image_latents");
    ctx.compare(r + ".masked_image_latents", lat.expand(want.sizes()), want, kAtol, kForwardRtol);
    at::Tensor ehs = io->has(r + ".encoder_hidden_states") ? input(ctx, *io, r + ".encoder_hidden_states")
                                                           : input(ctx, *io, "input.prompt_embeds");
    at::Tensor ts = io->load(r + ".timesteps");
    for (int64_t i = 0; i < ts.size(0); ++i) {
      const std::string step = r + ".step" + std::to_string(i);
      if (!io->has(step + ".unet_input")) break;
      at::Tensor out = unet->forward(input(ctx, *io, step + ".unet_input"), ts[i], ehs);
      ctx.compare(step + ".unet_output", out, io->load(step + ".unet_output"), kAtol, kForwardRtol);
    }
    at::Tensor dec = vae->decode(input(ctx, *io, r + ".final_latents") / sf);
    ctx.compare(r + ".image_decoded", dec, io->load(r + ".image_decoded"), kAtol, kForwardRtol);
  }
}
