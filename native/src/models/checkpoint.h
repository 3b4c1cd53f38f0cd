// Gradient checkpointing (activation recomputation) for libtorch modules, like PyTorch's
// reentrant torch.utils.checkpoint: the forward runs without recording a graph, the backward runs
// it again with grad on and back-propagates through the recomputed graph (parameter gradients
// accumulate into .grad as usual).
// Limits, as with PyTorch's reentrant variant: at least one tensor input must require grad for
// the backward to run (true inside a trained UNet/VAE, where inputs come from trained layers), and
// the function must be deterministic (dropout > 0 would draw other masks on recompute).
#pragma once
#include <ATen/core/Tensor.h>

#include <functional>
#include <vector>

namespace da::models {

using CheckpointFn = std::function<at::Tensor(const std::vector<at::Tensor>&)>;

// fn must capture what it needs by value (it runs again during backward).
at::Tensor checkpoint(const CheckpointFn& fn, const std::vector<at::Tensor>& inputs);

// checkpoint() when `enabled` and grad mode is on, a plain call otherwise.
inline at::Tensor maybe_checkpoint(bool enabled, const CheckpointFn& fn, const std::vector<at::Tensor>& inputs);

}  // namespace da::models

#include <ATen/core/grad_mode.h>

namespace da::models {
inline at::Tensor maybe_checkpoint(bool enabled, const CheckpointFn& fn, const std::vector<at::Tensor>& inputs) {
  if (enabled && at::GradMode::is_enabled()) return checkpoint(fn, inputs);
  return fn(inputs);
}
}  // namespace da::models
