// UNet2DConditionModel (diffusers models/unets/unet_2d_condition.py) for the SD1/SD2 family: its
// config, the sinusoidal timestep embedding, and the blocks (models/unet_blocks.h, made by name)
// wired together. Module names equal diffusers' state_dict keys.
#pragma once
#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/pimpl.h>

#include <optional>
#include <string>
#include <vector>

#include "models/attention.h"
#include "models/config_fields.h"
#include "models/embeddings.h"
#include "models/unet_blocks.h"

namespace da::models {

// diffusers' UNet2DConditionModel config.json (stabilityai/stable-diffusion-2-inpainting/unet).
// Per-block lists are stored expanded (one entry per down block). Unsupported values (class or
// addition embeddings, other block types, act_fn other than silu, ...) are ERR_CONFIG naming the field.
struct UNet2DConditionConfig : config::Declared<UNet2DConditionConfig> {
  static constexpr const char* kName = "UNet2DConditionModel";
  static constexpr bool kWriteClassName = true;
  static constexpr config::Unknown kUnknown = config::Unknown::kReject;

  std::vector<int64_t> sample_size;  // empty = null
  int64_t in_channels = 4;
  int64_t out_channels = 4;
  bool center_input_sample = false;
  bool flip_sin_to_cos = true;
  double freq_shift = 0;
  std::vector<std::string> down_block_types{"CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D",
                                            "DownBlock2D"};
  std::optional<std::string> mid_block_type = "UNetMidBlock2DCrossAttn";  // null: no mid block
  std::vector<std::string> up_block_types{"UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D",
                                          "CrossAttnUpBlock2D"};
  std::vector<bool> only_cross_attention;  // per down block
  std::vector<int64_t> block_out_channels{320, 640, 1280, 1280};
  std::vector<int64_t> layers_per_block;  // per down block
  int64_t downsample_padding = 1;
  double mid_block_scale_factor = 1.0;
  double dropout = 0.0;
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
  std::optional<int64_t> time_embedding_dim;  // null: 4 * block_out_channels[0]
  int64_t conv_in_kernel = 3;
  int64_t conv_out_kernel = 3;
  std::optional<bool> mid_block_only_cross_attention;  // read by UNetMidBlock2DSimpleCrossAttn only
  int64_t addition_embed_type_num_heads = 64;          // used with addition_embed_type "text" only

