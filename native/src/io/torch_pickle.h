// PyTorch checkpoint files (`torch.save`: .pth / .bin / .pt) read with libtorch's own loader
// (torch::pickle_load: the zip container and its data.pkl through the jit Unpickler), and written
// the same way (tests build their inputs with it). Tensor work only: which keys a model takes is
// decided above the boundary.
#pragma once
#include <ATen/core/Tensor.h>

#include <string>
#include <vector>

#include "io/safetensors.h"

namespace da::io {

// The container a checkpoint file is in, from its first bytes.
enum class TorchFileFormat { kZip, kLegacy, kTar, kUnknown };
TorchFileFormat torch_file_format(const std::string& path);

struct TorchStateDict {
  // name -> tensor, in the pickle's order; CPU, contiguous, each with storage of its own (tied or
  // view tensors of one storage are copied apart, as safetensors needs).
  NamedTensors tensors;
  // Entries that are not tensors (e.g. an `epoch` integer beside the weights), by name.
  std::vector<std::string> skipped;
  // The wrapper key the state dict was found under ("state_dict", "model"), or "" at top level.
  std::string wrapper;
};

// Reads a torch.save'd state dict (a dict / collections.OrderedDict of name -> tensor, or one
// wrapped as {"state_dict": ...} / {"model": ...}). ERR_IO when unreadable; ERR_UNSUPPORTED for
// the pre-1.6 legacy and tar containers (with how to re-save); ERR_WEIGHTS when the pickle holds
// no state dict.
TorchStateDict read_torch_state_dict(const std::string& path);

// Writes a state dict as torch.save does (zip container, readable by torch.load), atomically;
// `wrapper` non-empty nests it under that key.
void write_torch_state_dict(const std::string& path, const NamedTensors& tensors, const std::string& wrapper = "");

}  // namespace da::io
