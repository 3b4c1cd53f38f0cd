#include "bind/args.h"

#include <ATen/Context.h>
#include <ATen/detail/CUDAHooksInterface.h>
#include <c10/core/ScalarType.h>
#include <unistd.h>

#include <cmath>

#include "core/error.h"

namespace da::bind {
namespace {
[[noreturn]] void arg(const std::string& m) { fail(code::kArgument, m); }
}  // namespace

std::string get_string(const Napi::Value& v, const std::string& what) {
  if (!v.IsString()) arg(what + " must be a string");
  return v.As<Napi::String>().Utf8Value();
}

double get_number(const Napi::Value& v, const std::string& what) {
  if (!v.IsNumber()) arg(what + " must be a number");
  double d = v.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d)) arg(what + " must be finite, got " + std::to_string(d));
  return d;
}

int64_t get_int(const Napi::Value& v, const std::string& what, int64_t min, int64_t max) {
  double d = get_number(v, what);
  if (std::floor(d) != d) arg(what + " must be an integer, got " + std::to_string(d));
  if (d < static_cast<double>(min) || d > static_cast<double>(max))
    arg(what + " must be in [" + std::to_string(min) + ", " + std::to_string(max) + "], got " + std::to_string(static_cast<long long>(d)));
  return static_cast<int64_t>(d);
}

bool get_bool(const Napi::Value& v, const std::string& what) {
  if (!v.IsBoolean()) arg(what + " must be a boolean");
  return v.As<Napi::Boolean>().Value();
}

std::vector<int64_t> get_shape(const Napi::Value& v, const std::string& what) {
  if (!v.IsArray()) arg(what + " must be an array of non-negative integers");
  Napi::Array a = v.As<Napi::Array>();
  if (a.Length() > 8) arg(what + " has rank " + std::to_string(a.Length()) + "; at most 8 dims are supported");
  std::vector<int64_t> shape;
  double numel = 1;
  for (uint32_t i = 0; i < a.Length(); ++i) {
    int64_t d = get_int(a.Get(i), what + "[" + std::to_string(i) + "]", 0, int64_t{1} << 40);
    shape.push_back(d);
    numel *= static_cast<double>(d);
  }
  if (numel > 9.0e15) arg(what + " describes too many elements");
  return shape;
}

at::ScalarType parse_dtype(const std::string& s) {
  if (s == "float32") return at::kFloat;
  if (s == "float16") return at::kHalf;
  if (s == "bfloat16") return at::kBFloat16;
  if (s == "float64") return at::kDouble;
  if (s == "int64") return at::kLong;
  if (s == "int32") return at::kInt;
  if (s == "uint8") return at::kByte;
  if (s == "bool") return at::kBool;
  fail(code::kDtype, "unknown dtype '" + s + "' (use float32, float16, bfloat16, float64, int64, int32, uint8 or bool)");
}

std::string dtype_name(at::ScalarType t) {
  switch (t) {
    case at::kFloat: return "float32";
    case at::kHalf: return "float16";
    case at::kBFloat16: return "bfloat16";
    case at::kDouble: return "float64";
    case at::kLong: return "int64";
    case at::kInt: return "int32";
    case at::kByte: return "uint8";
    case at::kBool: return "bool";
    case at::kShort: return "int16";
    case at::kChar: return "int8";
    default: return c10::toString(t);
  }
}

c10::Device parse_device(const std::string& s) {
  if (s == "cpu") return c10::Device(c10::kCPU);
  if (s == "cuda" || s.rfind("cuda:", 0) == 0) {
    if (!at::hasCUDA())
      fail(code::kDevice, "device '" + s + "' requested but this libtorch has no CUDA (or no GPU is visible). "
                          "Use device 'cpu', or build against a CUDA libtorch (LIBTORCH=...).");
    int index = 0;
    if (s.size() > 5) {
      const std::string n = s.substr(5);
      if (n.empty() || n.size() > 3 || n.find_first_not_of("0123456789") != std::string::npos)
        fail(code::kDevice, "bad device '" + s + "' (use cpu, cuda or cuda:N)");
      index = std::stoi(n);
    }
    int count = static_cast<int>(at::detail::getCUDAHooks().deviceCount());
    if (index >= count) fail(code::kDevice, "device '" + s + "' does not exist (" + std::to_string(count) + " CUDA devices)");
    return c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(index));
  }
  fail(code::kDevice, "bad device '" + s + "' (use cpu, cuda or cuda:N)");
}

void check_allocation(const std::vector<int64_t>& shape, at::ScalarType dtype, const c10::Device& device) {
  double bytes = static_cast<double>(c10::elementSize(dtype));
  for (auto d : shape) bytes *= static_cast<double>(d);
  if (device.is_cpu()) {
    double phys = static_cast<double>(sysconf(_SC_PHYS_PAGES)) * static_cast<double>(sysconf(_SC_PAGESIZE));
    if (bytes > phys * 0.75)
      fail(code::kOom, "a tensor of " + std::to_string(static_cast<long long>(bytes / (1 << 20))) +
                           " MiB does not fit in this machine's memory (" + std::to_string(static_cast<long long>(phys / (1 << 20))) + " MiB)");
  }
}

}  // namespace da::bind
