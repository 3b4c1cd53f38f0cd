#include "models/unet.h"

#include "models/inplace.h"

#include <ATen/ATen.h>

#include <filesystem>

#include "core/error.h"
#include "models/attention.h"
#include "models/checkpoint.h"
#include "models/config_reader.h"

namespace da::models {

namespace nn = torch::nn;

// ---------------------------------------------------------------- config

UNet2DConditionConfig UNet2DConditionConfig::from_json(const json::Value& root) {
  UNet2DConditionConfig c;
  ConfigReader r(root, "UNet2DConditionModel");
  if (const json::Value* v = r.get("sample_size"); v && !v->is_null())
    c.sample_size = v->is_array() ? r.get_int_list("sample_size", {}) : std::vector<int64_t>{r.get_int("sample_size", 0)};
  c.in_channels = r.get_int("in_channels", c.in_channels);
  c.out_channels = r.get_int("out_channels", c.out_channels);
  c.center_input_sample = r.get_bool("center_input_sample", c.center_input_sample);
  c.flip_sin_to_cos = r.get_bool("flip_sin_to_cos", c.flip_sin_to_cos);
  c.freq_shift = r.get_double("freq_shift", c.freq_shift);
  c.down_block_types = r.get_string_list("down_block_types", c.down_block_types);
  if (const json::Value* v = r.get("mid_block_type"); v && v->is_null())
    c.mid_block_type = "";
  else
    c.mid_block_type = r.get_string("mid_block_type", c.mid_block_type);
  c.up_block_types = r.get_string_list("up_block_types", c.up_block_types);
  c.block_out_channels = r.get_int_list("block_out_channels", c.block_out_channels);
  const size_t n = c.down_block_types.size();
  if (n == 0) r.fail("down_block_types", "must not be empty");
  if (c.block_out_channels.size() != n) r.fail("block_out_channels", "needs one entry per down block");
  if (c.up_block_types.size() != n) r.fail("up_block_types", "needs one entry per down block");
  c.only_cross_attention = r.get_bool_or_list("only_cross_attention", false, n);
  c.layers_per_block = r.get_int_or_list("layers_per_block", 2, n);
  c.downsample_padding = r.get_int("downsample_padding", c.downsample_padding);
  c.mid_block_scale_factor = r.get_double("mid_block_scale_factor", c.mid_block_scale_factor);
  c.dropout = r.get_double("dropout", c.dropout);
  c.act_fn = r.get_string("act_fn", c.act_fn);
  if (const json::Value* v = r.get("norm_num_groups"); v && v->is_null())
    r.fail("norm_num_groups", "null (no output norm) is not supported");
  c.norm_num_groups = r.get_int("norm_num_groups", c.norm_num_groups);
  c.norm_eps = r.get_double("norm_eps", c.norm_eps);
  c.cross_attention_dim = r.get_int_or_list("cross_attention_dim", 1280, n);
  c.transformer_layers_per_block = r.get_int_or_list("transformer_layers_per_block", 1, n);
  r.require_null("reverse_transformer_layers_per_block");
  r.require_null("encoder_hid_dim");
  r.require_null("encoder_hid_dim_type");
  c.attention_head_dim = r.get_int_or_list("attention_head_dim", 8, n);
  // diffusers itself refuses num_attention_heads for this model (a naming issue kept for old configs).
  r.require_null("num_attention_heads");
  r.require_bool("dual_cross_attention", false);
  c.use_linear_projection = r.get_bool("use_linear_projection", c.use_linear_projection);
  r.require_null("class_embed_type");
  r.require_null("addition_embed_type");
  r.require_null("addition_time_embed_dim");
  r.require_null("num_class_embeds");
  c.upcast_attention = r.get_bool("upcast_attention", c.upcast_attention);
  r.require_string("resnet_time_scale_shift", "default");
  r.require_bool("resnet_skip_time_act", false);
  c.resnet_out_scale_factor = r.get_double("resnet_out_scale_factor", c.resnet_out_scale_factor);
  r.require_string("time_embedding_type", "positional");
  if (!r.is_null_or_absent("time_embedding_dim")) c.time_embedding_dim = r.get_int("time_embedding_dim", 0);
  r.require_null("time_embedding_act_fn");
  r.require_null("timestep_post_act");
  r.require_null("time_cond_proj_dim");
  c.conv_in_kernel = r.get_int("conv_in_kernel", c.conv_in_kernel);
  c.conv_out_kernel = r.get_int("conv_out_kernel", c.conv_out_kernel);
  r.require_null("projection_class_embeddings_input_dim");
  r.require_string("attention_type", "default");
  r.require_bool("class_embeddings_concat", false);
  // Only read by UNetMidBlock2DSimpleCrossAttn; UNetMidBlock2DCrossAttn has no such option.
  if (const json::Value* v = r.get("mid_block_only_cross_attention"); v && !v->is_null() && !v->is_bool())
    r.fail("mid_block_only_cross_attention", "expected null or a boolean");
  r.require_null("cross_attention_norm");
  // Only used with addition_embed_type "text" (which is rejected above).
  c.addition_embed_type_num_heads = r.get_int("addition_embed_type_num_heads", c.addition_embed_type_num_heads);
  r.finish();

  for (const auto& t : c.down_block_types)
    if (t != "CrossAttnDownBlock2D" && t != "DownBlock2D")
      r.fail("down_block_types", "block type '" + t + "' is not supported (CrossAttnDownBlock2D, DownBlock2D)");
  for (const auto& t : c.up_block_types)
    if (t != "CrossAttnUpBlock2D" && t != "UpBlock2D")
      r.fail("up_block_types", "block type '" + t + "' is not supported (CrossAttnUpBlock2D, UpBlock2D)");
  if (!c.mid_block_type.empty() && c.mid_block_type != "UNetMidBlock2DCrossAttn")
    r.fail("mid_block_type", "'" + c.mid_block_type + "' is not supported (UNetMidBlock2DCrossAttn or null)");
  if (c.act_fn != "silu") r.fail("act_fn", "'" + c.act_fn + "' is not supported (only silu)");
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
  r.at_most("time_embedding_dim", c.time_embedding_dim, 65536);
  return c;
}

UNet2DConditionConfig UNet2DConditionConfig::from_file(const std::string& path) {
  return from_json(json::parse(read_text_file(path), code::kConfig));
}

namespace {
// Writes a per-block list as diffusers would have it: an int when all entries are equal.
void int_or_list(JsonWriter& w, const std::string& key, const std::vector<int64_t>& v) {
  bool same = true;
  for (auto x : v) same = same && x == v[0];
  if (same) w.field(key, v[0]); else w.field(key, v);
}
}  // namespace

std::string UNet2DConditionConfig::to_json() const {
  JsonWriter w;
  w.field("_class_name", "UNet2DConditionModel");
  w.field("act_fn", act_fn);
  w.null_field("addition_embed_type");
  w.field("addition_embed_type_num_heads", addition_embed_type_num_heads);
  w.null_field("addition_time_embed_dim");
  w.field("attention_head_dim", attention_head_dim);  // a list, as SD2 writes it
  w.field("attention_type", "default");
  w.field("block_out_channels", block_out_channels);
  w.field("center_input_sample", center_input_sample);
  w.null_field("class_embed_type");
  w.field("class_embeddings_concat", false);
  w.field("conv_in_kernel", conv_in_kernel);
  w.field("conv_out_kernel", conv_out_kernel);
  int_or_list(w, "cross_attention_dim", cross_attention_dim);
  w.null_field("cross_attention_norm");
  w.field("down_block_types", down_block_types);
  w.field("downsample_padding", downsample_padding);
  w.field("dropout", dropout);
  w.field("dual_cross_attention", false);
  w.null_field("encoder_hid_dim");
  w.null_field("encoder_hid_dim_type");
  w.field("flip_sin_to_cos", flip_sin_to_cos);
  w.field("freq_shift", freq_shift);
  w.field("in_channels", in_channels);
  int_or_list(w, "layers_per_block", layers_per_block);
  w.null_field("mid_block_only_cross_attention");
  w.field("mid_block_scale_factor", mid_block_scale_factor);
  if (mid_block_type.empty()) w.null_field("mid_block_type"); else w.field("mid_block_type", mid_block_type);
  w.field("norm_eps", norm_eps);
  w.field("norm_num_groups", norm_num_groups);
  w.null_field("num_attention_heads");
  w.null_field("num_class_embeds");
  bool all_same = true;
  for (bool b : only_cross_attention) all_same = all_same && b == only_cross_attention[0];
  if (all_same) {
    w.field("only_cross_attention", static_cast<bool>(only_cross_attention[0]));
  } else {
    std::string s = "[";
    for (size_t i = 0; i < only_cross_attention.size(); ++i) s += (i ? ", " : "") + std::string(only_cross_attention[i] ? "true" : "false");
    w.raw_field("only_cross_attention", s + "]");
  }
  w.field("out_channels", out_channels);
  w.null_field("projection_class_embeddings_input_dim");
  w.field("resnet_out_scale_factor", resnet_out_scale_factor);
  w.field("resnet_skip_time_act", false);
  w.field("resnet_time_scale_shift", "default");
  w.null_field("reverse_transformer_layers_per_block");
  if (sample_size.empty()) w.null_field("sample_size");
  else if (sample_size.size() == 1) w.field("sample_size", sample_size[0]);
  else w.field("sample_size", sample_size);
  w.null_field("time_cond_proj_dim");
  w.null_field("time_embedding_act_fn");
  if (time_embedding_dim > 0) w.field("time_embedding_dim", time_embedding_dim); else w.null_field("time_embedding_dim");
  w.field("time_embedding_type", "positional");
  w.null_field("timestep_post_act");
  int_or_list(w, "transformer_layers_per_block", transformer_layers_per_block);
  w.field("up_block_types", up_block_types);
  w.field("upcast_attention", upcast_attention);
  w.field("use_linear_projection", use_linear_projection);
  return w.str();
}

// ---------------------------------------------------------------- blocks

namespace {
at::Tensor run_resnet(bool ckpt, const ResnetBlock2D& r, const at::Tensor& h, const at::Tensor& temb) {
  auto p = r.ptr();
  return maybe_checkpoint(ckpt, [p](const std::vector<at::Tensor>& v) { return p->forward(v[0], v[1]); }, {h, temb});
}
at::Tensor run_attn(bool ckpt, const Transformer2DModel& a, const at::Tensor& h, const at::Tensor& context) {
  auto p = a.ptr();
  return maybe_checkpoint(ckpt, [p](const std::vector<at::Tensor>& v) { return p->forward(v[0], v[1]); }, {h, context});
}

ResnetBlock2DOptions unet_resnet(const UNetBlockOptions& o, int64_t in, int64_t out) {
  ResnetBlock2DOptions r;
  r.in_channels = in;
  r.out_channels = out;
  r.temb_channels = o.temb_channels;
  r.groups = o.groups;
  r.eps = o.eps;
  r.dropout = o.dropout;
  r.output_scale_factor = o.output_scale_factor;
  return r;
}

Transformer2DModel unet_transformer(const UNetBlockOptions& o, int64_t channels) {
  Transformer2DOptions t;
  t.in_channels = channels;
  t.heads = o.heads;
  t.dim_head = channels / o.heads;
  t.num_layers = o.transformer_layers;
  t.cross_attention_dim = o.cross_attention_dim;
  t.norm_num_groups = o.groups;
  t.use_linear_projection = o.use_linear_projection;
  t.only_cross_attention = o.only_cross_attention;
  t.upcast_attention = o.upcast_attention;
  t.dropout = o.dropout;
  return Transformer2DModel(t);
}
}  // namespace

UNetDownBlockImpl::UNetDownBlockImpl(const UNetBlockOptions& o) {
  if (o.cross_attention) attentions = register_module("attentions", nn::ModuleList());
  resnets = register_module("resnets", nn::ModuleList());
  for (int64_t i = 0; i < o.num_layers; ++i) {
    res.emplace_back(unet_resnet(o, i == 0 ? o.in_channels : o.out_channels, o.out_channels));
    resnets->push_back(res.back());
    if (o.cross_attention) {
      attn.push_back(unet_transformer(o, o.out_channels));
      attentions->push_back(attn.back());
    }
  }
  if (o.add_sample) {
    down = Downsample2D(o.out_channels, o.out_channels, o.downsample_padding);
    downsamplers = register_module("downsamplers", nn::ModuleList());
    downsamplers->push_back(down);
  }
}

at::Tensor UNetDownBlockImpl::forward(const at::Tensor& x, const at::Tensor& temb, const at::Tensor& context,
                                      std::vector<at::Tensor>& skips) {
  at::Tensor h = x;
  for (size_t i = 0; i < res.size(); ++i) {
    h = run_resnet(gradient_checkpointing, res[i], h, temb);
    if (!attn.empty()) h = run_attn(gradient_checkpointing, attn[i], h, context);
    skips.push_back(h);
  }
  if (down) {
    h = down->forward(h);
    skips.push_back(h);
  }
  return h;
}

UNetUpBlockImpl::UNetUpBlockImpl(const UNetBlockOptions& o) {
  if (o.cross_attention) attentions = register_module("attentions", nn::ModuleList());
  resnets = register_module("resnets", nn::ModuleList());
  for (int64_t i = 0; i < o.num_layers; ++i) {
    const int64_t skip_ch = i == o.num_layers - 1 ? o.in_channels : o.out_channels;
    const int64_t in_ch = i == 0 ? o.prev_output_channels : o.out_channels;
    res.emplace_back(unet_resnet(o, in_ch + skip_ch, o.out_channels));
    resnets->push_back(res.back());
    if (o.cross_attention) {
      attn.push_back(unet_transformer(o, o.out_channels));
      attentions->push_back(attn.back());
    }
  }
  if (o.add_sample) {
    up = Upsample2D(o.out_channels, o.out_channels);
    upsamplers = register_module("upsamplers", nn::ModuleList());
    upsamplers->push_back(up);
  }
}

at::Tensor UNetUpBlockImpl::forward(const at::Tensor& x, const at::Tensor& temb, const at::Tensor& context,
                                    std::vector<at::Tensor>& skips) {
  at::Tensor h = x;
  for (size_t i = 0; i < res.size(); ++i) {
    if (skips.empty()) da::fail(code::kInternal, "UNet up block ran out of skip connections");
    at::Tensor skip = std::move(skips.back());
    skips.pop_back();
    h = run_resnet(gradient_checkpointing, res[i], at::cat({h, skip}, 1), temb);
    if (!attn.empty()) h = run_attn(gradient_checkpointing, attn[i], h, context);
  }
  if (up) {
    // The next block's skip has the spatial size this level had on the way down.
    std::optional<std::vector<int64_t>> size;
    if (!skips.empty()) size = std::vector<int64_t>{skips.back().size(2), skips.back().size(3)};
    h = up->forward(h, size);
  }
  return h;
}

UNetMidBlock2DCrossAttnImpl::UNetMidBlock2DCrossAttnImpl(const UNetBlockOptions& o) {
  attentions = register_module("attentions", nn::ModuleList());
  resnets = register_module("resnets", nn::ModuleList());
  res.emplace_back(unet_resnet(o, o.in_channels, o.in_channels));
  resnets->push_back(res.back());
  for (int64_t i = 0; i < o.num_layers; ++i) {
    attn.push_back(unet_transformer(o, o.in_channels));
    attentions->push_back(attn.back());
    res.emplace_back(unet_resnet(o, o.in_channels, o.in_channels));
    resnets->push_back(res.back());
  }
}

at::Tensor UNetMidBlock2DCrossAttnImpl::forward(const at::Tensor& x, const at::Tensor& temb, const at::Tensor& context) {
  at::Tensor h = run_resnet(gradient_checkpointing, res[0], x, temb);
  for (size_t i = 0; i < attn.size(); ++i) {
    h = run_attn(gradient_checkpointing, attn[i], h, context);
    h = run_resnet(gradient_checkpointing, res[i + 1], h, temb);
  }
  return h;
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
    o.cross_attention = c.down_block_types[i] == "CrossAttnDownBlock2D";
    o.add_sample = i + 1 < n;
    downs.emplace_back(o);
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
    o.cross_attention = c.up_block_types[i] == "CrossAttnUpBlock2D";
    o.add_sample = i + 1 < n;
    ups.emplace_back(o);
    up_blocks->push_back(ups.back());
  }

