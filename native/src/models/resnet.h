// diffusers' ResnetBlock2D (pre-norm, "default" time-embedding mode, SiLU), Downsample2D and
// Upsample2D (both with their 3x3 conv). Parameter names follow diffusers' resnet.py.
#pragma once
#include <torch/nn/module.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/pimpl.h>

#include <optional>
#include <vector>

namespace da::models {

struct ResnetBlock2DOptions {
  int64_t in_channels = 0;
  int64_t out_channels = 0;     // 0 = in_channels
  int64_t temb_channels = 0;    // 0 = no time embedding (VAE)
  int64_t groups = 32;
  double eps = 1e-6;
  double dropout = 0.0;
  double output_scale_factor = 1.0;
};

class ResnetBlock2DImpl : public torch::nn::Module {
 public:
  explicit ResnetBlock2DImpl(const ResnetBlock2DOptions& options);
  // temb: [B, temb_channels] (already the UNet's time embedding; SiLU is applied here), or undefined.
  at::Tensor forward(const at::Tensor& x, const at::Tensor& temb = at::Tensor());

  torch::nn::GroupNorm norm1{nullptr}, norm2{nullptr};
  torch::nn::Conv2d conv1{nullptr}, conv2{nullptr}, conv_shortcut{nullptr};
  torch::nn::Linear time_emb_proj{nullptr};

 private:
  ResnetBlock2DOptions options_;
};
TORCH_MODULE(ResnetBlock2D);

class Downsample2DImpl : public torch::nn::Module {
 public:
  // padding 1: conv 3x3 stride 2 pad 1 (UNet); padding 0: pad right/bottom by one, then conv (VAE).
  Downsample2DImpl(int64_t channels, int64_t out_channels, int64_t padding);
  at::Tensor forward(const at::Tensor& x);
  torch::nn::Conv2d conv{nullptr};

 private:
  int64_t padding_;
};
TORCH_MODULE(Downsample2D);

class Upsample2DImpl : public torch::nn::Module {
 public:
  Upsample2DImpl(int64_t channels, int64_t out_channels);
  // Nearest 2x, or nearest to `size` (the UNet passes its skip connection's H, W so that latent
  // sizes that are not multiples of 2^levels work; for exact 2x both give the same result).
  at::Tensor forward(const at::Tensor& x, std::optional<std::vector<int64_t>> size = std::nullopt);
  torch::nn::Conv2d conv{nullptr};
};
TORCH_MODULE(Upsample2D);

}  // namespace da::models
