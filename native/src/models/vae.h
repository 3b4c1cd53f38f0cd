// AutoencoderKL (diffusers models/autoencoders/autoencoder_kl.py + vae.py): Encoder
// (DownEncoderBlock2D), Decoder (UpDecoderBlock2D), UNetMidBlock2D with attention, quant_conv /
// post_quant_conv, and the diagonal Gaussian posterior. Module names equal diffusers' state_dict keys.
#pragma once
#include <ATen/core/Generator.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/pimpl.h>

#include <optional>
#include <string>
#include <vector>

#include "core/json.h"
#include "models/attention.h"
#include "models/config_fields.h"
#include "models/resnet.h"
#include "models/weights.h"

namespace da::models {

// diffusers' AutoencoderKL config.json (e.g. stabilityai/stable-diffusion-2-inpainting/vae). Unknown
// fields and unsupported values (another block type, act_fn other than silu, ...) are ERR_CONFIG
// naming the field.
struct AutoencoderKLConfig : config::Declared<AutoencoderKLConfig> {
  static constexpr const char* kName = "AutoencoderKL";
  static constexpr bool kWriteClassName = true;
  static constexpr config::Unknown kUnknown = config::Unknown::kReject;

  int64_t in_channels = 3;
  int64_t out_channels = 3;
  std::vector<std::string> down_block_types{"DownEncoderBlock2D"};  // only DownEncoderBlock2D
  std::vector<std::string> up_block_types{"UpDecoderBlock2D"};      // only UpDecoderBlock2D
  std::vector<int64_t> block_out_channels{64};
  int64_t layers_per_block = 1;
  int64_t latent_channels = 4;
  int64_t norm_num_groups = 32;
  std::vector<int64_t> sample_size{32};  // int (one entry) or [H, W]; informative only
  double scaling_factor = 0.18215;
  std::optional<double> shift_factor;
  std::vector<double> latents_mean, latents_std;  // empty = null
  bool force_upcast = true;  // informative: callers decide to run the VAE in float32
  bool use_quant_conv = true;
  bool use_post_quant_conv = true;
  bool mid_block_add_attention = true;

