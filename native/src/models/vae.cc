#include "models/vae.h"
#include "models/inplace.h"

#include <ATen/ATen.h>
#include <torch/nn/modules/container/modulelist.h>

#include "core/error.h"
#include "models/checkpoint.h"

namespace da::models {

namespace nn = torch::nn;

// ---------------------------------------------------------------- config

void AutoencoderKLConfig::validate(const ConfigReader& r) const {
  const auto& c = *this;
  if (c.block_out_channels.empty()) r.fail("block_out_channels", "must not be empty");
  if (c.down_block_types.size() != c.block_out_channels.size())
    r.fail("down_block_types", "needs one entry per block_out_channels entry");
  if (c.up_block_types.size() != c.block_out_channels.size())
    r.fail("up_block_types", "needs one entry per block_out_channels entry");
  for (const auto& t : c.down_block_types)
    if (t != "DownEncoderBlock2D") r.fail("down_block_types", "block type '" + t + "' is not supported (only DownEncoderBlock2D)");
  for (const auto& t : c.up_block_types)
    if (t != "UpDecoderBlock2D") r.fail("up_block_types", "block type '" + t + "' is not supported (only UpDecoderBlock2D)");
  if (c.layers_per_block < 1) r.fail("layers_per_block", "must be >= 1");
  if (c.norm_num_groups < 1) r.fail("norm_num_groups", "must be >= 1");
  for (int64_t ch : c.block_out_channels)
    if (ch <= 0 || ch % c.norm_num_groups != 0) r.fail("block_out_channels", "every entry must be a positive multiple of norm_num_groups");
  if (c.latent_channels <= 0 || c.in_channels <= 0 || c.out_channels <= 0) r.fail("latent_channels", "channel counts must be positive");
  // Upper bounds (SD2's VAE: 4 blocks, 2 layers, 512 channels).
  r.at_most("block_out_channels", static_cast<int64_t>(c.block_out_channels.size()), 16);
  r.at_most("block_out_channels", c.block_out_channels, 16384);
  r.at_most("layers_per_block", c.layers_per_block, 64);
  r.at_most("in_channels", c.in_channels, 4096);
  r.at_most("out_channels", c.out_channels, 4096);
  r.at_most("latent_channels", c.latent_channels, 4096);
}

// ---------------------------------------------------------------- posterior

DiagonalGaussian::DiagonalGaussian(const at::Tensor& moments) : parameters(moments) {
  if (moments.dim() != 4 || moments.size(1) % 2 != 0)
    da::fail(code::kShape, "posterior moments must be [B, 2*C, h, w], got " + c10::str(moments.sizes()));
  auto parts = moments.chunk(2, 1);
  mean = parts[0];
  logvar = at::clamp(parts[1], -30.0, 20.0);
  std = at::exp(0.5 * logvar);
  var = at::exp(logvar);
}

at::Tensor DiagonalGaussian::sample(const at::Tensor& eps) const {
  if (!eps.sizes().equals(mean.sizes()))
    da::fail(code::kShape, "posterior noise must have shape " + c10::str(mean.sizes()) + ", got " + c10::str(eps.sizes()));
  return mean + std * eps.to(mean.options());
}

at::Tensor DiagonalGaussian::sample(std::optional<at::Generator> generator) const {
  // As diffusers' randn_tensor: draw on the generator's device (a CPU generator gives the same
  // noise whatever device the model runs on), then move.
  if (generator && generator->device() != mean.device()) {
    at::Tensor eps = at::randn(mean.sizes(), generator, mean.options().device(generator->device()));
    return sample(eps.to(mean.device()));
  }
  return sample(at::randn(mean.sizes(), generator, mean.options()));
}

at::Tensor DiagonalGaussian::kl() const {
  return 0.5 * at::sum(at::pow(mean, 2) + var - 1.0 - logvar, {1, 2, 3});
}

// ---------------------------------------------------------------- blocks

namespace {
// Runs one block (a holder with forward(x)), recomputed in backward when checkpointing.
template <typename Block>
at::Tensor run_block(bool ckpt, const Block& b, const at::Tensor& x) {
  auto p = b.ptr();
  return maybe_checkpoint(ckpt, [p](const std::vector<at::Tensor>& v) { return p->forward(v[0]); }, {x});
}

ResnetBlock2DOptions vae_resnet(int64_t in, int64_t out, int64_t groups) {
  ResnetBlock2DOptions o;
  o.in_channels = in;
  o.out_channels = out;
  o.groups = groups;
  o.eps = 1e-6;  // the VAE's blocks use 1e-6 regardless of the config
  return o;
}
}  // namespace

UNetMidBlock2DImpl::UNetMidBlock2DImpl(int64_t channels, int64_t groups, double eps, bool add_attention) {
  attentions = register_module("attentions", nn::ModuleList());
  resnets = register_module("resnets", nn::ModuleList());
  res.emplace_back(vae_resnet(channels, channels, groups));
  if (add_attention) {
    // diffusers: attention_head_dim = channels, so one head of the full width.
    AttentionOptions a;
    a.query_dim = channels;
    a.heads = 1;
    a.dim_head = channels;
    a.bias = true;
    a.norm_num_groups = groups;
    a.eps = eps;
    a.residual_connection = true;
    attn.emplace_back(a);
    attentions->push_back(attn.back());
  }
  res.emplace_back(vae_resnet(channels, channels, groups));
  for (auto& r : res) resnets->push_back(r);
}

at::Tensor UNetMidBlock2DImpl::forward(const at::Tensor& x) {
  at::Tensor h = res[0]->forward(x);
  if (!attn.empty()) h = attn[0]->forward(h);
  return res[1]->forward(h);
}

DownEncoderBlock2DImpl::DownEncoderBlock2DImpl(int64_t in_channels, int64_t out_channels, int64_t num_layers,
                                               int64_t groups, bool add_downsample) {
  resnets = register_module("resnets", nn::ModuleList());
  for (int64_t i = 0; i < num_layers; ++i) {
    res.emplace_back(vae_resnet(i == 0 ? in_channels : out_channels, out_channels, groups));
    resnets->push_back(res.back());
  }
  if (add_downsample) {
    down = Downsample2D(out_channels, out_channels, 0);
    downsamplers = register_module("downsamplers", nn::ModuleList());
    downsamplers->push_back(down);
  }
}

at::Tensor DownEncoderBlock2DImpl::forward(const at::Tensor& x) {
  at::Tensor h = x;
  for (auto& r : res) h = r->forward(h);
  if (down) h = down->forward(h);
  return h;
}

UpDecoderBlock2DImpl::UpDecoderBlock2DImpl(int64_t in_channels, int64_t out_channels, int64_t num_layers,
                                           int64_t groups, bool add_upsample) {
  resnets = register_module("resnets", nn::ModuleList());
  for (int64_t i = 0; i < num_layers; ++i) {
    res.emplace_back(vae_resnet(i == 0 ? in_channels : out_channels, out_channels, groups));
    resnets->push_back(res.back());
  }
  if (add_upsample) {
    up = Upsample2D(out_channels, out_channels);
    upsamplers = register_module("upsamplers", nn::ModuleList());
    upsamplers->push_back(up);
  }
}

at::Tensor UpDecoderBlock2DImpl::forward(const at::Tensor& x) {
  at::Tensor h = x;
  for (auto& r : res) h = r->forward(h);
  if (up) h = up->forward(h);
  return h;
}

EncoderImpl::EncoderImpl(const AutoencoderKLConfig& c) {
  const auto& ch = c.block_out_channels;
  conv_in = register_module("conv_in", nn::Conv2d(nn::Conv2dOptions(c.in_channels, ch[0], 3).padding(1)));
  down_blocks = register_module("down_blocks", nn::ModuleList());
  int64_t out = ch[0];
  for (size_t i = 0; i < ch.size(); ++i) {
    int64_t in = out;
    out = ch[i];
    blocks.emplace_back(in, out, c.layers_per_block, c.norm_num_groups, i + 1 < ch.size());
    down_blocks->push_back(blocks.back());
  }
  mid_block = register_module("mid_block", UNetMidBlock2D(ch.back(), c.norm_num_groups, 1e-6, c.mid_block_add_attention));
  conv_norm_out = register_module("conv_norm_out", nn::GroupNorm(nn::GroupNormOptions(c.norm_num_groups, ch.back()).eps(1e-6)));
  conv_out = register_module("conv_out", nn::Conv2d(nn::Conv2dOptions(ch.back(), 2 * c.latent_channels, 3).padding(1)));
}

at::Tensor EncoderImpl::forward(const at::Tensor& x) {
  at::Tensor h = conv_in->forward(x);
  for (auto& b : blocks) h = run_block(gradient_checkpointing, b, h);
  h = run_block(gradient_checkpointing, mid_block, h);
  h = silu_of_fresh(conv_norm_out->forward(h));
  return conv_out->forward(h);
}

DecoderImpl::DecoderImpl(const AutoencoderKLConfig& c) {
  const auto& ch = c.block_out_channels;
  conv_in = register_module("conv_in", nn::Conv2d(nn::Conv2dOptions(c.latent_channels, ch.back(), 3).padding(1)));
  up_blocks = register_module("up_blocks", nn::ModuleList());
  mid_block = register_module("mid_block", UNetMidBlock2D(ch.back(), c.norm_num_groups, 1e-6, c.mid_block_add_attention));
  std::vector<int64_t> rev(ch.rbegin(), ch.rend());
  int64_t out = rev[0];
  for (size_t i = 0; i < rev.size(); ++i) {
    int64_t prev = out;
    out = rev[i];
    blocks.emplace_back(prev, out, c.layers_per_block + 1, c.norm_num_groups, i + 1 < rev.size());
    up_blocks->push_back(blocks.back());
  }
  conv_norm_out = register_module("conv_norm_out", nn::GroupNorm(nn::GroupNormOptions(c.norm_num_groups, ch[0]).eps(1e-6)));
  conv_out = register_module("conv_out", nn::Conv2d(nn::Conv2dOptions(ch[0], c.out_channels, 3).padding(1)));
}

at::Tensor DecoderImpl::forward(const at::Tensor& z) {
  at::Tensor h = conv_in->forward(z);
  h = run_block(gradient_checkpointing, mid_block, h);
  for (auto& b : blocks) h = run_block(gradient_checkpointing, b, h);
  h = silu_of_fresh(conv_norm_out->forward(h));
  return conv_out->forward(h);
}

// ---------------------------------------------------------------- model

AutoencoderKLImpl::AutoencoderKLImpl(const AutoencoderKLConfig& config) : config_(config) {
  encoder = register_module("encoder", Encoder(config));
  decoder = register_module("decoder", Decoder(config));
  const int64_t l = config.latent_channels;
  if (config.use_quant_conv) quant_conv = register_module("quant_conv", nn::Conv2d(nn::Conv2dOptions(2 * l, 2 * l, 1)));
  if (config.use_post_quant_conv)
    post_quant_conv = register_module("post_quant_conv", nn::Conv2d(nn::Conv2dOptions(l, l, 1)));
}

at::Tensor AutoencoderKLImpl::encode(const at::Tensor& x) {
  if (x.dim() != 4 || x.size(1) != config_.in_channels)
    da::fail(code::kShape, "AutoencoderKL.encode expects [B, " + std::to_string(config_.in_channels) +
                               ", H, W], got " + c10::str(x.sizes()));
  at::Tensor h = encoder->forward(x);
  return quant_conv ? quant_conv->forward(h) : h;
}

at::Tensor AutoencoderKLImpl::decode(const at::Tensor& z) {
  if (z.dim() != 4 || z.size(1) != config_.latent_channels)
    da::fail(code::kShape, "AutoencoderKL.decode expects [B, " + std::to_string(config_.latent_channels) +
                               ", h, w], got " + c10::str(z.sizes()));
  at::Tensor h = post_quant_conv ? post_quant_conv->forward(z) : z;
  return decoder->forward(h);
}

at::Tensor AutoencoderKLImpl::forward(const at::Tensor& x, bool sample_posterior, std::optional<at::Generator> generator) {
  DiagonalGaussian posterior = encode_dist(x);
  return decode(sample_posterior ? posterior.sample(generator) : posterior.mode());
}

}  // namespace da::models
