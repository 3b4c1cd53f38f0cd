// The trainable parameters of a module, by their reference (state_dict) names. Frozen parameters
// (requires_grad false, e.g. the encoder in decoder-only VAE fine-tuning) are left out, so the
// optimizer, EMA and clipping only ever see what is being trained.
#pragma once
#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>

#include <string>
#include <vector>

namespace da::train {

struct NamedParam {
  std::string name;
  at::Tensor param;
};

// Parameters with requires_grad, in registration order. ERR_ARGUMENT when there are none or when
// one is not float32 (master weights stay float32; bf16 is only the autocast compute dtype).
std::vector<NamedParam> trainable_parameters(const torch::nn::Module& module);

// Sets every parameter's .grad to undefined (frees the buffers between steps).
void zero_grads(const std::vector<NamedParam>& params);

}  // namespace da::train
