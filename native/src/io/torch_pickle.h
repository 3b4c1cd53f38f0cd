// PyTorch checkpoint files (`torch.save`: .pth / .bin / .pt) as state dicts. The zip container
// (PyTorch >= 1.6) is opened with libtorch's PyTorchStreamReader; the legacy container (before
// 1.6, e.g. torchvision's 2017 vgg16-397923af.pth) is read record by record. The pickles are read
// by a restricted unpickler (state_dict_unpickler.h) because libtorch's jit Unpickler cannot read
// `torch.save(model.state_dict())` (OrderedDict, _metadata, v1 tensors). Written with libtorch's
// pickle_save (tests build inputs with it). Tensor work only: which keys a model takes is decided
// above the boundary.
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
// wrapped as {"state_dict": ...} / {"model": ...} / {"module": ...}), zip or legacy container.
// ERR_IO when unreadable; ERR_UNSUPPORTED for the PyTorch 0.1 tar container (with how to re-save)
// and for pickles that are not state dicts; ERR_WEIGHTS when malformed or when no state dict is in it.
TorchStateDict read_torch_state_dict(const std::string& path);

// Writes a state dict as torch.save does (zip container, readable by torch.load), atomically;
// `wrapper` non-empty nests it under that key.
void write_torch_state_dict(const std::string& path, const NamedTensors& tensors, const std::string& wrapper = "");

}  // namespace da::io
