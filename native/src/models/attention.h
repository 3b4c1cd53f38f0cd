// diffusers' Attention (attention_processor.py) with the default SDPA processor: to_q/to_k/to_v,
// to_out.0 (Linear) + to_out.1 (Dropout), optional group_norm and residual connection (the VAE
// mid-block's "deprecated attention block" layout). Heads are split as [B, heads, T, head_dim].
#pragma once
#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/pimpl.h>

namespace da::models {

struct AttentionOptions {
  int64_t query_dim = 0;
  int64_t cross_attention_dim = 0;  // 0 = self-attention (keys/values from the query input)
  int64_t heads = 8;
  int64_t dim_head = 64;
  bool bias = false;          // bias of to_q/to_k/to_v
  bool out_bias = true;       // bias of to_out.0
  int64_t norm_num_groups = 0;  // > 0: GroupNorm over channels before the projections (VAE)
  double eps = 1e-5;            // of that GroupNorm
  bool residual_connection = false;
  double rescale_output_factor = 1.0;
  double dropout = 0.0;
  // Computes attention in float32 when the model runs in half/bfloat16 (SD2.1-v needs this).
  bool upcast_attention = false;
};

// Scaled dot-product attention over [B, T, heads*dim_head] tensors; returns [B, Tq, heads*dim_head].
at::Tensor multi_head_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, int64_t heads,
                                bool upcast);

class AttentionImpl : public torch::nn::Module {
 public:
  explicit AttentionImpl(const AttentionOptions& options);
  // x: [B, T, query_dim] or [B, C, H, W] (then attention runs over the H*W positions).
  // context: [B, S, cross_attention_dim] for cross-attention, undefined for self-attention.
  at::Tensor forward(const at::Tensor& x, const at::Tensor& context = at::Tensor());

  torch::nn::GroupNorm group_norm{nullptr};
  torch::nn::Linear to_q{nullptr}, to_k{nullptr}, to_v{nullptr}, to_out_0{nullptr};
  torch::nn::ModuleList to_out{nullptr};

  const AttentionOptions& options() const { return options_; }

  // Cross-attention keys and values depend only on the context, which a sampling loop passes
  // unchanged at every step: with the cache on, they are computed once per context tensor and
  // reused while the same tensor (same storage, same version) comes back. Only without autograd;
  // turning it off drops what it holds. Same linear on the same input: the same bits.
  void set_context_kv_cache(bool on);
  // How often cached keys/values were reused (cumulative; for checks).
  int64_t context_kv_cache_hits() const { return kv_cache_hits_; }

 private:
  AttentionOptions options_;
  bool kv_cache_on_ = false;
  at::Tensor cached_context_, cached_k_, cached_v_;
  int64_t cached_version_ = -1;
  int64_t kv_cache_hits_ = 0;
};
TORCH_MODULE(Attention);

}  // namespace da::models
