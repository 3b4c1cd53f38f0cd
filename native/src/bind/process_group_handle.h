// ProcessGroupHandle: JS's handle over a c10d process group (dist/process_group.h). Made by
// distInit; trainers take it in createTrainer({ processGroup }) and keep the group alive.
#pragma once
#include <napi.h>

#include <memory>

#include "bind/handle.h"
#include "dist/process_group.h"

namespace da::bind {

class ProcessGroupHandle : public Handle<ProcessGroupHandle, std::shared_ptr<dist::ProcessGroup>> {
 public:
  static constexpr const char* kClass = "ProcessGroupHandle";
  static constexpr napi_type_tag kTag = {0x3c5e7a9b1d2f4e60ULL, 0x9a8b7c6d5e4f3a21ULL};
  static constexpr napi_type_tag kFactoryTag = {0x5e7a9c1b3d5f7e82ULL, 0x2b4d6f8a0c2e4b6dULL};

  static void Init(Napi::Env env);
  using Handle::Handle;

 private:
  Napi::Value AllReduceMean(const Napi::CallbackInfo& info);  // allReduceMean({ tensors })
  Napi::Value Barrier(const Napi::CallbackInfo& info);
  Napi::Value AllGather(const Napi::CallbackInfo& info);      // allGather({ tensor })
  Napi::Value Any(const Napi::CallbackInfo& info);            // any({ flag })
  Napi::Value Info(const Napi::CallbackInfo& info);
};

}  // namespace da::bind
