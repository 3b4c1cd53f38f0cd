#include "io/torch_pickle.h"

#include <ATen/ATen.h>
#include <torch/csrc/jit/serialization/pickle.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <random>

#include "core/error.h"

namespace da::io {
namespace {

std::vector<char> read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(code::kIo, "cannot open '" + path + "'");
  std::vector<char> data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) fail(code::kIo, "cannot read '" + path + "'");
  return data;
}

// torch.save before 1.6 (`_use_new_zipfile_serialization=False`, and every file of 2017-2019):
// pickle protocol 2 opening with the LONG1 magic number 0x1950a86a20f9469cfc6c.
constexpr unsigned char kLegacyMagic[] = {0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19};

std::string resave_hint(const std::string& path) {
  return " Re-save it once in the current format with PyTorch (any version >= 1.6): python -c \"import torch; "
         "torch.save(torch.load('" + path + "', map_location='cpu', weights_only=True), 'resaved.pth')\", then convert resaved.pth; "
         "or take the weights as safetensors (doc-anon models pull vgg16-lpips).";
}

bool is_tensor_dict(const c10::IValue& v) {
  if (!v.isGenericDict()) return false;
  for (const auto& e : v.toGenericDict()) {
    if (e.key().isString() && e.value().isTensor()) return true;
  }
  return false;
}

}  // namespace

TorchFileFormat torch_file_format(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(code::kIo, "cannot open '" + path + "'");
  unsigned char head[512] = {0};
  in.read(reinterpret_cast<char*>(head), sizeof(head));
  const auto n = static_cast<size_t>(in.gcount());
  if (n >= 4 && std::memcmp(head, "PK\x03\x04", 4) == 0) return TorchFileFormat::kZip;
  if (n >= sizeof(kLegacyMagic) && std::memcmp(head, kLegacyMagic, sizeof(kLegacyMagic)) == 0) return TorchFileFormat::kLegacy;
  if (n >= 262 && std::memcmp(head + 257, "ustar", 5) == 0) return TorchFileFormat::kTar;
  return TorchFileFormat::kUnknown;
}

TorchStateDict read_torch_state_dict(const std::string& path) {
  switch (torch_file_format(path)) {
    case TorchFileFormat::kZip:
      break;
    case TorchFileFormat::kLegacy:
      fail(code::kUnsupported, "'" + path + "' is a legacy (pre-1.6, non-zip) torch.save file, which libtorch's loader does not read." + resave_hint(path));
    case TorchFileFormat::kTar:
      fail(code::kUnsupported, "'" + path + "' is a tar-format torch.save file (PyTorch 0.1), which libtorch's loader does not read." + resave_hint(path));
    case TorchFileFormat::kUnknown:
      fail(code::kUnsupported, "'" + path + "' is not a torch.save file (no zip container): expected a .pth / .bin / .pt written by torch.save");
  }
  c10::IValue root;
  try {
    root = torch::jit::pickle_load(read_all(path));
  } catch (const c10::Error& e) {
    // Custom classes in the pickle (a whole nn.Module, an optimizer object) end up here.
    fail(code::kUnsupported, "'" + path + "' could not be unpickled by libtorch (" + std::string(e.what_without_backtrace()) +
                                 "): only state dicts (name -> tensor, optionally under 'state_dict' / 'model') are read");
  }
  TorchStateDict out;
  c10::IValue dict = root;
  if (!is_tensor_dict(root) && root.isGenericDict()) {
    for (const char* key : {"state_dict", "model", "module"}) {
      auto d = root.toGenericDict();
      auto it = d.find(c10::IValue(std::string(key)));
      if (it != d.end() && is_tensor_dict(it->value())) {
        dict = it->value();
        out.wrapper = key;
        break;
      }
    }
  }
  if (!is_tensor_dict(dict)) {
    fail(code::kWeights, "'" + path + "' holds no state dict (a dict of name -> tensor, optionally under 'state_dict' or 'model'); found " +
                             root.tagKind());
  }
  for (const auto& e : dict.toGenericDict()) {
    const std::string name = e.key().isString() ? e.key().toStringRef() : e.key().tagKind();
    if (!e.key().isString() || !e.value().isTensor()) {
      out.skipped.push_back(name);
      continue;
    }
    at::Tensor t = e.value().toTensor().detach();
    if (!t.device().is_cpu()) t = t.cpu();
    out.tensors.emplace_back(name, t.contiguous());
  }
  return out;
}

void write_torch_state_dict(const std::string& path, const NamedTensors& tensors, const std::string& wrapper) {
  c10::Dict<std::string, at::Tensor> dict;
  for (const auto& [name, t] : tensors) {
    if (dict.contains(name)) fail(code::kArgument, "tensor name '" + name + "' appears twice");
    dict.insert(name, t.detach().cpu());
  }
  c10::IValue value(dict);
  if (!wrapper.empty()) {
    c10::impl::GenericDict outer(c10::StringType::get(), c10::AnyType::get());
    outer.insert(c10::IValue(wrapper), value);
    value = c10::IValue(outer);
  }
  const std::vector<char> bytes = torch::jit::pickle_save(value);
  const std::string tmp = path + ".tmp-" + std::to_string(std::random_device{}());
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) fail(code::kIo, "cannot write '" + tmp + "'");
    f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    f.flush();
    if (!f) {
      std::remove(tmp.c_str());
      fail(code::kIo, "cannot write '" + tmp + "'");
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    fail(code::kIo, "cannot rename '" + tmp + "' to '" + path + "'");
  }
}

}  // namespace da::io
