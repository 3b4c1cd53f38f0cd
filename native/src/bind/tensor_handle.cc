#include "bind/tensor_handle.h"
#include "bind/wrap_guard.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <cstring>

#include "bind/addon_data.h"
#include "bind/args.h"
#include "bind/async.h"
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

// Unique tag so a plain object can't pass for a handle.
const napi_type_tag kTensorTag = {0x6a1f3c2e9b7d4a51ULL, 0x8c0e2f4b17a9d3e6ULL};
const napi_type_tag kTensorFactoryTag = {0x3d5e7f9102a4c6e8ULL, 0x1b3d5f7092a4c6e9ULL};

}  // namespace

void TensorHandle::Init(Napi::Env env, Napi::Object exports) {
  Napi::Function cls = DefineClass(env, "TensorHandle", {
      StaticMethod("fromTypedArray", &TensorHandle::FromTypedArray),
      StaticMethod("zeros", &TensorHandle::Zeros),
      StaticMethod("randn", &TensorHandle::Randn),
      InstanceAccessor("shape", &TensorHandle::Shape, nullptr),
      InstanceAccessor("dtype", &TensorHandle::Dtype, nullptr),
      InstanceAccessor("device", &TensorHandle::Device, nullptr),
      InstanceAccessor("numel", &TensorHandle::Numel, nullptr),
      InstanceAccessor("disposed", &TensorHandle::Disposed, nullptr),
      InstanceMethod("toTypedArray", &TensorHandle::ToTypedArray),
      InstanceMethod("toTypedArrayAsync", &TensorHandle::ToTypedArrayAsync),
      InstanceMethod("to", &TensorHandle::To),
      InstanceMethod("dispose", &TensorHandle::Dispose),
  });
  addon_data(env).tensor_class = Napi::Persistent(cls);
  exports.Set("TensorHandle", cls);
}

TensorHandle::TensorHandle(const Napi::CallbackInfo& info) : Napi::ObjectWrap<TensorHandle>(info) {
  // Only Wrap() (which passes an External) creates handles; JS must use the static factories.
  tensor_ = *factory_data<at::Tensor>(info, &kTensorFactoryTag, "TensorHandle cannot be constructed directly; use fromTypedArray()");
  info.This().As<Napi::Object>().TypeTag(&kTensorTag);
}

Napi::Object TensorHandle::Wrap(Napi::Env env, at::Tensor t) {
  at::Tensor holder = std::move(t);
  Napi::External<at::Tensor> ext = tagged_external(env, &holder, &kTensorFactoryTag);
  return addon_data(env).tensor_class.New({ext});
}

bool TensorHandle::IsHandle(const Napi::Value& v) {
  return v.IsObject() && v.As<Napi::Object>().CheckTypeTag(&kTensorTag);
}

at::Tensor TensorHandle::FromValue(const Napi::Value& v, const std::string& what) {
  if (!IsHandle(v)) fail(code::kArgument, what + " must be a Tensor");
  TensorHandle* h = TensorHandle::Unwrap(v.As<Napi::Object>());
  if (!h->tensor_.defined()) fail(code::kDisposed, what + " was disposed");
  return h->tensor_;
}

const at::Tensor& TensorHandle::tensor(Napi::Env env) const {
  if (!tensor_.defined()) fail(code::kDisposed, "the tensor was disposed; create a new one");
  return tensor_;
}

Napi::Value TensorHandle::FromTypedArray(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    if (info.Length() < 3) fail(code::kArgument, "fromTypedArray(data, shape, dtype) takes 3 arguments");
    if (!info[0].IsTypedArray()) fail(code::kArgument, "data must be a typed array");
    // Shape and dtype first: reading them can run JS (getters) that detaches or shrinks the data's
    // buffer, so the data's length and address are read after, with no JS in between.
    std::vector<int64_t> shape = get_shape(info[1], "shape");
    at::ScalarType dtype = parse_dtype(get_string(info[2], "dtype"));
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
    std::vector<int64_t> shape = get_shape(info[0], "shape");
    at::ScalarType dtype = parse_dtype(info.Length() > 1 && !info[1].IsUndefined() ? get_string(info[1], "dtype") : "float32");
    c10::Device device = parse_device(info.Length() > 2 && !info[2].IsUndefined() ? get_string(info[2], "device") : "cpu");
    check_allocation(shape, dtype, device);
    return Wrap(env, at::zeros(shape, at::TensorOptions().dtype(dtype).device(device)));
  });
}

