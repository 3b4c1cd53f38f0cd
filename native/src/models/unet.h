// UNet2DConditionModel (diffusers models/unets/unet_2d_condition.py + unet_2d_blocks.py) for the
// SD1/SD2 family: CrossAttnDownBlock2D / DownBlock2D, UNetMidBlock2DCrossAttn, UpBlock2D /
// CrossAttnUpBlock2D, sinusoidal timestep embedding. Module names equal diffusers' state_dict keys.
#pragma once
#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/pimpl.h>

#include <string>
#include <vector>

#include "core/json.h"
#include "models/embeddings.h"
#include "models/resnet.h"
#include "models/transformer.h"
#include "models/weights.h"

namespace da::models {

// Mirrors diffusers' UNet2DConditionModel config.json (stabilityai/stable-diffusion-2-inpainting/unet).
// Per-block lists are stored expanded (one entry per down block).
struct UNet2DConditionConfig {
  std::vector<int64_t> sample_size;  // empty = null; informative only
  int64_t in_channels = 4;
  int64_t out_channels = 4;
  bool center_input_sample = false;
  bool flip_sin_to_cos = true;
  double freq_shift = 0;
  std::vector<std::string> down_block_types{"CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D",
                                            "DownBlock2D"};
  std::string mid_block_type = "UNetMidBlock2DCrossAttn";  // "" = no mid block (config null)
  std::vector<std::string> up_block_types{"UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D",
                                          "CrossAttnUpBlock2D"};
  std::vector<bool> only_cross_attention;  // per down block
  std::vector<int64_t> block_out_channels{320, 640, 1280, 1280};
  std::vector<int64_t> layers_per_block;  // per down block
  int64_t downsample_padding = 1;
  double mid_block_scale_factor = 1.0;
  double dropout = 0.0;
  std::string act_fn = "silu";
  int64_t norm_num_groups = 32;
  double norm_eps = 1e-5;
  std::vector<int64_t> cross_attention_dim;            // per down block
  std::vector<int64_t> transformer_layers_per_block;   // per down block
  // SD2 writes the number of heads per block under this (misnamed) field; diffusers uses it as
  // num_attention_heads (num_attention_heads itself must be null). Per down block.
  std::vector<int64_t> attention_head_dim;
  bool use_linear_projection = false;
  bool upcast_attention = false;
  double resnet_out_scale_factor = 1.0;
  int64_t time_embedding_dim = 0;  // 0 = null: 4 * block_out_channels[0]
  int64_t conv_in_kernel = 3;
  int64_t conv_out_kernel = 3;
  int64_t addition_embed_type_num_heads = 64;  // unused (no addition embedding), kept for saving

  // Unknown fields and unsupported values (class/addition embeddings, other block types, act_fn
  // other than silu, ...) throw ERR_CONFIG naming the field. Keys starting with '_' are ignored.
  static UNet2DConditionConfig from_json(const json::Value& root);
  static UNet2DConditionConfig from_file(const std::string& path);
  std::string to_json() const;
  int64_t time_embed_dim() const { return time_embedding_dim > 0 ? time_embedding_dim : block_out_channels[0] * 4; }
};

struct UNetBlockOptions {
  int64_t in_channels = 0, out_channels = 0, prev_output_channels = 0, temb_channels = 0;
  int64_t num_layers = 1, transformer_layers = 1, heads = 1, cross_attention_dim = 0;
  int64_t groups = 32;
  double eps = 1e-5, dropout = 0.0, output_scale_factor = 1.0;
  bool cross_attention = false;  // CrossAttn*Block2D (true) or plain Down/UpBlock2D (false)
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

// Optional debug outputs of one forward (the fixture's hook points).
struct UNetIntermediates {
  at::Tensor time_proj;       // [B, block_out_channels[0]] float32 sinusoidal embedding
  at::Tensor time_embedding;  // [B, time_embed_dim]
  at::Tensor mid_block;       // mid-block output
};

class UNet2DConditionModelImpl : public torch::nn::Module {
 public:
  explicit UNet2DConditionModelImpl(const UNet2DConditionConfig& config);

  // sample: [B, in_channels, h, w]; timesteps: 0-d, [1] or [B] (int64 or float, any device);
  // encoder_hidden_states: [B, S, cross_attention_dim]. Returns [B, out_channels, h, w].
  // Any h, w work: upsamplers take the size of the matching skip connection.
  at::Tensor forward(const at::Tensor& sample, const at::Tensor& timesteps, const at::Tensor& encoder_hidden_states,
                     UNetIntermediates* intermediates = nullptr);

  const UNet2DConditionConfig& config() const { return config_; }
  // Trades compute for memory in training: each resnet and transformer of every block is
  // recomputed during backward (as diffusers' enable_gradient_checkpointing). No effect under no-grad.
  void set_gradient_checkpointing(bool enabled);
  // Sampling loops: every cross-attention layer computes its keys and values once per context
  // tensor and reuses them while the same tensor comes back (AttentionImpl::set_context_kv_cache).
  void set_context_kv_cache(bool on);
  int64_t context_kv_cache_hits() const;  // summed over the layers, cumulative
  // Every attention layer that attends to encoder_hidden_states (attn2 of each transformer block).
  std::vector<std::shared_ptr<AttentionImpl>> cross_attention_layers() const;
  static std::shared_ptr<UNet2DConditionModelImpl> from_pretrained(const std::string& dir, const LoadOptions& options = {},
                                                                   const std::string& variant = "");
  void save_pretrained(const std::string& dir) const;

  torch::nn::Conv2d conv_in{nullptr}, conv_out{nullptr};
  TimestepEmbedding time_embedding{nullptr};
  torch::nn::ModuleList down_blocks{nullptr}, up_blocks{nullptr};
  std::vector<UNetDownBlock> downs;
  std::vector<UNetUpBlock> ups;
  UNetMidBlock2DCrossAttn mid_block{nullptr};
  torch::nn::GroupNorm conv_norm_out{nullptr};

 private:
  UNet2DConditionConfig config_;
};
TORCH_MODULE(UNet2DConditionModel);

}  // namespace da::models
