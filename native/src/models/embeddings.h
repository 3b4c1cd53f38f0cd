// Timestep embeddings as diffusers' embeddings.py: the sinusoidal Timesteps projection (always
// computed in float32, whatever the model dtype) and TimestepEmbedding (linear_1 -> SiLU -> linear_2).
#pragma once
#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

namespace da::models {

// timesteps: [N] (any numeric dtype). Returns float32 [N, dim]:
// freq_i = exp(-ln(max_period) * i / (half - shift)), emb = t * freq, [sin, cos] (or [cos, sin]
// with flip_sin_to_cos), zero-padded when dim is odd.
at::Tensor timestep_embedding(const at::Tensor& timesteps, int64_t dim, bool flip_sin_to_cos,
                              double downscale_freq_shift, double scale = 1.0, double max_period = 10000.0);

class TimestepEmbeddingImpl : public torch::nn::Module {
 public:
  TimestepEmbeddingImpl(int64_t in_channels, int64_t time_embed_dim);
  at::Tensor forward(const at::Tensor& x);
  torch::nn::Linear linear_1{nullptr}, linear_2{nullptr};
};
TORCH_MODULE(TimestepEmbedding);

}  // namespace da::models
