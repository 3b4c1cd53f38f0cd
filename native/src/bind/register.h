// Each binding file registers its exports; addon.cc only calls these.
#pragma once
#include <napi.h>

namespace da::bind {
void register_info(Napi::Env env, Napi::Object exports);
void register_tensor(Napi::Env env, Napi::Object exports);
void register_safetensors(Napi::Env env, Napi::Object exports);
void register_testing(Napi::Env env, Napi::Object exports);
}  // namespace da::bind
