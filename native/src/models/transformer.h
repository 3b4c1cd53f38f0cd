// diffusers' Transformer2DModel (continuous input) and BasicTransformerBlock (layer_norm type,
// self-attention, cross-attention, GEGLU feed-forward), as used by SD2's UNet.
#pragma once
#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/pimpl.h>

#include <vector>

#include "models/attention.h"

namespace da::models {

// GEGLU: proj -> (hidden, gate) halves -> hidden * gelu(gate) (exact erf GELU).
class GEGLUImpl : public torch::nn::Module {
 public:
  GEGLUImpl(int64_t dim_in, int64_t dim_out);
  at::Tensor forward(const at::Tensor& x);
  torch::nn::Linear proj{nullptr};
};
TORCH_MODULE(GEGLU);

// FeedForward: net.0 = GEGLU(dim -> inner), net.1 = Dropout, net.2 = Linear(inner -> dim).
class FeedForwardImpl : public torch::nn::Module {
 public:
  FeedForwardImpl(int64_t dim, int64_t inner_dim, double dropout);
  at::Tensor forward(const at::Tensor& x);
  torch::nn::ModuleList net{nullptr};

 private:
  GEGLU geglu_{nullptr};
  torch::nn::Linear out_{nullptr};
  double dropout_;
};
TORCH_MODULE(FeedForward);

struct BasicTransformerBlockOptions {
  int64_t dim = 0;
  int64_t heads = 8;
  int64_t dim_head = 64;
  int64_t cross_attention_dim = 0;
  bool only_cross_attention = false;  // attn1 attends to the context too
  bool upcast_attention = false;
  double dropout = 0.0;
  double norm_eps = 1e-5;
};

class BasicTransformerBlockImpl : public torch::nn::Module {
 public:
  explicit BasicTransformerBlockImpl(const BasicTransformerBlockOptions& options);
  at::Tensor forward(const at::Tensor& x, const at::Tensor& context);

  torch::nn::LayerNorm norm1{nullptr}, norm2{nullptr}, norm3{nullptr};
  Attention attn1{nullptr}, attn2{nullptr};
  FeedForward ff{nullptr};

 private:
  bool only_cross_attention_;
};
TORCH_MODULE(BasicTransformerBlock);

struct Transformer2DOptions {
  int64_t in_channels = 0;
  int64_t heads = 8;
  int64_t dim_head = 64;
  int64_t num_layers = 1;
  int64_t cross_attention_dim = 0;
  int64_t norm_num_groups = 32;
  bool use_linear_projection = true;  // proj_in/proj_out as Linear (SD2) or 1x1 Conv2d (SD1)
  bool only_cross_attention = false;
  bool upcast_attention = false;
  double dropout = 0.0;
};

class Transformer2DModelImpl : public torch::nn::Module {
 public:
  explicit Transformer2DModelImpl(const Transformer2DOptions& options);
  // x: [B, C, H, W]; context: [B, S, cross_attention_dim]. Returns x + transformer(x).
  at::Tensor forward(const at::Tensor& x, const at::Tensor& context);

  torch::nn::GroupNorm norm{nullptr};
  torch::nn::Linear proj_in_linear{nullptr}, proj_out_linear{nullptr};  // registered as proj_in / proj_out
  torch::nn::Conv2d proj_in_conv{nullptr}, proj_out_conv{nullptr};      // (one pair or the other)
  torch::nn::ModuleList transformer_blocks{nullptr};
  std::vector<BasicTransformerBlock> blocks;

 private:
  Transformer2DOptions options_;
};
TORCH_MODULE(Transformer2DModel);

}  // namespace da::models
