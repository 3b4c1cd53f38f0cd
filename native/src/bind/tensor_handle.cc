#include "bind/tensor_handle.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <cstring>

#include "bind/args.h"
#include "bind/options.h"
#include "bind/worker.h"
#include "bind/errors.h"
#include "core/error.h"

namespace da::bind {
namespace {

// Which typed array carries which dtype. 16-bit floats travel as their raw bits in Uint16Array.
napi_typedarray_type array_type_for(at::ScalarType t) {
  switch (t) {
    case at::kFloat: return napi_float32_array;
    case at::kDouble: return napi_float64_array;
    case at::kHalf:
    case at::kBFloat16: return napi_uint16_array;
    case at::kLong: return napi_bigint64_array;
    case at::kInt: return napi_int32_array;
    case at::kByte:
    case at::kBool: return napi_uint8_array;
    case at::kShort: return napi_int16_array;
    case at::kChar: return napi_int8_array;
    default: fail(code::kDtype, std::string("dtype ") + c10::toString(t) + " cannot be copied to JavaScript");
  }
}

const char* array_name(napi_typedarray_type t) {
  switch (t) {
    case napi_float32_array: return "Float32Array";
    case napi_float64_array: return "Float64Array";
    case napi_uint16_array: return "Uint16Array";
    case napi_bigint64_array: return "BigInt64Array";
    case napi_int32_array: return "Int32Array";
    case napi_uint8_array: return "Uint8Array";
    case napi_int16_array: return "Int16Array";
    case napi_int8_array: return "Int8Array";
    default: return "another typed array";
  }
}

}  // namespace

void TensorHandle::Init(Napi::Env env, Napi::Object exports) {
  Define(env,
         {
             StaticMethod("fromTypedArray", &TensorHandle::FromTypedArray),
             StaticMethod("zeros", &TensorHandle::Zeros),
             StaticMethod("randn", &TensorHandle::Randn),
             InstanceAccessor("shape", &TensorHandle::Shape, nullptr),
             InstanceAccessor("dtype", &TensorHandle::Dtype, nullptr),
             InstanceAccessor("device", &TensorHandle::Device, nullptr),
             InstanceAccessor("numel", &TensorHandle::Numel, nullptr),
             InstanceMethod("toTypedArray", &TensorHandle::ToTypedArray),
             InstanceMethod("toTypedArrayAsync", &TensorHandle::ToTypedArrayAsync),
             InstanceMethod("to", &TensorHandle::To),
         },
         &exports);
}

Napi::Object named_tensors_to_js(Napi::Env env, const NamedTensors& named) {
  Napi::Object o = Napi::Object::New(env);
  for (const auto& [k, t] : named)
    if (t.defined()) o.Set(k, TensorHandle::Wrap(env, t));
  return o;
}

Napi::Array tensors_to_js(Napi::Env env, const std::vector<at::Tensor>& tensors) {
  Napi::Array a = Napi::Array::New(env, tensors.size());
  for (size_t i = 0; i < tensors.size(); ++i) a.Set(static_cast<uint32_t>(i), TensorHandle::Wrap(env, tensors[i]));
  return a;
}

Napi::Value TensorHandle::FromTypedArray(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    if (!info[0].IsTypedArray()) fail(code::kArgument, "data must be a typed array");
    // Shape and dtype first: reading them can run JS (getters) that detaches or shrinks the data's
    // buffer, so the data's length and address are read after, with no JS in between.
    Options o(info[1], "options");
    std::vector<int64_t> shape = o.shape("shape");
    at::ScalarType dtype = parse_dtype(o.string("dtype").value_or(""));
    o.finish();
    napi_typedarray_type type;
    size_t length = 0;
    void* data = nullptr;
    // (napi_get_typedarray_info also reads SharedArrayBuffer-backed arrays; its `data` includes the offset.)
    if (napi_get_typedarray_info(env, info[0], &type, &length, &data, nullptr, nullptr) != napi_ok)
      fail(code::kArgument, "data must be a typed array");
    napi_typedarray_type want = array_type_for(dtype);
    if (type != want)
      fail(code::kDtype, std::string("dtype ") + dtype_name(dtype) + " needs a " + array_name(want) + ", got a " + array_name(type));
    int64_t numel = 1;
    for (auto d : shape) numel *= d;
    if (static_cast<int64_t>(length) != numel)
      fail(code::kShape, "data has " + std::to_string(length) + " elements but shape needs " + std::to_string(numel));
    if (numel && data == nullptr) fail(code::kArgument, "data's buffer was detached");
    at::Tensor t = at::empty(shape, at::TensorOptions().dtype(dtype));
    if (numel) std::memcpy(t.data_ptr(), data, static_cast<size_t>(numel) * t.element_size());
    if (dtype == at::kBool) t = t.ne(0);  // canonicalise non-0/1 bytes
    return Wrap(env, std::move(t));
  });
}

