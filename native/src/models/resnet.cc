#include "models/resnet.h"
#include "models/inplace.h"

#include <ATen/ATen.h>

namespace da::models {

namespace nn = torch::nn;

ResnetBlock2DImpl::ResnetBlock2DImpl(const ResnetBlock2DOptions& o) : options_(o) {
  if (options_.out_channels == 0) options_.out_channels = o.in_channels;
  const int64_t in = o.in_channels, out = options_.out_channels;
  norm1 = register_module("norm1", nn::GroupNorm(nn::GroupNormOptions(o.groups, in).eps(o.eps)));
  conv1 = register_module("conv1", nn::Conv2d(nn::Conv2dOptions(in, out, 3).padding(1)));
  if (o.temb_channels > 0) time_emb_proj = register_module("time_emb_proj", nn::Linear(o.temb_channels, out));
  norm2 = register_module("norm2", nn::GroupNorm(nn::GroupNormOptions(o.groups, out).eps(o.eps)));
  conv2 = register_module("conv2", nn::Conv2d(nn::Conv2dOptions(out, out, 3).padding(1)));
  if (in != out) conv_shortcut = register_module("conv_shortcut", nn::Conv2d(nn::Conv2dOptions(in, out, 1)));
}

at::Tensor ResnetBlock2DImpl::forward(const at::Tensor& x, const at::Tensor& temb) {
  at::Tensor h = silu_of_fresh(norm1->forward(x));
  h = conv1->forward(h);
  if (time_emb_proj && temb.defined()) {
    at::Tensor t = time_emb_proj->forward(at::silu(temb));
    h = add_to_fresh(h, t.unsqueeze(-1).unsqueeze(-1));
  }
  h = silu_of_fresh(norm2->forward(h));
  if (options_.dropout > 0) h = at::dropout(h, options_.dropout, is_training());
  h = conv2->forward(h);
  at::Tensor shortcut = conv_shortcut ? conv_shortcut->forward(x) : x;
  at::Tensor out = add_to_fresh(h, shortcut);
  if (options_.output_scale_factor != 1.0) out = div_fresh(out, options_.output_scale_factor);
  return out;
}

Downsample2DImpl::Downsample2DImpl(int64_t channels, int64_t out_channels, int64_t padding) : padding_(padding) {
  conv = register_module("conv", nn::Conv2d(nn::Conv2dOptions(channels, out_channels, 3).stride(2).padding(padding)));
}

at::Tensor Downsample2DImpl::forward(const at::Tensor& x) {
  // The VAE's asymmetric padding (right and bottom only) comes from the original LDM code.
  if (padding_ == 0) return conv->forward(at::constant_pad_nd(x, {0, 1, 0, 1}, 0));
  return conv->forward(x);
}

Upsample2DImpl::Upsample2DImpl(int64_t channels, int64_t out_channels) {
  conv = register_module("conv", nn::Conv2d(nn::Conv2dOptions(channels, out_channels, 3).padding(1)));
}

at::Tensor Upsample2DImpl::forward(const at::Tensor& x, std::optional<std::vector<int64_t>> size) {
  std::vector<int64_t> out_size = size ? *size : std::vector<int64_t>{x.size(2) * 2, x.size(3) * 2};
  return conv->forward(at::upsample_nearest2d(x, out_size));
}

}  // namespace da::models
