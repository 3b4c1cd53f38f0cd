#include "models/attention.h"
#include "models/inplace.h"

#include <ATen/ATen.h>
#include <torch/nn/modules/dropout.h>

#include "core/error.h"
#include "models/linear.h"

namespace da::models {

namespace nn = torch::nn;

AttentionImpl::AttentionImpl(const AttentionOptions& o) : options_(o) {
  const int64_t inner = o.heads * o.dim_head;
  const int64_t kv_dim = o.cross_attention_dim > 0 ? o.cross_attention_dim : o.query_dim;
  if (o.norm_num_groups > 0)
    group_norm = register_module("group_norm", nn::GroupNorm(nn::GroupNormOptions(o.norm_num_groups, o.query_dim).eps(o.eps)));
  to_q = register_module("to_q", nn::Linear(nn::LinearOptions(o.query_dim, inner).bias(o.bias)));
  to_k = register_module("to_k", nn::Linear(nn::LinearOptions(kv_dim, inner).bias(o.bias)));
  to_v = register_module("to_v", nn::Linear(nn::LinearOptions(kv_dim, inner).bias(o.bias)));
  to_out_0 = nn::Linear(nn::LinearOptions(inner, o.query_dim).bias(o.out_bias));
  to_out = register_module("to_out", nn::ModuleList());
  to_out->push_back(to_out_0);
  to_out->push_back(nn::Dropout(o.dropout));  // to_out.1: no parameters, kept for the layout
}

void AttentionImpl::set_context_kv_cache(bool on) {
  kv_cache_on_ = on;
  if (!on) {
    cached_context_ = cached_k_ = cached_v_ = at::Tensor();
    cached_version_ = -1;
  }
}

at::Tensor multi_head_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, int64_t heads,
                                bool upcast) {
  const int64_t B = q.size(0), D = q.size(2);
  const int64_t hd = D / heads;
  auto split = [&](const at::Tensor& t) { return t.view({B, -1, heads, hd}).transpose(1, 2); };
  at::Tensor qh = split(q), kh = split(k), vh = split(v);
  const auto dtype = q.scalar_type();
  if (upcast && dtype != at::kFloat && dtype != at::kDouble) {
    qh = qh.to(at::kFloat);
    kh = kh.to(at::kFloat);
    vh = vh.to(at::kFloat);
  }
  at::Tensor o = at::scaled_dot_product_attention(qh, kh, vh);
  return o.transpose(1, 2).reshape({B, -1, heads * hd}).to(dtype);
}

at::Tensor AttentionImpl::forward(const at::Tensor& x, const at::Tensor& context) {
  const bool spatial = x.dim() == 4;
  if (!spatial && x.dim() != 3) da::fail(code::kShape, "Attention expects a [B, T, C] or [B, C, H, W] input");
  at::Tensor residual = x;
  at::Tensor h = x;
  int64_t B = x.size(0), C = 0, H = 0, W = 0;
  if (spatial) {
    C = x.size(1), H = x.size(2), W = x.size(3);
    // GroupNorm works on [B, C, ...]: normalise before flattening to tokens.
    if (group_norm) h = group_norm->forward(h);
    h = h.view({B, C, H * W}).transpose(1, 2);
  } else if (group_norm) {
    h = group_norm->forward(h.transpose(1, 2)).transpose(1, 2);
  }
  const at::Tensor& kv = context.defined() ? context : h;
  if (context.defined() && options_.cross_attention_dim == 0)
    da::fail(code::kArgument, "this attention layer is self-attention only");
  if (!context.defined() && options_.cross_attention_dim > 0 && options_.cross_attention_dim != options_.query_dim)
    da::fail(code::kArgument, "this cross-attention layer needs encoder_hidden_states");
  if (context.defined() && (context.dim() != 3 || context.size(0) != B || context.size(2) != options_.cross_attention_dim))
    da::fail(code::kShape, "encoder_hidden_states must be [B=" + std::to_string(B) + ", S, " +
                               std::to_string(options_.cross_attention_dim) + "], got " + c10::str(context.sizes()));
  at::Tensor q = linear(to_q, h);
  at::Tensor k, v;
  const bool cacheable = kv_cache_on_ && context.defined() && !at::GradMode::is_enabled();
  if (cacheable && cached_context_.defined() && cached_context_.is_same(context) && cached_version_ == context._version()) {
    k = cached_k_;
    v = cached_v_;
    ++kv_cache_hits_;
  } else {
    k = linear(to_k, kv);
    v = linear(to_v, kv);
    if (cacheable) {
      cached_context_ = context;
      cached_version_ = context._version();
      cached_k_ = k;
      cached_v_ = v;
    }
  }
  at::Tensor o = multi_head_attention(q, k, v, options_.heads, options_.upcast_attention);
  o = linear(to_out_0, o);
  if (options_.dropout > 0) o = at::dropout(o, options_.dropout, is_training());
  if (spatial) o = o.transpose(-1, -2).reshape({B, C, H, W});
  if (options_.residual_connection) o = add_to_fresh(o, residual);
  if (options_.rescale_output_factor != 1.0) o = div_fresh(o, options_.rescale_output_factor);
  return o;
}

}  // namespace da::models
