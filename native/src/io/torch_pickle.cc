#include "io/torch_pickle.h"

#include <ATen/ATen.h>
#include <caffe2/serialize/inline_container.h>
#include <torch/csrc/jit/serialization/pickle.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <random>
#include <set>

#include "core/error.h"
#include "io/state_dict_unpickler.h"

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

using Kind = PickleValue::Kind;

bool is_tensor_dict(const PickleRef& v) {
  if (v->kind != Kind::kDict) return false;
  for (const auto& [k, x] : v->dict) {
    if (k->kind == Kind::kString && x->kind == Kind::kTensor) return true;
  }
  return false;
}

// Storages by key: allocated when the pickle names them, filled from the container afterwards
// (tensors are views of them).
class Storages {
 public:
  at::Tensor get(const std::string& key, at::ScalarType dtype, int64_t numel) {
    auto it = by_key_.find(key);
    if (it != by_key_.end()) {
      if (it->second.scalar_type() != dtype || it->second.numel() != numel) fail(code::kWeights, "storage '" + key + "' is named with two types or sizes");
      return it->second;
    }
    at::Tensor t = at::empty({numel}, at::TensorOptions().dtype(dtype));
    by_key_.emplace(key, t);
    return t;
  }
  const std::map<std::string, at::Tensor>& all() const { return by_key_; }
  at::Tensor* find(const std::string& key) {
    auto it = by_key_.find(key);
    return it == by_key_.end() ? nullptr : &it->second;
  }

 private:
  std::map<std::string, at::Tensor> by_key_;
};

size_t nbytes(const at::Tensor& t) { return static_cast<size_t>(t.numel()) * t.element_size(); }

// Zip container (torch.save since 1.6): data.pkl, then each storage from data/<key>.
PickleRef read_zip(const std::string& path, Storages& storages) {
  try {
    caffe2::serialize::PyTorchStreamReader reader(path);
    if (reader.hasRecord("byteorder")) {
      auto [p, n] = reader.getRecord("byteorder");
      const std::string order(static_cast<const char*>(p.get()), n);
      if (order != "little") fail(code::kUnsupported, "'" + path + "' was written on a big-endian machine (byteorder '" + order + "')");
    }
    auto [pkl, size] = reader.getRecord("data.pkl");
    size_t pos = 0;
    PickleRef root = unpickle_state_dict(static_cast<const char*>(pkl.get()), size, &pos,
                                         [&](const std::string& k, at::ScalarType d, int64_t n) { return storages.get(k, d, n); });
    for (const auto& [key, t] : storages.all()) {
      if (t.numel() == 0) continue;
      const std::string record = "data/" + key;
      if (!reader.hasRecord(record)) fail(code::kWeights, "'" + path + "' names storage " + key + " but has no " + record);
      auto [data, n] = reader.getRecord(record);
      if (n != nbytes(t)) fail(code::kWeights, "'" + path + "': " + record + " holds " + std::to_string(n) + " bytes, its tensor needs " + std::to_string(nbytes(t)));
      std::memcpy(t.data_ptr(), data.get(), n);
    }
    return root;
  } catch (const c10::Error& e) {
    fail(code::kWeights, "'" + path + "' is not a readable torch.save zip archive: " + std::string(e.what_without_backtrace()));
  }
}

