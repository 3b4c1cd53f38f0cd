// Per-environment state of the addon (one per Node/Electron context or worker thread).
#pragma once
#include <napi.h>

#include <map>

#include "core/error.h"

namespace da::bind {

struct AddonData {
  Napi::FunctionReference error_class;  // DocAnonError from TypeScript (registered by init())

  // The constructor of each handle class (bind/handle.h), by the class's tag.
  Napi::FunctionReference& constructor(const napi_type_tag* tag) {
    auto it = classes_.find(tag);
    if (it == classes_.end()) fail(code::kInternal, "a handle class was used before it was registered");
    return it->second;
  }
  void set_constructor(const napi_type_tag* tag, Napi::Function cls) { classes_[tag] = Napi::Persistent(cls); }

 private:
  std::map<const napi_type_tag*, Napi::FunctionReference> classes_;
};

inline AddonData& addon_data(Napi::Env env) { return *env.GetInstanceData<AddonData>(); }

}  // namespace da::bind