  if (!c.mid_block_type.empty()) {
    UNetBlockOptions o = base;
    o.in_channels = ch.back();
    o.num_layers = 1;
    o.transformer_layers = c.transformer_layers_per_block.back();
    o.heads = c.attention_head_dim.back();
    o.cross_attention_dim = c.cross_attention_dim.back();
    o.output_scale_factor = c.mid_block_scale_factor;
    o.only_cross_attention = false;
    mid_block = register_module("mid_block", UNetMidBlock2DCrossAttn(o));
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

std::shared_ptr<UNet2DConditionModelImpl> UNet2DConditionModelImpl::from_pretrained(const std::string& dir,
                                                                                    const LoadOptions& options,
                                                                                    const std::string& variant) {
  auto config = UNet2DConditionConfig::from_file((std::filesystem::path(dir) / "config.json").string());
  std::string weights = find_diffusers_weights(dir, variant);
  auto model = std::make_shared<UNet2DConditionModelImpl>(config);
  load_weights(*model, *WeightSource::open(weights), options);
  model->eval();
  return model;
}

void UNet2DConditionModelImpl::save_pretrained(const std::string& dir) const {
  namespace fs = std::filesystem;
  fs::create_directories(dir);
  save_weights(*this, (fs::path(dir) / "diffusion_pytorch_model.safetensors").string(), {{"format", "pt"}});
  write_text_file((fs::path(dir) / "config.json").string(), config_.to_json());
}

}  // namespace da::models
