#include "models/transformer.h"
#include "models/inplace.h"

#include <ATen/ATen.h>
#include <torch/nn/modules/dropout.h>
#include "models/linear.h"

namespace da::models {

namespace nn = torch::nn;

GEGLUImpl::GEGLUImpl(int64_t dim_in, int64_t dim_out) {
  proj = register_module("proj", nn::Linear(dim_in, dim_out * 2));
}

at::Tensor GEGLUImpl::forward(const at::Tensor& x) {
  auto parts = linear(proj, x).chunk(2, -1);
  at::Tensor gate = at::gelu(parts[1]);
  return in_place_allowed() ? gate.mul_(parts[0]) : parts[0] * gate;
}

FeedForwardImpl::FeedForwardImpl(int64_t dim, int64_t inner_dim, double dropout) : dropout_(dropout) {
  geglu_ = GEGLU(dim, inner_dim);
  out_ = nn::Linear(inner_dim, dim);
  net = register_module("net", nn::ModuleList());
  net->push_back(geglu_);
  net->push_back(nn::Dropout(dropout));
  net->push_back(out_);
}

at::Tensor FeedForwardImpl::forward(const at::Tensor& x) {
  at::Tensor h = geglu_->forward(x);
  if (dropout_ > 0) h = at::dropout(h, dropout_, is_training());
  return linear(out_, h);
}

BasicTransformerBlockImpl::BasicTransformerBlockImpl(const BasicTransformerBlockOptions& o)
    : only_cross_attention_(o.only_cross_attention) {
  const int64_t dim = o.dim;
  auto ln = [&]() { return nn::LayerNorm(nn::LayerNormOptions({dim}).eps(o.norm_eps)); };
  AttentionOptions a1;
  a1.query_dim = dim;
  a1.cross_attention_dim = o.only_cross_attention ? o.cross_attention_dim : 0;
  a1.heads = o.heads;
  a1.dim_head = o.dim_head;
  a1.dropout = o.dropout;
  a1.upcast_attention = o.upcast_attention;
  AttentionOptions a2 = a1;
  a2.cross_attention_dim = o.cross_attention_dim;
  norm1 = register_module("norm1", ln());
  attn1 = register_module("attn1", Attention(a1));
  norm2 = register_module("norm2", ln());
  attn2 = register_module("attn2", Attention(a2));
  norm3 = register_module("norm3", ln());
  ff = register_module("ff", FeedForward(dim, dim * 4, o.dropout));
}

at::Tensor BasicTransformerBlockImpl::forward(const at::Tensor& x, const at::Tensor& context) {
  at::Tensor h = add_to_fresh(attn1->forward(norm1->forward(x), only_cross_attention_ ? context : at::Tensor()), x);
  h = add_to_fresh(attn2->forward(norm2->forward(h), context), h);
  return add_to_fresh(ff->forward(norm3->forward(h)), h);
}

Transformer2DModelImpl::Transformer2DModelImpl(const Transformer2DOptions& o) : options_(o) {
  const int64_t inner = o.heads * o.dim_head;
  norm = register_module("norm", nn::GroupNorm(nn::GroupNormOptions(o.norm_num_groups, o.in_channels).eps(1e-6)));
  if (o.use_linear_projection)
    proj_in_linear = register_module("proj_in", nn::Linear(o.in_channels, inner));
  else
    proj_in_conv = register_module("proj_in", nn::Conv2d(nn::Conv2dOptions(o.in_channels, inner, 1)));
  transformer_blocks = register_module("transformer_blocks", nn::ModuleList());
  for (int64_t i = 0; i < o.num_layers; ++i) {
    BasicTransformerBlockOptions bo;
    bo.dim = inner;
    bo.heads = o.heads;
    bo.dim_head = o.dim_head;
    bo.cross_attention_dim = o.cross_attention_dim;
    bo.only_cross_attention = o.only_cross_attention;
    bo.upcast_attention = o.upcast_attention;
    bo.dropout = o.dropout;
    blocks.emplace_back(bo);
    transformer_blocks->push_back(blocks.back());
  }
  if (o.use_linear_projection)
    proj_out_linear = register_module("proj_out", nn::Linear(inner, o.in_channels));
  else
    proj_out_conv = register_module("proj_out", nn::Conv2d(nn::Conv2dOptions(inner, o.in_channels, 1)));
}

at::Tensor Transformer2DModelImpl::forward(const at::Tensor& x, const at::Tensor& context) {
  const int64_t B = x.size(0), H = x.size(2), W = x.size(3);
  at::Tensor h = norm->forward(x);
  auto to_tokens = [&](const at::Tensor& t) { return t.permute({0, 2, 3, 1}).reshape({B, H * W, t.size(1)}); };
  auto to_image = [&](const at::Tensor& t) { return t.reshape({B, H, W, t.size(2)}).permute({0, 3, 1, 2}).contiguous(); };
  if (proj_in_linear) {
    h = linear(proj_in_linear, to_tokens(h));
  } else {
    h = to_tokens(proj_in_conv->forward(h));
  }
  for (auto& b : blocks) h = b->forward(h, context);
  if (proj_out_linear) {
    h = to_image(linear(proj_out_linear, h));
  } else {
    h = proj_out_conv->forward(to_image(h));
  }
  return add_to_fresh(h, x);
}

}  // namespace da::models
