// The UNet's blocks (diffusers models/unets/unet_2d_blocks.py, candle's unet_2d_blocks.rs):
// CrossAttnDownBlock2D / DownBlock2D, CrossAttnUpBlock2D / UpBlock2D and UNetMidBlock2DCrossAttn,
// made by name through the factories below, so a config's block types map to classes in one place.
// Module names equal diffusers' state_dict keys (resnets.i, attentions.i, downsamplers.0, ...).
#pragma once
#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/pimpl.h>

#include <string>
#include <vector>

#include "models/resnet.h"
#include "models/transformer.h"

namespace da::models {

struct UNetBlockOptions {
  int64_t in_channels = 0, out_channels = 0, prev_output_channels = 0, temb_channels = 0;
  int64_t num_layers = 1, transformer_layers = 1, heads = 1, cross_attention_dim = 0;
  int64_t groups = 32;
  double eps = 1e-5, dropout = 0.0, output_scale_factor = 1.0;
  bool cross_attention = false;  // CrossAttn*Block2D (true) or plain Down/UpBlock2D (false); set by the factory
  bool add_sample = false;       // add a downsampler / upsampler
  int64_t downsample_padding = 1;
  bool use_linear_projection = true, only_cross_attention = false, upcast_attention = false;
};

// CrossAttnDownBlock2D (cross_attention) or DownBlock2D: resnets[i] (+ attentions[i]), downsamplers.0.
class UNetDownBlockImpl : public torch::nn::Module {
 public:
  explicit UNetDownBlockImpl(const UNetBlockOptions& o);
  // Appends every output state to `skips` (one per layer, plus the downsampled one).
  at::Tensor forward(const at::Tensor& x, const at::Tensor& temb, const at::Tensor& context, std::vector<at::Tensor>& skips);
  torch::nn::ModuleList attentions{nullptr}, resnets{nullptr}, downsamplers{nullptr};
  std::vector<Transformer2DModel> attn;
  std::vector<ResnetBlock2D> res;
  Downsample2D down{nullptr};
  bool gradient_checkpointing = false;  // recompute each resnet/transformer in backward
};
TORCH_MODULE(UNetDownBlock);

// CrossAttnUpBlock2D (cross_attention) or UpBlock2D: each layer concatenates one skip (popped
// from the back of `skips`), resnet (+ attention); upsamplers.0 resizes to the next skip's size.
class UNetUpBlockImpl : public torch::nn::Module {
 public:
  explicit UNetUpBlockImpl(const UNetBlockOptions& o);
  at::Tensor forward(const at::Tensor& x, const at::Tensor& temb, const at::Tensor& context, std::vector<at::Tensor>& skips);
  torch::nn::ModuleList attentions{nullptr}, resnets{nullptr}, upsamplers{nullptr};
  std::vector<Transformer2DModel> attn;
  std::vector<ResnetBlock2D> res;
  Upsample2D up{nullptr};
  bool gradient_checkpointing = false;
};
TORCH_MODULE(UNetUpBlock);

// UNetMidBlock2DCrossAttn: resnets.0, then (attentions.i, resnets.i+1) per layer.
class UNetMidBlock2DCrossAttnImpl : public torch::nn::Module {
 public:
  explicit UNetMidBlock2DCrossAttnImpl(const UNetBlockOptions& o);
  at::Tensor forward(const at::Tensor& x, const at::Tensor& temb, const at::Tensor& context);
  torch::nn::ModuleList attentions{nullptr}, resnets{nullptr};
  std::vector<Transformer2DModel> attn;
  std::vector<ResnetBlock2D> res;
  bool gradient_checkpointing = false;
};
TORCH_MODULE(UNetMidBlock2DCrossAttn);

// Blocks by diffusers' block name (ERR_CONFIG naming the known ones for any other).
UNetDownBlock make_down_block(const std::string& type, UNetBlockOptions o);
UNetUpBlock make_up_block(const std::string& type, UNetBlockOptions o);
UNetMidBlock2DCrossAttn make_mid_block(const std::string& type, UNetBlockOptions o);
// The names each factory knows (for config validation).
const std::vector<std::string>& down_block_names();
const std::vector<std::string>& up_block_names();
const std::vector<std::string>& mid_block_names();

}  // namespace da::models
