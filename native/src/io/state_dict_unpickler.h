// A restricted unpickler for torch.save'd state dicts. libtorch's jit Unpickler cannot read what
// Python's `torch.save(model.state_dict())` writes: it turns `collections.OrderedDict` into None
// (so SETITEMS fails), treats BUILD (the OrderedDict's `_metadata` attribute) as a call, and knows
// only `_rebuild_tensor_v2`, not the v1 `_rebuild_tensor` of pre-0.4 files. This one understands
// exactly the pickle opcodes (protocols 0-4) and globals a state dict uses, and nothing else runs:
// any other class becomes an opaque value that is reported, never constructed.
#pragma once
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace da::io {

struct PickleValue;
using PickleRef = std::shared_ptr<PickleValue>;

struct PickleValue {
  enum class Kind { kNone, kBool, kInt, kFloat, kString, kBytes, kTuple, kList, kDict, kGlobal, kTensor, kOpaque };
  Kind kind = Kind::kNone;
  int64_t i = 0;  // kBool, kInt
  double f = 0;
  std::string s;  // kString, kBytes; kGlobal: "module.name"; kOpaque: the class that made it
  std::vector<PickleRef> items;  // kTuple, kList
  std::vector<std::pair<PickleRef, PickleRef>> dict;  // kDict, in insertion order
  at::Tensor tensor;  // kTensor (a storage is a 1-D tensor of its dtype)
};

// A storage named by a persistent id: ('storage', <dtype class>, key, location, numel[, view]).
// Returns the 1-D tensor of `numel` elements that will hold its data (filled by the caller, before
// or after unpickling: tensors are views of it).
using StorageProvider = std::function<at::Tensor(const std::string& key, at::ScalarType dtype, int64_t numel)>;

// Unpickles one pickle starting at `data[*pos]`, leaving `*pos` just past its STOP.
// ERR_WEIGHTS on malformed input, ERR_UNSUPPORTED on opcodes a state dict never uses.
PickleRef unpickle_state_dict(const char* data, size_t size, size_t* pos, const StorageProvider& storage);

}  // namespace da::io