  template <class V>
  void fields(V& v) {
    v.field("in_channels", in_channels, "Image channels.");
    v.field("out_channels", out_channels, "Decoded image channels.");
    v.field("down_block_types", down_block_types, "Encoder blocks: DownEncoderBlock2D only.");
    v.field("up_block_types", up_block_types, "Decoder blocks: UpDecoderBlock2D only.");
    v.field("block_out_channels", block_out_channels, "Channels of each block; the spatial factor is 2^(blocks - 1).");
    v.field("layers_per_block", layers_per_block, "Resnet layers per encoder block (decoder blocks have one more).");
    v.fixed("act_fn", "silu", "Activation: silu only.");
    v.field("latent_channels", latent_channels, "Latent channels.");
    v.field("norm_num_groups", norm_num_groups, "GroupNorm groups.");
    v.sizes("sample_size", sample_size, false, "Image size the model was trained at (informative).");
    v.field("scaling_factor", scaling_factor, "Latents are multiplied by it for the UNet (SD: 0.18215).");
    v.nullable("shift_factor", shift_factor, "Subtracted before scaling (null for SD).");
    v.nullable("latents_mean", latents_mean, "Per-channel latent mean (null for SD).");
    v.nullable("latents_std", latents_std, "Per-channel latent std (null for SD).");
    v.field("force_upcast", force_upcast, "Run in float32 whatever the pipeline dtype (informative: the caller decides).");
    v.field("use_quant_conv", use_quant_conv, "A 1x1 conv after the encoder.");
    v.field("use_post_quant_conv", use_post_quant_conv, "A 1x1 conv before the decoder.");
    v.field("mid_block_add_attention", mid_block_add_attention, "Self-attention in the mid blocks.");
  }
  // Block types, channel counts, bounds (ERR_CONFIG).
  void validate(const ConfigReader& r) const;
  int64_t downsample_factor() const { return int64_t(1) << (block_out_channels.size() - 1); }
};

// DiagonalGaussianDistribution: moments [B, 2*latent, h, w] -> mean, logvar (clamped to [-30, 20]).
struct DiagonalGaussian {
  at::Tensor parameters, mean, logvar, std, var;
  explicit DiagonalGaussian(const at::Tensor& moments);
  at::Tensor sample(const at::Tensor& eps) const;                             // mean + std * eps
  at::Tensor sample(std::optional<at::Generator> generator = std::nullopt) const;  // eps ~ N(0, 1)
  at::Tensor mode() const { return mean; }
  // Per sample: 0.5 * sum_{C,H,W}(mean^2 + var - 1 - logvar) -> [B] (KL to N(0, I)).
  at::Tensor kl() const;
};

class UNetMidBlock2DImpl : public torch::nn::Module {  // VAE mid block: resnet, [attention, resnet]
 public:
  UNetMidBlock2DImpl(int64_t channels, int64_t groups, double eps, bool add_attention);
  at::Tensor forward(const at::Tensor& x);
  torch::nn::ModuleList attentions{nullptr}, resnets{nullptr};
  std::vector<Attention> attn;
  std::vector<ResnetBlock2D> res;
};
TORCH_MODULE(UNetMidBlock2D);

class DownEncoderBlock2DImpl : public torch::nn::Module {
 public:
  DownEncoderBlock2DImpl(int64_t in_channels, int64_t out_channels, int64_t num_layers, int64_t groups,
                         bool add_downsample);
  at::Tensor forward(const at::Tensor& x);
  torch::nn::ModuleList resnets{nullptr}, downsamplers{nullptr};
  std::vector<ResnetBlock2D> res;
  Downsample2D down{nullptr};
};
TORCH_MODULE(DownEncoderBlock2D);

class UpDecoderBlock2DImpl : public torch::nn::Module {
 public:
  UpDecoderBlock2DImpl(int64_t in_channels, int64_t out_channels, int64_t num_layers, int64_t groups, bool add_upsample);
  at::Tensor forward(const at::Tensor& x);
  torch::nn::ModuleList resnets{nullptr}, upsamplers{nullptr};
  std::vector<ResnetBlock2D> res;
  Upsample2D up{nullptr};
};
TORCH_MODULE(UpDecoderBlock2D);

class EncoderImpl : public torch::nn::Module {
 public:
  explicit EncoderImpl(const AutoencoderKLConfig& c);
  at::Tensor forward(const at::Tensor& x);  // [B, in, H, W] -> [B, 2*latent, H/f, W/f]
  torch::nn::Conv2d conv_in{nullptr}, conv_out{nullptr};
  torch::nn::ModuleList down_blocks{nullptr};
  std::vector<DownEncoderBlock2D> blocks;
  UNetMidBlock2D mid_block{nullptr};
  torch::nn::GroupNorm conv_norm_out{nullptr};
  bool gradient_checkpointing = false;  // recompute each down block and the mid block in backward
};
TORCH_MODULE(Encoder);

class DecoderImpl : public torch::nn::Module {
 public:
  explicit DecoderImpl(const AutoencoderKLConfig& c);
  at::Tensor forward(const at::Tensor& z);
  torch::nn::Conv2d conv_in{nullptr}, conv_out{nullptr};
  torch::nn::ModuleList up_blocks{nullptr};
  std::vector<UpDecoderBlock2D> blocks;
  UNetMidBlock2D mid_block{nullptr};
  torch::nn::GroupNorm conv_norm_out{nullptr};
  bool gradient_checkpointing = false;
};
TORCH_MODULE(Decoder);

class AutoencoderKLImpl : public torch::nn::Module {
 public:
  using Config = AutoencoderKLConfig;
  static constexpr const char* kWeightsName = "diffusion_pytorch_model";  // diffusers' file name

  explicit AutoencoderKLImpl(const AutoencoderKLConfig& config);

  // x: [B, in_channels, H, W] in [-1, 1] -> moments [B, 2*latent, H/f, W/f] (quant_conv output).
  at::Tensor encode(const at::Tensor& x);
  DiagonalGaussian encode_dist(const at::Tensor& x) { return DiagonalGaussian(encode(x)); }
  // z: [B, latent, h, w] (unscaled: divide by scaling_factor first) -> [B, out_channels, h*f, w*f].
  at::Tensor decode(const at::Tensor& z);
  // decode(posterior.sample(generator)) or decode(posterior.mode()).
  at::Tensor forward(const at::Tensor& x, bool sample_posterior = false,
                     std::optional<at::Generator> generator = std::nullopt);

  const AutoencoderKLConfig& config() const { return config_; }
  // Recomputes each encoder/decoder block during backward (as diffusers' gradient checkpointing).
  void set_gradient_checkpointing(bool enabled) {
    encoder->gradient_checkpointing = enabled;
    decoder->gradient_checkpointing = enabled;
  }

  Encoder encoder{nullptr};
  Decoder decoder{nullptr};
  torch::nn::Conv2d quant_conv{nullptr}, post_quant_conv{nullptr};

 private:
  AutoencoderKLConfig config_;
};
TORCH_MODULE(AutoencoderKL);

}  // namespace da::models
