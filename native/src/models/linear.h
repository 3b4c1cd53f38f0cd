// Linear layers the way PyTorch's F.linear runs them. torch::nn::Linear's forward (the C++
// frontend's functional::linear) does matmul + an in-place bias add for inputs of more than 2
// dimensions; ATen's linear fuses the bias into one addmm for contiguous 3-D inputs, as Python does.
// Found by profiling the SD2 UNet against diffusers: same weights, one pass over the output less.
#pragma once
#include <ATen/ATen.h>
#include <torch/nn/modules/linear.h>

namespace da::models {

inline at::Tensor linear(const torch::nn::Linear& layer, const at::Tensor& x) {
  return at::linear(x, layer->weight, layer->bias);
}

}  // namespace da::models