// Legacy container (torch.save before 1.6): pickles of the magic number, the protocol version
// (1001) and the system info, the object, the sorted storage keys; then each storage in that
// order as an int64 element count and its raw little-endian bytes.
PickleRef read_legacy(const std::string& path, Storages& storages) {
  const std::vector<char> data = read_all(path);
  size_t pos = 0;
  const StorageProvider none = [&](const std::string&, at::ScalarType, int64_t) -> at::Tensor {
    fail(code::kWeights, "'" + path + "': a storage inside the file's header");
  };
  unpickle_state_dict(data.data(), data.size(), &pos, none);  // magic number (checked by the format probe)
  PickleRef version = unpickle_state_dict(data.data(), data.size(), &pos, none);
  if (version->kind != Kind::kInt || version->i != 1001) fail(code::kUnsupported, "'" + path + "': legacy protocol version " + std::to_string(version->i) + " (1001 is read)");
  PickleRef sys = unpickle_state_dict(data.data(), data.size(), &pos, none);
  for (const auto& [k, v] : sys->dict) {
    if (k->s == "little_endian" && v->kind == Kind::kBool && !v->i) fail(code::kUnsupported, "'" + path + "' was written on a big-endian machine");
  }
  PickleRef root = unpickle_state_dict(data.data(), data.size(), &pos, [&](const std::string& k, at::ScalarType d, int64_t n) { return storages.get(k, d, n); });
  PickleRef keys = unpickle_state_dict(data.data(), data.size(), &pos, none);
  if (keys->kind != Kind::kList) fail(code::kWeights, "'" + path + "': the storage key list is missing");
  for (const auto& key : keys->items) {
    at::Tensor* t = storages.find(key->s);
    if (!t) fail(code::kWeights, "'" + path + "': storage " + key->s + " is stored but never used");
    if (pos + 8 > data.size()) fail(code::kWeights, "'" + path + "' ends before storage " + key->s);
    int64_t count = 0;
    std::memcpy(&count, data.data() + pos, 8);  // little-endian (checked above)
    pos += 8;
    if (count != t->numel()) fail(code::kWeights, "'" + path + "': storage " + key->s + " holds " + std::to_string(count) + " elements, its tensors need " + std::to_string(t->numel()));
    if (nbytes(*t) > data.size() - pos) fail(code::kWeights, "'" + path + "' ends inside storage " + key->s + ": the file is truncated");
    std::memcpy(t->data_ptr(), data.data() + pos, nbytes(*t));
    pos += nbytes(*t);
  }
  if (storages.all().size() != keys->items.size()) fail(code::kWeights, "'" + path + "': a tensor's storage is missing from the file");
  return root;
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
  Storages storages;
  PickleRef root;
  switch (torch_file_format(path)) {
    case TorchFileFormat::kZip:
      root = read_zip(path, storages);
      break;
    case TorchFileFormat::kLegacy:
      root = read_legacy(path, storages);
      break;
    case TorchFileFormat::kTar:
      fail(code::kUnsupported, "'" + path + "' is a tar-format torch.save file (PyTorch 0.1), which is not read." + resave_hint(path));
    case TorchFileFormat::kUnknown:
      fail(code::kUnsupported, "'" + path + "' is not a torch.save file (neither the zip container nor the legacy one): expected a .pth / .bin / .pt written by torch.save");
  }
  TorchStateDict out;
  PickleRef dict = root;
  if (!is_tensor_dict(root) && root->kind == Kind::kDict) {
    for (const char* key : {"state_dict", "model", "module"}) {
      for (const auto& [k, v] : root->dict) {
        if (k->kind == Kind::kString && k->s == key && is_tensor_dict(v)) {
          dict = v;
          out.wrapper = key;
          break;
        }
      }
      if (!out.wrapper.empty()) break;
    }
  }
  if (!is_tensor_dict(dict)) {
    fail(code::kWeights, "'" + path + "' holds no state dict (a dict of name -> tensor, optionally under 'state_dict', 'model' or 'module')");
  }
  std::set<std::string> seen;
  for (const auto& [k, v] : dict->dict) {
    const std::string name = k->kind == Kind::kString ? k->s : "<non-string key>";
    if (k->kind != Kind::kString || v->kind != Kind::kTensor) {
      out.skipped.push_back(name);
      continue;
    }
    if (!seen.insert(name).second) fail(code::kWeights, "'" + path + "' holds '" + name + "' twice");
    out.tensors.emplace_back(name, v->tensor.contiguous());
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
