// Every long-lived native object JavaScript holds (tensor, model, scheduler, safetensors file,
// abort token, trainer, process group) is a Handle: an ObjectWrap over a payload that
//  - only its own factory makes (Wrap passes the payload in an External tagged for this class: any
//    other External, a trainer's say, would be read as this class's data),
//  - is recognised by its tag wherever it comes back (From: ERR_ARGUMENT for anything else,
//    ERR_DISPOSED once disposed),
//  - has dispose() (the payload is released now; calls in flight keep their own reference) and a
//    `disposed` getter, whose receiver is checked (napi_define_class checks it for methods only).
// A class declares `static constexpr const char* kClass` and two distinct `static constexpr
// napi_type_tag kTag, kFactoryTag`, and registers itself with Define().
#pragma once
#include <napi.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "bind/addon_data.h"
#include "bind/errors.h"
#include "core/error.h"

namespace da::bind {

// A payload is empty once disposed: an undefined tensor, a null pointer.
inline bool payload_empty(const at::Tensor& t) { return !t.defined(); }
template <class T>
bool payload_empty(const std::shared_ptr<T>& p) { return !p; }

template <class Derived, class Payload>
class Handle : public Napi::ObjectWrap<Derived> {
 public:
  using Props = std::vector<typename Napi::ObjectWrap<Derived>::PropertyDescriptor>;

  // A new JS object over `p` (JS thread only).
  static Napi::Object Wrap(Napi::Env env, Payload p) {
    Payload holder = std::move(p);
    Napi::External<Payload> ext = Napi::External<Payload>::New(env, &holder);
    ext.TypeTag(&Derived::kFactoryTag);
    return addon_data(env).constructor(&Derived::kTag).New({ext});
  }

  static bool Is(const Napi::Value& v) { return v.IsObject() && v.As<Napi::Object>().CheckTypeTag(&Derived::kTag); }

  // The payload behind `v`, named `what` in errors.
  static const Payload& From(const Napi::Value& v, const std::string& what) {
    if (!Is(v)) fail(code::kArgument, what + " must be a " + Derived::kClass);
    const Payload& p = Derived::Unwrap(v.As<Napi::Object>())->payload_;
    if (payload_empty(p)) fail(code::kDisposed, what + " was disposed");
    return p;
  }

  explicit Handle(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Derived>(info) {
    if (info.Length() != 1 || !info[0].IsExternal() || !info[0].As<Napi::Object>().CheckTypeTag(&Derived::kFactoryTag))
      throw make_error(info.Env(), code::kArgument, std::string(Derived::kClass) + " objects are made by the addon's functions, not constructed");
    payload_ = std::move(*info[0].As<Napi::External<Payload>>().Data());
    info.This().As<Napi::Object>().TypeTag(&Derived::kTag);
  }

 protected:
  // The class with `props` plus dispose() and `disposed`; kept for Wrap, and exported when `exports` is given.
  static Napi::Function Define(Napi::Env env, Props props, Napi::Object* exports = nullptr) {
    props.push_back(Napi::ObjectWrap<Derived>::InstanceMethod("dispose", &Derived::Dispose));
    props.push_back(Napi::ObjectWrap<Derived>::InstanceAccessor("disposed", &Derived::Disposed, nullptr));
    Napi::Function cls = Napi::ObjectWrap<Derived>::DefineClass(env, Derived::kClass, props);
    addon_data(env).set_constructor(&Derived::kTag, cls);
    if (exports) exports->Set(Derived::kClass, cls);
    return cls;
  }

  // The payload; ERR_DISPOSED once disposed.
  const Payload& payload() const {
    if (payload_empty(payload_)) fail(code::kDisposed, std::string("the ") + Derived::kClass + " was disposed");
    return payload_;
  }

  // For accessors: napi_define_class checks the receiver of methods, not of accessors
  // (`getter.call(objectOfAnotherClass)` would read another C++ type).
  static void CheckReceiver(const Napi::CallbackInfo& info) {
    if (!Is(info.This())) throw make_error(info.Env(), code::kArgument, std::string("this getter belongs to ") + Derived::kClass + " objects");
  }

  Napi::Value Dispose(const Napi::CallbackInfo& info) {
    payload_ = Payload();
    return info.Env().Undefined();
  }
  Napi::Value Disposed(const Napi::CallbackInfo& info) {
    CheckReceiver(info);
    return Napi::Boolean::New(info.Env(), payload_empty(payload_));
  }

  Payload payload_;
};

}  // namespace da::bind
