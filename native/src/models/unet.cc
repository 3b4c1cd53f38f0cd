#include "models/unet.h"

#include <ATen/ATen.h>

#include <algorithm>

#include "core/error.h"
#include "models/inplace.h"

namespace da::models {

namespace nn = torch::nn;

// ---------------------------------------------------------------- config

void UNet2DConditionConfig::validate(const ConfigReader& r) const {
  const auto& c = *this;
  const size_t n = c.down_block_types.size();
  auto known = [&](const std::vector<std::string>& names, const std::string& t) {
    return std::find(names.begin(), names.end(), t) != names.end();
  };
  auto list = [](const std::vector<std::string>& names) {
    std::string s;
    for (const auto& x : names) s += (s.empty() ? "" : ", ") + x;
    return s;
  };
  for (const auto& t : c.down_block_types)
    if (!known(down_block_names(), t)) r.fail("down_block_types", "block type '" + t + "' is not supported (" + list(down_block_names()) + ")");
  for (const auto& t : c.up_block_types)
    if (!known(up_block_names(), t)) r.fail("up_block_types", "block type '" + t + "' is not supported (" + list(up_block_names()) + ")");
  if (c.mid_block_type && !known(mid_block_names(), *c.mid_block_type))
    r.fail("mid_block_type", "'" + *c.mid_block_type + "' is not supported (" + list(mid_block_names()) + " or null)");
  if (c.conv_in_kernel < 1 || c.conv_in_kernel % 2 == 0) r.fail("conv_in_kernel", "must be odd");
  if (c.conv_out_kernel < 1 || c.conv_out_kernel % 2 == 0) r.fail("conv_out_kernel", "must be odd");
  if (c.norm_num_groups < 1) r.fail("norm_num_groups", "must be >= 1");
  for (size_t i = 0; i < n; ++i) {
    const int64_t ch = c.block_out_channels[i];
    if (ch <= 0 || ch % c.norm_num_groups != 0) r.fail("block_out_channels", "every entry must be a positive multiple of norm_num_groups");
    if (c.attention_head_dim[i] <= 0 || ch % c.attention_head_dim[i] != 0)
      r.fail("attention_head_dim", "each block's head count must divide its channels");
    if (c.layers_per_block[i] < 1) r.fail("layers_per_block", "must be >= 1");
    if (c.transformer_layers_per_block[i] < 1) r.fail("transformer_layers_per_block", "must be >= 1");
  }
  // Upper bounds (SD2: 4 blocks, 2 layers, 1280 channels, 1 transformer layer; SDXL: 10).
  r.at_most("down_block_types", static_cast<int64_t>(n), 16);
  r.at_most("block_out_channels", c.block_out_channels, 16384);
  r.at_most("layers_per_block", c.layers_per_block, 64);
  r.at_most("transformer_layers_per_block", c.transformer_layers_per_block, 256);
  r.at_most("cross_attention_dim", c.cross_attention_dim, 65536);
  r.at_most("in_channels", c.in_channels, 4096);
  r.at_most("out_channels", c.out_channels, 4096);
  r.at_most("conv_in_kernel", c.conv_in_kernel, 63);
  r.at_most("conv_out_kernel", c.conv_out_kernel, 63);
  r.at_most("time_embedding_dim", c.time_embedding_dim.value_or(0), 65536);
}

// ---------------------------------------------------------------- model

UNet2DConditionModelImpl::UNet2DConditionModelImpl(const UNet2DConditionConfig& c) : config_(c) {
  const auto& ch = c.block_out_channels;
  const size_t n = ch.size();
  // A config built in C++ must be as complete as one from from_json (per-block lists expanded).
  for (const auto* v : {&c.layers_per_block, &c.cross_attention_dim, &c.transformer_layers_per_block, &c.attention_head_dim})
    if (v->size() != n) da::fail(code::kConfig, "UNet2DConditionConfig: per-block lists need one entry per block_out_channels entry");
  if (n == 0 || c.down_block_types.size() != n || c.up_block_types.size() != n || c.only_cross_attention.size() != n)
    da::fail(code::kConfig, "UNet2DConditionConfig: block types and only_cross_attention need one entry per block");
  const int64_t temb = c.time_embed_dim();
  conv_in = register_module("conv_in", nn::Conv2d(nn::Conv2dOptions(c.in_channels, ch[0], c.conv_in_kernel)
                                                      .padding((c.conv_in_kernel - 1) / 2)));
  time_embedding = register_module("time_embedding", TimestepEmbedding(ch[0], temb));

  UNetBlockOptions base;
  base.temb_channels = temb;
  base.groups = c.norm_num_groups;
  base.eps = c.norm_eps;
  base.dropout = c.dropout;
  base.output_scale_factor = c.resnet_out_scale_factor;
  base.downsample_padding = c.downsample_padding;
  base.use_linear_projection = c.use_linear_projection;
  base.upcast_attention = c.upcast_attention;

  down_blocks = register_module("down_blocks", nn::ModuleList());
  int64_t out = ch[0];
  for (size_t i = 0; i < n; ++i) {
    UNetBlockOptions o = base;
    o.in_channels = out;
    out = ch[i];
    o.out_channels = out;
    o.num_layers = c.layers_per_block[i];
    o.transformer_layers = c.transformer_layers_per_block[i];
    o.heads = c.attention_head_dim[i];
    o.cross_attention_dim = c.cross_attention_dim[i];
    o.only_cross_attention = c.only_cross_attention[i];
    o.add_sample = i + 1 < n;
    downs.push_back(make_down_block(c.down_block_types[i], o));
    down_blocks->push_back(downs.back());
  }

  up_blocks = register_module("up_blocks", nn::ModuleList());
  std::vector<int64_t> rch(ch.rbegin(), ch.rend());
  out = rch[0];
  for (size_t i = 0; i < n; ++i) {
    const size_t j = n - 1 - i;  // the matching down block
    UNetBlockOptions o = base;
    o.prev_output_channels = out;
    out = rch[i];
    o.out_channels = out;
    o.in_channels = rch[std::min(i + 1, n - 1)];
    o.num_layers = c.layers_per_block[j] + 1;
    o.transformer_layers = c.transformer_layers_per_block[j];
    o.heads = c.attention_head_dim[j];
    o.cross_attention_dim = c.cross_attention_dim[j];
    o.only_cross_attention = c.only_cross_attention[j];
    o.add_sample = i + 1 < n;
    ups.push_back(make_up_block(c.up_block_types[i], o));
    up_blocks->push_back(ups.back());
  }

  if (c.mid_block_type) {
    UNetBlockOptions o = base;
    o.in_channels = ch.back();
    o.num_layers = 1;
    o.transformer_layers = c.transformer_layers_per_block.back();
    o.heads = c.attention_head_dim.back();
    o.cross_attention_dim = c.cross_attention_dim.back();
    o.output_scale_factor = c.mid_block_scale_factor;
    o.only_cross_attention = false;
    mid_block = register_module("mid_block", make_mid_block(*c.mid_block_type, o));
  }

  conv_norm_out = register_module("conv_norm_out", nn::GroupNorm(nn::GroupNormOptions(c.norm_num_groups, ch[0]).eps(c.norm_eps)));
  conv_out = register_module("conv_out", nn::Conv2d(nn::Conv2dOptions(ch[0], c.out_channels, c.conv_out_kernel)
                                                        .padding((c.conv_out_kernel - 1) / 2)));
}

at::Tensor UNet2DConditionModelImpl::forward(const at::Tensor& sample_in, const at::Tensor& timesteps_in,
                                             const at::Tensor& context, UNetIntermediates* inter) {
  const auto& c = config_;
  if (sample_in.dim() != 4 || sample_in.size(1) != c.in_channels)
    da::fail(code::kShape, "UNet sample must be [B, " + std::to_string(c.in_channels) + ", h, w], got " +
                               c10::str(sample_in.sizes()));
  const int64_t B = sample_in.size(0);
  if (context.dim() != 3 || context.size(0) != B)
    da::fail(code::kShape, "encoder_hidden_states must be [B=" + std::to_string(B) + ", S, C], got " + c10::str(context.sizes()));
  if (!timesteps_in.defined() || timesteps_in.dim() > 1 || (timesteps_in.dim() == 1 && timesteps_in.size(0) != B && timesteps_in.size(0) != 1))
    da::fail(code::kShape, "timesteps must be 0-d, [1] or [B=" + std::to_string(B) + "]");
  at::Tensor t = timesteps_in.reshape({-1}).to(sample_in.device()).expand({B});

  at::Tensor t_emb = timestep_embedding(t, c.block_out_channels[0], c.flip_sin_to_cos, c.freq_shift);
  if (inter) inter->time_proj = t_emb;
  at::Tensor emb = time_embedding->forward(t_emb.to(sample_in.scalar_type()));
  if (inter) inter->time_embedding = emb;

  at::Tensor h = c.center_input_sample ? 2 * sample_in - 1.0 : sample_in;
  h = conv_in->forward(h);
  std::vector<at::Tensor> skips{h};
  for (auto& d : downs) h = d->forward(h, emb, context, skips);
  if (mid_block) h = mid_block->forward(h, emb, context);
  if (inter) inter->mid_block = h;
  for (auto& u : ups) h = u->forward(h, emb, context, skips);
  h = silu_of_fresh(conv_norm_out->forward(h));
  return conv_out->forward(h);
}

void UNet2DConditionModelImpl::set_gradient_checkpointing(bool enabled) {
  for (auto& d : downs) d->gradient_checkpointing = enabled;
  for (auto& u : ups) u->gradient_checkpointing = enabled;
  if (mid_block) mid_block->gradient_checkpointing = enabled;
}

std::vector<std::shared_ptr<AttentionImpl>> UNet2DConditionModelImpl::cross_attention_layers() const {
  std::vector<std::shared_ptr<AttentionImpl>> layers;
  for (const auto& m : modules(/*include_self=*/false))
    if (auto a = std::dynamic_pointer_cast<AttentionImpl>(m); a && a->options().cross_attention_dim > 0) layers.push_back(a);
  return layers;
}

void UNet2DConditionModelImpl::set_context_kv_cache(bool on) {
  for (const auto& a : cross_attention_layers()) a->set_context_kv_cache(on);
}

int64_t UNet2DConditionModelImpl::context_kv_cache_hits() const {
  int64_t hits = 0;
  for (const auto& a : cross_attention_layers()) hits += a->context_kv_cache_hits();
  return hits;
}

}  // namespace da::models
