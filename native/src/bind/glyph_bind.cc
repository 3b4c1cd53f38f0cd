// The glyph conditioning: glyphEncode(encoder, { pixelValues, intermediates? }) (TrOCR's ViT),
// glyphProject(projection, { hiddenStates }) and preprocessTrocr({ images, size }).
#include <ATen/ATen.h>
#include <torch/autograd.h>

#include "bind/errors.h"
#include "bind/model_handle.h"
#include "bind/options.h"
#include "bind/register.h"
#include "bind/tensor_handle.h"
#include "bind/worker.h"
#include "core/error.h"
#include "models/glyph_projection.h"
#include "models/vit.h"

namespace da::bind {
namespace {

Napi::Value GlyphEncode(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    ModelPtr box = ModelHandle::Of(info[0], models::ModelKind::kGlyphEncoder, "glyphEncoder");
    Options o(info[1], "options");
    at::Tensor px = o.tensor("pixelValues");
    bool keep = o.boolean("intermediates").value_or(false);
    o.finish();
    return run_async<models::GlyphEncoderOutput>(
        env,
        [box, px, keep]() {
          ModelLocks lock({box});
          torch::NoGradGuard ng;
          auto& enc = box->model.as<models::GlyphEncoder>();
          const auto& c = enc.config();
          if (px.dim() != 4 || px.size(1) != c.num_channels || px.size(2) != c.image_size || px.size(3) != c.image_size)
            fail(code::kShape, "pixelValues must be [N, " + std::to_string(c.num_channels) + ", " + std::to_string(c.image_size) + ", " +
                                   std::to_string(c.image_size) + "], got " + c10::str(px.sizes()));
          return enc.forward_all(px.to(box->model.device(), box->model.dtype()), keep);
        },
        [](Napi::Env e, models::GlyphEncoderOutput& r) -> Napi::Value {
          Napi::Object o = named_tensors_to_js(e, {{"lastHiddenState", r.last_hidden_state}, {"embeddings", r.embeddings}});
          o.Set("layerOutputs", tensors_to_js(e, r.layer_outputs));
          return o;
        });
  });
}

// [.., in] -> [.., out] (inference, no grad). Training goes through createTrainer's glyphProjection.
Napi::Value GlyphProject(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    ModelPtr box = ModelHandle::Of(info[0], models::ModelKind::kGlyphProjection, "glyphProjection");
    Options o(info[1], "options");
    at::Tensor h = o.tensor("hiddenStates");
    o.finish();
    if (!at::isFloatingType(h.scalar_type())) fail(code::kDtype, "hiddenStates must be a floating tensor");
    return run_async<at::Tensor>(
        env,
        [box, h]() {
          ModelLocks lock({box});
          torch::NoGradGuard ng;
          return box->model.as<models::GlyphProjection>().forward(h.to(box->model.device(), box->model.dtype()));
        },
        [](Napi::Env e, at::Tensor& r) -> Napi::Value { return TensorHandle::Wrap(e, r); });
  });
}

// uint8 images (N, H, W, C) -> TrOCR pixel values (N, 3, S, S) and the uint8 resize.
Napi::Value PreprocessTrocr(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    Options o(info[0], "options");
    at::Tensor images = o.tensor("images");
    auto size = o.integer("size", 1, 4096);
    o.finish();
    if (!size) fail(code::kArgument, "options.size is required");
    if (images.scalar_type() != at::kByte) fail(code::kDtype, "images must be uint8 (N, H, W, C)");
    if (images.dim() != 4 || (images.size(3) != 3 && images.size(3) != 1)) fail(code::kShape, "images must be (N, H, W, 3 or 1)");
    if (images.size(1) < 1 || images.size(2) < 1) fail(code::kShape, "images must not be empty");
    return run_async<NamedTensors>(
        env,
        [images, s = *size]() {
          at::Tensor resized;
          at::Tensor px = models::preprocess_trocr_images(images, s, models::ImageLayout::kNHWC, &resized);
          return NamedTensors{{"pixelValues", px}, {"resized", resized}};
        },
        named_tensors_to_js, Lane::kLight);
  });
}

}  // namespace

void register_glyph(Napi::Env env, Napi::Object exports) {
  exports.Set("glyphEncode", Napi::Function::New(env, GlyphEncode, "glyphEncode"));
  exports.Set("glyphProject", Napi::Function::New(env, GlyphProject, "glyphProject"));
  exports.Set("preprocessTrocr", Napi::Function::New(env, PreprocessTrocr, "preprocessTrocr"));
}

}  // namespace da::bind
