#include "models/unet_blocks.h"

#include <ATen/ATen.h>

#include <functional>
#include <map>
#include <optional>

#include "core/error.h"
#include "models/checkpoint.h"

namespace da::models {

namespace nn = torch::nn;

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

// ---------------------------------------------------------------- factories

namespace {

// A block type is a class plus whether it attends to the context (CrossAttn*).
struct BlockKind {
  bool cross_attention;
};

const std::map<std::string, BlockKind>& down_kinds() {
  static const std::map<std::string, BlockKind> m{{"CrossAttnDownBlock2D", {true}}, {"DownBlock2D", {false}}};
  return m;
}
const std::map<std::string, BlockKind>& up_kinds() {
  static const std::map<std::string, BlockKind> m{{"CrossAttnUpBlock2D", {true}}, {"UpBlock2D", {false}}};
  return m;
}
const std::map<std::string, BlockKind>& mid_kinds() {
  static const std::map<std::string, BlockKind> m{{"UNetMidBlock2DCrossAttn", {true}}};
  return m;
}

std::vector<std::string> names_of(const std::map<std::string, BlockKind>& m) {
  std::vector<std::string> v;
  for (const auto& [k, _] : m) v.push_back(k);
  return v;
}

const BlockKind& kind_of(const std::map<std::string, BlockKind>& m, const std::string& type, const char* what) {
  auto it = m.find(type);
  if (it == m.end()) {
    std::string known;
    for (const auto& [k, _] : m) known += (known.empty() ? "" : ", ") + k;
    da::fail(code::kConfig, std::string(what) + " type '" + type + "' is not supported (" + known + ")");
  }
  return it->second;
}

}  // namespace

UNetDownBlock make_down_block(const std::string& type, UNetBlockOptions o) {
  o.cross_attention = kind_of(down_kinds(), type, "down block").cross_attention;
  return UNetDownBlock(o);
}

UNetUpBlock make_up_block(const std::string& type, UNetBlockOptions o) {
  o.cross_attention = kind_of(up_kinds(), type, "up block").cross_attention;
  return UNetUpBlock(o);
}

UNetMidBlock2DCrossAttn make_mid_block(const std::string& type, UNetBlockOptions o) {
  o.cross_attention = kind_of(mid_kinds(), type, "mid block").cross_attention;
  return UNetMidBlock2DCrossAttn(o);
}

const std::vector<std::string>& down_block_names() {
  static const auto v = names_of(down_kinds());
  return v;
}
const std::vector<std::string>& up_block_names() {
  static const auto v = names_of(up_kinds());
  return v;
}
const std::vector<std::string>& mid_block_names() {
  static const auto v = names_of(mid_kinds());
  return v;
}

}  // namespace da::models