Napi::Value TensorHandle::Randn(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    std::vector<int64_t> shape = get_shape(info[0], "shape");
    int64_t seed = get_int(info[1], "seed", 0, (int64_t{1} << 53) - 1);
    at::ScalarType dtype = parse_dtype(info.Length() > 2 && !info[2].IsUndefined() ? get_string(info[2], "dtype") : "float32");
    if (!at::isFloatingType(dtype)) fail(code::kDtype, "randn needs a floating dtype");
    check_allocation(shape, dtype, c10::Device(c10::kCPU));
    // A CPU generator makes the draw identical on every device and to torch.randn(generator=...).
    at::Generator gen = at::detail::createCPUGenerator(static_cast<uint64_t>(seed));
    return Wrap(env, at::randn(shape, gen, at::TensorOptions().dtype(at::kFloat)).to(dtype));
  });
}

Napi::Value TensorHandle::Shape(const Napi::CallbackInfo& info) {
  check_receiver(info, &kTensorTag, "TensorHandle");
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    const at::Tensor& t = tensor(env);
    Napi::Array a = Napi::Array::New(env, t.dim());
    for (int64_t i = 0; i < t.dim(); ++i) a.Set(static_cast<uint32_t>(i), Napi::Number::New(env, static_cast<double>(t.size(i))));
    return a;
  });
}

Napi::Value TensorHandle::Dtype(const Napi::CallbackInfo& info) {
  check_receiver(info, &kTensorTag, "TensorHandle");
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value { return Napi::String::New(env, dtype_name(tensor(env).scalar_type())); });
}

Napi::Value TensorHandle::Device(const Napi::CallbackInfo& info) {
  check_receiver(info, &kTensorTag, "TensorHandle");
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value { return Napi::String::New(env, tensor(env).device().str()); });
}

Napi::Value TensorHandle::Numel(const Napi::CallbackInfo& info) {
  check_receiver(info, &kTensorTag, "TensorHandle");
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value { return Napi::Number::New(env, static_cast<double>(tensor(env).numel())); });
}

Napi::Value TensorHandle::Disposed(const Napi::CallbackInfo& info) {
  check_receiver(info, &kTensorTag, "TensorHandle");
  return Napi::Boolean::New(info.Env(), !tensor_.defined());
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
    at::Tensor c = tensor(env).detach().to(at::kCPU).contiguous();
    return tensor_to_typed_array(env, c);
  });
}

Napi::Value TensorHandle::ToTypedArrayAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    at::Tensor t = tensor(env);
    return run_async<at::Tensor>(
        env, [t]() { return t.detach().to(at::kCPU).contiguous(); },
        [](Napi::Env e, at::Tensor& c) { return tensor_to_typed_array(e, c); }, Lane::kLight);
  });
}

Napi::Value TensorHandle::To(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    at::Tensor t = tensor(env);
    c10::Device device = info.Length() > 0 && !info[0].IsUndefined() && !info[0].IsNull()
                             ? parse_device(get_string(info[0], "device")) : t.device();
    at::ScalarType dtype = info.Length() > 1 && !info[1].IsUndefined() && !info[1].IsNull()
                               ? parse_dtype(get_string(info[1], "dtype")) : t.scalar_type();
    return run_async<at::Tensor>(
        env, [t, device, dtype]() { return t.detach().to(device, dtype).clone(); },
        [](Napi::Env e, at::Tensor& r) -> Napi::Value { return Wrap(e, r); }, Lane::kLight);
  });
}

Napi::Value TensorHandle::Dispose(const Napi::CallbackInfo& info) {
  tensor_ = at::Tensor();  // work already queued keeps its own reference
  return info.Env().Undefined();
}

}  // namespace da::bind
