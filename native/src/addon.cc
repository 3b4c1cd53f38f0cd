// Module registration only: each binding file registers its own exports.
#include <napi.h>

#include "bind/addon_data.h"
#include "bind/register.h"

namespace {

Napi::Object InitAddon(Napi::Env env, Napi::Object exports) {
  env.SetInstanceData(new da::bind::AddonData());
  da::bind::register_info(env, exports);
  da::bind::register_tensor(env, exports);
  da::bind::register_safetensors(env, exports);
  da::bind::register_torch_pickle(env, exports);
  da::bind::register_testing(env, exports);
  da::bind::register_models(env, exports);
  da::bind::register_vae(env, exports);
  da::bind::register_unet(env, exports);
  da::bind::register_scheduler(env, exports);
  da::bind::register_inpaint(env, exports);
  da::bind::register_glyph(env, exports);
  da::bind::register_lpips(env, exports);
  da::bind::register_image(env, exports);
  da::bind::register_train(env, exports);
  da::bind::register_dist(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(docanon, InitAddon)