Napi::Value TensorHandle::Zeros(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    Options o(info[0], "options");
    std::vector<int64_t> shape = o.shape("shape");
    at::ScalarType dtype = o.dtype("dtype", at::kFloat);
    c10::Device device = o.device("device", c10::Device(c10::kCPU));
    o.finish();
    check_allocation(shape, dtype, device);
    return Wrap(env, at::zeros(shape, at::TensorOptions().dtype(dtype).device(device)));
  });
}

Napi::Value TensorHandle::Randn(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    Options o(info[0], "options");
    std::vector<int64_t> shape = o.shape("shape");
    auto seed = o.seed("seed");
    if (!seed) fail(code::kArgument, "options.seed is required");
    at::ScalarType dtype = o.dtype("dtype", at::kFloat);
    o.finish();
    if (!at::isFloatingType(dtype)) fail(code::kDtype, "randn needs a floating dtype");
    check_allocation(shape, dtype, c10::Device(c10::kCPU));
    // A CPU generator makes the draw identical on every device and to torch.randn(generator=...).
    at::Generator gen = at::detail::createCPUGenerator(*seed);
    return Wrap(env, at::randn(shape, gen, at::TensorOptions().dtype(at::kFloat)).to(dtype));
  });
}

Napi::Value TensorHandle::Shape(const Napi::CallbackInfo& info) {
  CheckReceiver(info);
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    const at::Tensor& t = payload();
    Napi::Array a = Napi::Array::New(env, t.dim());
    for (int64_t i = 0; i < t.dim(); ++i) a.Set(static_cast<uint32_t>(i), Napi::Number::New(env, static_cast<double>(t.size(i))));
    return a;
  });
}

Napi::Value TensorHandle::Dtype(const Napi::CallbackInfo& info) {
  CheckReceiver(info);
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value { return Napi::String::New(env, dtype_name(payload().scalar_type())); });
}

Napi::Value TensorHandle::Device(const Napi::CallbackInfo& info) {
  CheckReceiver(info);
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value { return Napi::String::New(env, payload().device().str()); });
}

Napi::Value TensorHandle::Numel(const Napi::CallbackInfo& info) {
  CheckReceiver(info);
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value { return Napi::Number::New(env, static_cast<double>(payload().numel())); });
}


Napi::Value tensor_to_typed_array(Napi::Env env, const at::Tensor& c) {
  napi_typedarray_type type = array_type_for(c.scalar_type());
  size_t n = static_cast<size_t>(c.numel());
  size_t bytes = n * c.element_size();
  // V8 aborts the process above its typed-array length limit (2^32 - 1 elements here).
  if (n > 0xFFFFFFFFull)
    fail(code::kArgument, "the tensor has " + std::to_string(n) + " elements, more than one JavaScript typed array can hold; read it in parts");
  Napi::ArrayBuffer buf = Napi::ArrayBuffer::New(env, bytes);  // JS-owned memory
  if (bytes) std::memcpy(buf.Data(), c.data_ptr(), bytes);
  napi_value out;
  napi_status s = napi_create_typedarray(env, type, n, buf, 0, &out);
  if (s != napi_ok) fail(code::kInternal, "could not create a typed array");
  return Napi::Value(env, out);
}

Napi::Value TensorHandle::ToTypedArray(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    at::Tensor c = payload().detach().to(at::kCPU).contiguous();
    return tensor_to_typed_array(env, c);
  });
}

Napi::Value TensorHandle::ToTypedArrayAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    at::Tensor t = payload();
    return run_async<at::Tensor>(
        env, [t]() { return t.detach().to(at::kCPU).contiguous(); },
        [](Napi::Env e, at::Tensor& c) { return tensor_to_typed_array(e, c); }, Lane::kLight);
  });
}

Napi::Value TensorHandle::To(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    at::Tensor t = payload();
    Options o(info[0], "options");
    c10::Device device = o.device("device", t.device());
    at::ScalarType dtype = o.dtype("dtype", t.scalar_type());
    o.finish();
    return run_async<at::Tensor>(
        env, [t, device, dtype]() { return t.detach().to(device, dtype).clone(); },
        [](Napi::Env e, at::Tensor& r) -> Napi::Value { return Wrap(e, r); }, Lane::kLight);
  });
}


}  // namespace da::bind
