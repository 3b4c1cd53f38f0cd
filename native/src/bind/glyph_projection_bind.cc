// Glyph projection entry points (models/glyph_projection.h): loadGlyphProjection,
// createGlyphProjection, glyphProject. Training goes through createTrainer's glyphProjection.
#include <ATen/ATen.h>
#include <torch/autograd.h>

#include "bind/args.h"
#include "bind/async.h"
#include "bind/errors.h"
#include "bind/model_handle.h"
#include "bind/register.h"
#include "bind/tensor_handle.h"
#include "core/error.h"
#include "core/json.h"
#include "models/glyph_projection.h"

namespace da::bind {
namespace {

using models::GlyphProjection;

std::shared_ptr<ModelBox> make_box(std::shared_ptr<GlyphProjection> p) {
  auto box = std::make_shared<ModelBox>();
  box->kind = "glyph_projection";
  box->module = p;
  box->save = [p](const std::string& dir) { p->save_pretrained(dir); };
  box->config_json = [p]() { return p->config().to_json(); };
  return box;
}

Napi::Value LoadGlyphProjection(const Napi::CallbackInfo& info) {
  return load_model_async(info, [](const std::string& dir, const LoadArgs& a) {
    return make_box(models::load_glyph_projection(dir, a.dtype, a.device));
  });
}

Napi::Value CreateGlyphProjection(const Napi::CallbackInfo& info) {
  return create_model_async(info, [](const std::string& cfg, const LoadArgs& a) {
    auto p = std::make_shared<GlyphProjection>(models::GlyphProjectionConfig::from_json(json::parse(cfg, code::kConfig)));
    p->to(a.device, a.dtype);
    return make_box(p);
  });
}

// glyphProject(projection, hiddenStates [.., in]) -> Promise<[.., out]> (inference, no grad).
Napi::Value GlyphProject(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    auto box = ModelHandle::FromValue(info[0], "glyph_projection", "glyphProjection");
    at::Tensor h = TensorHandle::FromValue(info[1], "hiddenStates");
    if (!at::isFloatingType(h.scalar_type())) fail(code::kDtype, "hiddenStates must be a floating tensor");
    return run_async<at::Tensor>(
        env,
        [box, h]() {
          std::lock_guard<std::mutex> lock(box->mutex);
          torch::NoGradGuard ng;
          auto p = ModelHandle::Typed<GlyphProjection>(box);
          const auto& w = p->proj->weight;
          return p->forward(h.to(w.device(), w.scalar_type()));
        },
        [](Napi::Env e, at::Tensor& r) -> Napi::Value { return TensorHandle::Wrap(e, r); });
  });
}

}  // namespace

void register_glyph_projection(Napi::Env env, Napi::Object exports) {
  exports.Set("loadGlyphProjection", Napi::Function::New(env, LoadGlyphProjection, "loadGlyphProjection"));
  exports.Set("createGlyphProjection", Napi::Function::New(env, CreateGlyphProjection, "createGlyphProjection"));
  exports.Set("glyphProject", Napi::Function::New(env, GlyphProject, "glyphProject"));
}

}  // namespace da::bind
