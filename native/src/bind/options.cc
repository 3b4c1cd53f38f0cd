#include "bind/options.h"

#include "bind/args.h"
#include "bind/tensor_handle.h"
#include "core/error.h"

namespace da::bind {

Napi::Object get_object(const Napi::Value& v, const std::string& what) {
  if (!v.IsObject()) fail(code::kArgument, what + " must be an object");
  return v.As<Napi::Object>();
}

bool has_field(const Napi::Object& o, const char* key) {
  if (!o.Has(key)) return false;
  Napi::Value v = o.Get(key);
  return !v.IsUndefined() && !v.IsNull();
}

at::Tensor field_tensor(const Napi::Object& o, const char* key, bool required) {
  if (!has_field(o, key)) {
    if (required) fail(code::kArgument, std::string(key) + " is required");
    return at::Tensor();
  }
  return TensorHandle::FromValue(o.Get(key), key);
}

std::optional<double> field_number(const Napi::Object& o, const char* key) {
  if (!has_field(o, key)) return std::nullopt;
  return get_number(o.Get(key), key);
}

std::optional<int64_t> field_int(const Napi::Object& o, const char* key, int64_t min, int64_t max) {
  if (!has_field(o, key)) return std::nullopt;
  return get_int(o.Get(key), key, min, max);
}

std::optional<bool> field_bool(const Napi::Object& o, const char* key) {
  if (!has_field(o, key)) return std::nullopt;
  return get_bool(o.Get(key), key);
}

std::optional<std::string> field_string(const Napi::Object& o, const char* key) {
  if (!has_field(o, key)) return std::nullopt;
  return get_string(o.Get(key), key);
}

}  // namespace da::bind
