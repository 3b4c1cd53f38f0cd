// Guards for the ObjectWrap classes (tensor, model, scheduler, safetensors file, abort token).
// - Constructors take an External only their own factory made: any other External (a trainer's,
//   another class's) would be read as this class's data.
// - Accessors check their receiver: napi_define_class checks it for methods, not for accessors, so
//   `getter.call(objectOfAnotherClass)` would read another C++ type.
#pragma once
#include <napi.h>

#include <string>

#include "bind/errors.h"
#include "core/error.h"

namespace da::bind {

// An External carrying `data`, tagged as made by the factory of the class that `tag` names.
template <typename T>
Napi::External<T> tagged_external(Napi::Env env, T* data, const napi_type_tag* tag) {
  Napi::External<T> e = Napi::External<T>::New(env, data);
  e.TypeTag(tag);
  return e;
}

// The data of the constructor's External when it carries `tag`; else ERR_ARGUMENT saying `use`.
template <typename T>
T* factory_data(const Napi::CallbackInfo& info, const napi_type_tag* tag, const std::string& use) {
  if (info.Length() != 1 || !info[0].IsExternal() || !info[0].As<Napi::Object>().CheckTypeTag(tag))
    throw make_error(info.Env(), code::kArgument, use);
  return info[0].As<Napi::External<T>>().Data();
}

// ERR_ARGUMENT unless the receiver was tagged `tag` by its constructor.
inline void check_receiver(const Napi::CallbackInfo& info, const napi_type_tag* tag, const char* cls) {
  Napi::Value self = info.This();
  if (!self.IsObject() || !self.As<Napi::Object>().CheckTypeTag(tag))
    throw make_error(info.Env(), code::kArgument, std::string("this getter belongs to ") + cls + " objects");
}

}  // namespace da::bind