  template <class V>
  void fields(V& v) {
    v.sizes("sample_size", sample_size, true, "Latent side the model was trained at; the pipeline's default resolution is this times the VAE factor.");
    v.field("in_channels", in_channels, "Input channels (9 for inpainting: noisy latents, mask, masked-image latents).");
    v.field("out_channels", out_channels, "Output channels.");
    v.field("center_input_sample", center_input_sample, "Map the input from [0, 1] to [-1, 1] first.");
    v.field("flip_sin_to_cos", flip_sin_to_cos, "Timestep embedding as [cos, sin] (SD), not [sin, cos].");
    v.field("freq_shift", freq_shift, "Frequency shift of the sinusoidal timestep embedding.");
    v.field("down_block_types", down_block_types, "Down blocks by diffusers' name: CrossAttnDownBlock2D or DownBlock2D.");
    v.nullable("mid_block_type", mid_block_type, "UNetMidBlock2DCrossAttn, or null for none.");
    v.field("up_block_types", up_block_types, "Up blocks by diffusers' name: CrossAttnUpBlock2D or UpBlock2D.");
    v.field("block_out_channels", block_out_channels, "Output channels of each down block.");
    const size_t n = down_block_types.size();
    v.check(n > 0, "down_block_types", "must not be empty");
    v.check(block_out_channels.size() == n, "block_out_channels", "needs one entry per down block");
    v.check(up_block_types.size() == n, "up_block_types", "needs one entry per down block");
    v.per_block("only_cross_attention", only_cross_attention, false, n, "Transformer blocks without self-attention (one for all blocks, or one per block).");
    v.per_block("layers_per_block", layers_per_block, 2, n, config::ListStyle::kIntWhenEqual, "Resnet layers per down block (up blocks have one more).");
    v.field("downsample_padding", downsample_padding, "Padding of the downsampling convolutions.");
    v.field("mid_block_scale_factor", mid_block_scale_factor, "Output scale of the mid block's resnets.");
    v.field("dropout", dropout, "Dropout probability of the resnets and transformers.");
    v.fixed("act_fn", "silu", "Activation: silu only.");
    v.refuse_null("norm_num_groups", "null (no output norm) is not supported");
    v.field("norm_num_groups", norm_num_groups, "GroupNorm groups.");
    v.field("norm_eps", norm_eps, "GroupNorm epsilon.");
    v.per_block("cross_attention_dim", cross_attention_dim, 1280, n, config::ListStyle::kIntWhenEqual,
                "Width of encoder_hidden_states (the glyph encoder's hidden size: 1024 for TrOCR-large).");
    v.per_block("transformer_layers_per_block", transformer_layers_per_block, 1, n, config::ListStyle::kIntWhenEqual, "Transformer layers per attention block.");
    v.fixed_null("reverse_transformer_layers_per_block");
    v.fixed_null("encoder_hid_dim");
    v.fixed_null("encoder_hid_dim_type");
    v.per_block("attention_head_dim", attention_head_dim, 8, n, config::ListStyle::kAlwaysList, "Attention heads per block (SD2's name for the head count).");
    v.fixed_null("num_attention_heads", "Must be null: SD2 gives the head counts as attention_head_dim.");
    v.fixed("dual_cross_attention", false);
    v.field("use_linear_projection", use_linear_projection, "Linear (SD2) rather than 1x1-convolution projections in the transformers.");
    v.fixed_null("class_embed_type");
    v.fixed_null("addition_embed_type");
    v.fixed_null("addition_time_embed_dim");
    v.fixed_null("num_class_embeds");
    v.field("upcast_attention", upcast_attention, "Attention scores in float32.");
    v.fixed("resnet_time_scale_shift", "default");
    v.fixed("resnet_skip_time_act", false);
    v.field("resnet_out_scale_factor", resnet_out_scale_factor, "Output scale of the resnets.");
    v.fixed("time_embedding_type", "positional");
    v.nullable("time_embedding_dim", time_embedding_dim, "Width of the time embedding (null: 4 x block_out_channels[0]).");
    v.fixed_null("time_embedding_act_fn");
    v.fixed_null("timestep_post_act");
    v.fixed_null("time_cond_proj_dim");
    v.field("conv_in_kernel", conv_in_kernel, "Kernel of conv_in (odd).");
    v.field("conv_out_kernel", conv_out_kernel, "Kernel of conv_out (odd).");
    v.fixed_null("projection_class_embeddings_input_dim");
    v.fixed("attention_type", "default");
    v.fixed("class_embeddings_concat", false);
    v.nullable("mid_block_only_cross_attention", mid_block_only_cross_attention, "Read by UNetMidBlock2DSimpleCrossAttn only: no effect here.");
    v.fixed_null("cross_attention_norm");
    v.field("addition_embed_type_num_heads", addition_embed_type_num_heads, "Used with addition_embed_type \"text\" only: no effect here.");
  }
  // Block types known to the block factories, per-block values, bounds (ERR_CONFIG).
  void validate(const ConfigReader& r) const;
  int64_t time_embed_dim() const { return time_embedding_dim.value_or(block_out_channels[0] * 4); }
};

// Optional debug outputs of one forward (the fixture's hook points).
struct UNetIntermediates {
  at::Tensor time_proj;       // [B, block_out_channels[0]] float32 sinusoidal embedding
  at::Tensor time_embedding;  // [B, time_embed_dim]
  at::Tensor mid_block;       // mid-block output
};

class UNet2DConditionModelImpl : public torch::nn::Module {
 public:
  using Config = UNet2DConditionConfig;
  static constexpr const char* kWeightsName = "diffusion_pytorch_model";  // diffusers' file name

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
