// Argument checks for entry points: every value from JS is validated before it reaches libtorch.
#pragma once
#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>
#include <napi.h>

#include <string>
#include <vector>

namespace da::bind {

std::string get_string(const Napi::Value& v, const std::string& what);
// Finite integer in [min, max].
int64_t get_int(const Napi::Value& v, const std::string& what, int64_t min, int64_t max);
double get_number(const Napi::Value& v, const std::string& what);
bool get_bool(const Napi::Value& v, const std::string& what);
// An array of non-negative integer dims (rank <= 8), element count bounded.
std::vector<int64_t> get_shape(const Napi::Value& v, const std::string& what);
at::ScalarType parse_dtype(const std::string& s);
std::string dtype_name(at::ScalarType t);
c10::Device parse_device(const std::string& s);  // "cpu", "cuda", "cuda:N"; checks availability
// Rejects allocations larger than the machine could hold (before libtorch tries).
void check_allocation(const std::vector<int64_t>& shape, at::ScalarType dtype, const c10::Device& device);

}  // namespace da::bind
