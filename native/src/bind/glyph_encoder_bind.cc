// Glyph encoder (TrOCR ViT) entry points: loadGlyphEncoder, createGlyphEncoder, glyphEncode,
// preprocessTrocr.
#include <ATen/ATen.h>
#include <torch/autograd.h>

#include "bind/args.h"
#include "bind/async.h"
#include "bind/errors.h"
#include "bind/model_handle.h"
#include "bind/options.h"
#include "bind/register.h"
#include "bind/tensor_handle.h"
#include "core/error.h"
#include "core/json.h"
#include "models/vit.h"

namespace da::bind {
namespace {

using models::GlyphEncoder;

std::shared_ptr<ModelBox> make_box(std::shared_ptr<GlyphEncoder> enc) {
  auto box = std::make_shared<ModelBox>();
  box->kind = "glyph_encoder";
  box->module = enc;
  box->config_json = [enc]() {
    const auto& c = enc->config();
    return std::string("{\"model_type\":\"vit\",\"hidden_size\":") + std::to_string(c.hidden_size) +
           ",\"num_hidden_layers\":" + std::to_string(c.num_hidden_layers) + ",\"num_attention_heads\":" +
           std::to_string(c.num_attention_heads) + ",\"intermediate_size\":" + std::to_string(c.intermediate_size) +
           ",\"image_size\":" + std::to_string(c.image_size) + ",\"patch_size\":" + std::to_string(c.patch_size) +
           ",\"num_channels\":" + std::to_string(c.num_channels) + ",\"qkv_bias\":" + (c.qkv_bias ? "true" : "false") + "}";
  };
  return box;
}

Napi::Value LoadGlyphEncoder(const Napi::CallbackInfo& info) {
  return load_model_async(info, [](const std::string& dir, const LoadArgs& a) {
    return make_box(models::load_glyph_encoder(dir, a.dtype, a.device));
  });
}

Napi::Value CreateGlyphEncoder(const Napi::CallbackInfo& info) {
  return create_model_async(info, [](const std::string& cfg, const LoadArgs& a) {
    auto enc = std::make_shared<GlyphEncoder>(models::ViTConfig::from_json(json::parse(cfg, code::kConfig)));
    enc->to(a.device, a.dtype);
    enc->eval();
    for (auto& p : enc->parameters()) p.set_requires_grad(false);
    return make_box(enc);
  });
}

struct EncodeOut {
  models::GlyphEncoderOutput out;
};

Napi::Value GlyphEncode(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    auto box = ModelHandle::FromValue(info[0], "glyph_encoder", "glyphEncoder");
    at::Tensor px = TensorHandle::FromValue(info[1], "pixelValues");
    bool keep = info.Length() > 2 && info[2].IsBoolean() && info[2].As<Napi::Boolean>().Value();
    return run_async<EncodeOut>(
        env,
        [box, px, keep]() {
          std::lock_guard<std::mutex> lock(box->mutex);
          torch::NoGradGuard ng;
          auto enc = ModelHandle::Typed<GlyphEncoder>(box);
          const auto& c = enc->config();
          if (px.dim() != 4 || px.size(1) != c.num_channels || px.size(2) != c.image_size || px.size(3) != c.image_size)
            fail(code::kShape, "pixelValues must be [N, " + std::to_string(c.num_channels) + ", " + std::to_string(c.image_size) +
                                   ", " + std::to_string(c.image_size) + "], got " + c10::str(px.sizes()));
          const auto& w = enc->layernorm->weight;
          return EncodeOut{enc->forward_all(px.to(w.device(), w.scalar_type()), keep)};
        },
        [](Napi::Env e, EncodeOut& r) -> Napi::Value {
          Napi::Object o = Napi::Object::New(e);
          o.Set("lastHiddenState", TensorHandle::Wrap(e, r.out.last_hidden_state));
          if (r.out.embeddings.defined()) o.Set("embeddings", TensorHandle::Wrap(e, r.out.embeddings));
          Napi::Array layers = Napi::Array::New(e, r.out.layer_outputs.size());
          for (size_t i = 0; i < r.out.layer_outputs.size(); ++i) layers.Set(static_cast<uint32_t>(i), TensorHandle::Wrap(e, r.out.layer_outputs[i]));
          o.Set("layerOutputs", layers);
          return o;
        });
  });
}

// uint8 images (N,H,W,C) -> TrOCR pixel values (N,3,S,S) and the uint8 resize.
Napi::Value PreprocessTrocr(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    at::Tensor images = TensorHandle::FromValue(info[0], "images");
    int64_t size = get_int(info[1], "size", 1, 4096);
    if (images.scalar_type() != at::kByte) fail(code::kDtype, "images must be uint8 (N, H, W, C)");
    if (images.dim() != 4 || (images.size(3) != 3 && images.size(3) != 1)) fail(code::kShape, "images must be (N, H, W, 3 or 1)");
    if (images.size(1) < 1 || images.size(2) < 1) fail(code::kShape, "images must not be empty");
    using Pair = std::pair<at::Tensor, at::Tensor>;
    return run_async<Pair>(
        env,
        [images, size]() {
          at::Tensor resized;
          at::Tensor px = models::preprocess_trocr_images(images, size, models::ImageLayout::kNHWC, &resized);
          return Pair{px, resized};
        },
        [](Napi::Env e, Pair& r) -> Napi::Value {
          Napi::Object o = Napi::Object::New(e);
          o.Set("pixelValues", TensorHandle::Wrap(e, r.first));
          o.Set("resized", TensorHandle::Wrap(e, r.second));
          return o;
        },
        Lane::kLight);
  });
}

}  // namespace

void register_glyph_encoder(Napi::Env env, Napi::Object exports) {
  exports.Set("loadGlyphEncoder", Napi::Function::New(env, LoadGlyphEncoder, "loadGlyphEncoder"));
  exports.Set("createGlyphEncoder", Napi::Function::New(env, CreateGlyphEncoder, "createGlyphEncoder"));
  exports.Set("glyphEncode", Napi::Function::New(env, GlyphEncode, "glyphEncode"));
  exports.Set("preprocessTrocr", Napi::Function::New(env, PreprocessTrocr, "preprocessTrocr"));
}

}  // namespace da::bind
