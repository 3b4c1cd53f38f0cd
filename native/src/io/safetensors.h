// safetensors: a validated reader with lazy per-tensor access (pread), and an atomic
// writer. Format: u64 little-endian header length, JSON header, then the raw data buffer.
#pragma once
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace da::io {

struct TensorEntry {
  std::string name;
  at::ScalarType dtype;
  std::vector<int64_t> shape;
  uint64_t begin = 0;  // offsets relative to the data buffer
  uint64_t end = 0;
};

class SafetensorsFile {
 public:
  // Opens and validates the file (ERR_SAFETENSORS on anything malformed, ERR_IO when unreadable).
  static std::shared_ptr<SafetensorsFile> open(const std::string& path);
  ~SafetensorsFile();
  SafetensorsFile(const SafetensorsFile&) = delete;
  SafetensorsFile& operator=(const SafetensorsFile&) = delete;

  const std::string& path() const { return path_; }
  // Entries in file order of their data offsets.
  const std::vector<TensorEntry>& entries() const { return entries_; }
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  bool has(const std::string& name) const { return index_.count(name) != 0; }
  const TensorEntry& entry(const std::string& name) const;  // ERR_SAFETENSORS if absent

  // Reads one tensor into a fresh CPU tensor (only its bytes are read).
  at::Tensor load(const std::string& name) const;

 private:
  SafetensorsFile() = default;
  // Exactly `bytes` at `offset` into `dst`; ERR_SAFETENSORS if the file ends first, naming `what`.
  void read_at(uint64_t offset, uint8_t* dst, size_t bytes, const std::string& what) const;
  std::string path_;
  int fd_ = -1;
  size_t data_offset_ = 0;
  std::vector<TensorEntry> entries_;
  std::map<std::string, size_t> index_;
  std::map<std::string, std::string> metadata_;
};

using NamedTensors = std::vector<std::pair<std::string, at::Tensor>>;

// Writes tensors (any device; copied to CPU contiguous) atomically: temp file in the same folder,
// fsync, rename. Names must be unique and non-empty. Supported: F32 F16 BF16 F64 I64 I32 I16 I8 U8 BOOL.
void write_safetensors(const std::string& path, const NamedTensors& tensors,
                       const std::map<std::string, std::string>& metadata = {});

// dtype string <-> ScalarType ("F32" ...). Throws ERR_SAFETENSORS on unknown names.
at::ScalarType dtype_from_string(const std::string& s);
std::string dtype_to_string(at::ScalarType t);
size_t dtype_size(at::ScalarType t);

}  // namespace da::io
