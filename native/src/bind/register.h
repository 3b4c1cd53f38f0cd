// Each binding file registers its exports; addon.cc only calls these.
#pragma once
#include <napi.h>

namespace da::bind {
void register_info(Napi::Env env, Napi::Object exports);
void register_tensor(Napi::Env env, Napi::Object exports);
void register_safetensors(Napi::Env env, Napi::Object exports);
void register_torch_pickle(Napi::Env env, Napi::Object exports);  // torch.save state dicts
void register_testing(Napi::Env env, Napi::Object exports);
void register_models(Napi::Env env, Napi::Object exports);  // ModelHandle, loadModel, createModel
void register_vae(Napi::Env env, Napi::Object exports);
void register_unet(Napi::Env env, Napi::Object exports);
void register_scheduler(Napi::Env env, Napi::Object exports);
void register_inpaint(Napi::Env env, Napi::Object exports);
void register_glyph(Napi::Env env, Napi::Object exports);  // glyph encoder and projection
void register_lpips(Napi::Env env, Napi::Object exports);
void register_image(Napi::Env env, Napi::Object exports);
void register_train(Napi::Env env, Napi::Object exports);
void register_dist(Napi::Env env, Napi::Object exports);  // process groups (data parallelism)
}  // namespace da::bind
