#include "io/safetensors.h"

#include <ATen/ATen.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <random>
#include <set>

#include "core/error.h"
#include "core/json.h"

namespace da::io {
namespace {

// The reference implementation caps headers at 100 MB; a header past that is an attack or a bug.
constexpr uint64_t kMaxHeaderBytes = 100ull * 1024 * 1024;
constexpr size_t kMaxRank = 16;

[[noreturn]] void bad(const std::string& path, const std::string& what) {
  fail(code::kSafetensors, "invalid safetensors file '" + path + "': " + what);
}

std::string shape_str(const std::vector<int64_t>& s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + "]";
}

}  // namespace

at::ScalarType dtype_from_string(const std::string& s) {
  if (s == "F32") return at::kFloat;
  if (s == "F16") return at::kHalf;
  if (s == "BF16") return at::kBFloat16;
  if (s == "F64") return at::kDouble;
  if (s == "I64") return at::kLong;
  if (s == "I32") return at::kInt;
  if (s == "I16") return at::kShort;
  if (s == "I8") return at::kChar;
  if (s == "U8") return at::kByte;
  if (s == "BOOL") return at::kBool;
  fail(code::kSafetensors, "unsupported safetensors dtype \"" + s +
                               "\" (supported: F64 F32 F16 BF16 I64 I32 I16 I8 U8 BOOL)");
}

std::string dtype_to_string(at::ScalarType t) {
  switch (t) {
    case at::kFloat: return "F32";
    case at::kHalf: return "F16";
    case at::kBFloat16: return "BF16";
    case at::kDouble: return "F64";
    case at::kLong: return "I64";
    case at::kInt: return "I32";
    case at::kShort: return "I16";
    case at::kChar: return "I8";
    case at::kByte: return "U8";
    case at::kBool: return "BOOL";
    default: fail(code::kDtype, std::string("dtype ") + c10::toString(t) + " cannot be stored in safetensors here");
  }
}

size_t dtype_size(at::ScalarType t) { return c10::elementSize(t); }

std::shared_ptr<SafetensorsFile> SafetensorsFile::open(const std::string& path) {
  std::shared_ptr<SafetensorsFile> f(new SafetensorsFile());
  f->path_ = path;
  // O_NONBLOCK: opening a FIFO would otherwise block here (and hold the compute thread) before
  // the regular-file check below; it changes nothing for a regular file.
  f->fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (f->fd_ < 0) fail(code::kIo, "cannot open '" + path + "': " + std::strerror(errno));
  struct stat st {};
  if (fstat(f->fd_, &st) != 0) fail(code::kIo, "cannot stat '" + path + "': " + std::strerror(errno));
  if (!S_ISREG(st.st_mode)) fail(code::kIo, "'" + path + "' is not a regular file");
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  if (size < 8) bad(path, "file is " + std::to_string(size) + " bytes, shorter than the 8-byte header length");
  uint8_t len[8];
  f->read_at(0, len, 8, "the header length");
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | len[i];  // little endian
  if (n > kMaxHeaderBytes) bad(path, "header length " + std::to_string(n) + " exceeds the 100 MB limit");
  if (n > size - 8) bad(path, "header length " + std::to_string(n) + " runs past the end of the file (" + std::to_string(size) + " bytes)");
  if (n < 2) bad(path, "header is too short to be a JSON object");
  f->data_offset_ = 8 + n;
  const uint64_t data_size = size - f->data_offset_;

  std::string header_bytes(n, '\0');
  f->read_at(8, reinterpret_cast<uint8_t*>(header_bytes.data()), n, "the header");
  json::Value root = json::parse(header_bytes, code::kSafetensors);
  if (!root.is_object()) bad(path, "header is not a JSON object");

  for (const auto& [name, v] : root.as_object()) {
    if (name == "__metadata__") {
      if (!v.is_object()) bad(path, "__metadata__ must be an object of strings");
      for (const auto& [k, mv] : v.as_object()) {
        if (!mv.is_string()) bad(path, "__metadata__." + k + " must be a string");
        f->metadata_[k] = mv.as_string();
      }
      continue;
    }
    if (name.empty()) bad(path, "empty tensor name");
    if (!v.is_object()) bad(path, "entry '" + name + "' is not an object");
    const json::Value* dt = v.find("dtype");
    const json::Value* sh = v.find("shape");
    const json::Value* off = v.find("data_offsets");
    if (!dt || !sh || !off) bad(path, "entry '" + name + "' needs dtype, shape and data_offsets");
    for (const auto& [k, _] : v.as_object())
      if (k != "dtype" && k != "shape" && k != "data_offsets") bad(path, "entry '" + name + "' has an unknown field '" + k + "'");
    if (!dt->is_string()) bad(path, "entry '" + name + "': dtype must be a string");
    TensorEntry e;
    e.name = name;
    e.dtype = dtype_from_string(dt->as_string());
    if (!sh->is_array() || sh->as_array().size() > kMaxRank) bad(path, "entry '" + name + "': shape must be an array of at most 16 dims");
    // Element count with overflow checks: a giant shape must not wrap around to a small size.
    unsigned __int128 numel = 1;
    for (const auto& d : sh->as_array()) {
      if (!d.is_number()) bad(path, "entry '" + name + "': shape entries must be integers");
      int64_t dim;
      try {
        dim = d.as_int();
      } catch (const Error&) {
        bad(path, "entry '" + name + "': shape entries must be integers");
      }
      if (dim < 0) bad(path, "entry '" + name + "': negative dimension " + std::to_string(dim));
      e.shape.push_back(dim);
      numel *= static_cast<uint64_t>(dim);
      if (numel > (static_cast<unsigned __int128>(1) << 62)) bad(path, "entry '" + name + "': shape " + shape_str(e.shape) + " is too large");
    }
    if (!off->is_array() || off->as_array().size() != 2) bad(path, "entry '" + name + "': data_offsets must be [begin, end]");
    try {
      e.begin = off->as_array()[0].as_uint();
      e.end = off->as_array()[1].as_uint();
    } catch (const Error&) {
      bad(path, "entry '" + name + "': data_offsets must be non-negative integers");
    }
    if (e.begin > e.end) bad(path, "entry '" + name + "': begin offset " + std::to_string(e.begin) + " > end " + std::to_string(e.end));
    if (e.end > data_size) bad(path, "entry '" + name + "': end offset " + std::to_string(e.end) + " is past the data (" + std::to_string(data_size) + " bytes)");
    unsigned __int128 bytes = numel * dtype_size(e.dtype);
    if (bytes != e.end - e.begin)
      bad(path, "entry '" + name + "': " + std::to_string(e.end - e.begin) + " bytes for shape " + shape_str(e.shape) + " of " +
                    dt->as_string() + " (expected " + std::to_string(static_cast<uint64_t>(bytes)) + ")");
    f->entries_.push_back(std::move(e));
  }
  std::sort(f->entries_.begin(), f->entries_.end(), [](const TensorEntry& a, const TensorEntry& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  uint64_t prev_end = 0;
  std::string prev_name;
  for (size_t i = 0; i < f->entries_.size(); ++i) {
    const auto& e = f->entries_[i];
    // Zero-size tensors may share an offset; anything with bytes must not overlap.
    if (e.begin < prev_end && e.end != e.begin) bad(path, "entries '" + prev_name + "' and '" + e.name + "' overlap");
    if (e.end > prev_end) {
      prev_end = e.end;
      prev_name = e.name;
    }
    f->index_[e.name] = i;
  }
  return f;
}

SafetensorsFile::~SafetensorsFile() {
  if (fd_ >= 0) ::close(fd_);
}

// pread, not a memory mapping: a file truncated after it was opened is then an error, not SIGBUS.
void SafetensorsFile::read_at(uint64_t offset, uint8_t* dst, size_t bytes, const std::string& what) const {
  size_t done = 0;
  while (done < bytes) {
    const ssize_t r = ::pread(fd_, dst + done, bytes - done, static_cast<off_t>(offset + done));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) fail(code::kIo, "cannot read " + what + " from '" + path_ + "': " + std::strerror(errno));
    if (r == 0) bad(path_, "the file ended inside " + what + " (was it truncated or replaced after it was opened?)");
    done += static_cast<size_t>(r);
  }
}

const TensorEntry& SafetensorsFile::entry(const std::string& name) const {
  auto it = index_.find(name);
  if (it == index_.end()) fail(code::kSafetensors, "tensor '" + name + "' is not in '" + path_ + "'");
  return entries_[it->second];
}

at::Tensor SafetensorsFile::load(const std::string& name) const {
  const TensorEntry& e = entry(name);
  at::Tensor t = at::empty(e.shape, at::TensorOptions().dtype(e.dtype));
  const size_t bytes = e.end - e.begin;
  if (bytes) read_at(data_offset_ + e.begin, static_cast<uint8_t*>(t.data_ptr()), bytes, "tensor '" + name + "'");
  return t;
}

void write_safetensors(const std::string& path, const NamedTensors& tensors,
                       const std::map<std::string, std::string>& metadata) {
  std::vector<at::Tensor> cpu;
  cpu.reserve(tensors.size());
  std::set<std::string> names;
  std::string header = "{";
  bool first = true;
  if (!metadata.empty()) {
    header += "\"__metadata__\":{";
    bool f2 = true;
    for (const auto& [k, v] : metadata) {
      header += (f2 ? "" : ",") + json::quote(k) + ":" + json::quote(v);
      f2 = false;
    }
    header += "}";
    first = false;
  }
  uint64_t offset = 0;
  for (const auto& [name, t] : tensors) {
    if (name.empty() || name == "__metadata__") fail(code::kArgument, "invalid tensor name '" + name + "'");
    if (!names.insert(name).second) fail(code::kArgument, "duplicate tensor name '" + name + "'");
    if (!t.defined()) fail(code::kArgument, "tensor '" + name + "' is undefined");
    std::string dt = dtype_to_string(t.scalar_type());
    at::Tensor c = t.detach().to(at::kCPU).contiguous();
    uint64_t bytes = static_cast<uint64_t>(c.numel()) * c.element_size();
    header += (first ? "" : ",") + json::quote(name) + ":{\"dtype\":\"" + dt + "\",\"shape\":[";
    for (int64_t i = 0; i < c.dim(); ++i) header += (i ? "," : "") + std::to_string(c.size(i));
    header += "],\"data_offsets\":[" + std::to_string(offset) + "," + std::to_string(offset + bytes) + "]}";
    offset += bytes;
    first = false;
    cpu.push_back(std::move(c));
  }
  header += "}";
  while ((8 + header.size()) % 8 != 0) header += ' ';  // align the data buffer like the reference writer

  static std::atomic<uint64_t> counter{0};
  std::string tmp = path + ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) fail(code::kIo, "cannot create '" + tmp + "': " + std::strerror(errno));
  auto write_all = [&](const void* p, size_t n) {
    const char* c = static_cast<const char*>(p);
    while (n) {
      ssize_t w = ::write(fd, c, n);
      if (w < 0) {
        if (errno == EINTR) continue;
        int err = errno;
        ::close(fd);
        ::unlink(tmp.c_str());
        fail(code::kIo, "cannot write '" + path + "': " + std::strerror(err));
      }
      c += w;
      n -= static_cast<size_t>(w);
    }
  };
  uint8_t len[8];
  uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) len[i] = static_cast<uint8_t>(n >> (8 * i));
  write_all(len, 8);
  write_all(header.data(), header.size());
  for (const auto& c : cpu)
    if (c.numel()) write_all(c.data_ptr(), static_cast<size_t>(c.numel()) * c.element_size());
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    ::unlink(tmp.c_str());
    fail(code::kIo, "cannot flush '" + path + "': " + std::strerror(errno));
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    fail(code::kIo, "cannot rename into '" + path + "': " + std::strerror(err));
  }
}

}  // namespace da::io
