// Reading optional fields of an options object passed from JS.
#pragma once
#include <ATen/core/Tensor.h>
#include <napi.h>

#include <optional>
#include <string>

namespace da::bind {

Napi::Object get_object(const Napi::Value& v, const std::string& what);
bool has_field(const Napi::Object& o, const char* key);  // present and not undefined/null
at::Tensor field_tensor(const Napi::Object& o, const char* key, bool required = true);
std::optional<double> field_number(const Napi::Object& o, const char* key);
std::optional<int64_t> field_int(const Napi::Object& o, const char* key, int64_t min, int64_t max);
std::optional<bool> field_bool(const Napi::Object& o, const char* key);
std::optional<std::string> field_string(const Napi::Object& o, const char* key);

}  // namespace da::bind
