#include "models/vit.h"
#include "models/linear.h"

#include <ATen/ATen.h>
#include <torch/nn/functional/activation.h>

#include <cmath>
#include <sstream>

#include "core/error.h"
#include "models/config_reader.h"

namespace da::models {

// ---- config ---------------------------------------------------------------------------------

ViTConfig ViTConfig::from_json(const json::Value& root) {
  const json::Value* enc = &root;
  const json::Value* mt = root.find("model_type");
  if ((mt && mt->is_string() && mt->as_string() == "vision-encoder-decoder") ||
      (!root.has("hidden_size") && root.find("encoder") && root.find("encoder")->is_object())) {
    enc = root.find("encoder");
    if (!enc || !enc->is_object()) fail(code::kConfig, "VisionEncoderDecoder config has no 'encoder' object");
  }
  return config::read<ViTConfig>(*enc);
}

void ViTConfig::validate(const ConfigReader& r) const {
  const auto& c = *this;
  if (c.hidden_size <= 0) r.fail("hidden_size", "must be positive");
  if (c.num_hidden_layers < 0) r.fail("num_hidden_layers", "must be non-negative");
  if (c.num_attention_heads <= 0 || c.hidden_size % c.num_attention_heads != 0)
    r.fail("num_attention_heads", "must divide hidden_size (" + std::to_string(c.hidden_size) + ")");
  if (c.intermediate_size <= 0) r.fail("intermediate_size", "must be positive");
  if (c.patch_size <= 0) r.fail("patch_size", "must be positive");
  if (c.image_size <= 0 || c.image_size % c.patch_size != 0) r.fail("image_size", "must be a positive multiple of patch_size");
  if (c.num_channels <= 0) r.fail("num_channels", "must be positive");
  if (!(c.layer_norm_eps > 0)) r.fail("layer_norm_eps", "must be positive");
  // Upper bounds (TrOCR-large: 24 layers, 1024 wide, 4096 MLP, 384 px).
  r.at_most("num_hidden_layers", c.num_hidden_layers, 512);
  r.at_most("hidden_size", c.hidden_size, 65536);
  r.at_most("intermediate_size", c.intermediate_size, 262144);
  r.at_most("image_size", c.image_size, 8192);
  r.at_most("num_channels", c.num_channels, 4096);
}

ViTConfig ViTConfig::trocr_base() {
  ViTConfig c;
  c.image_size = 384;
  c.qkv_bias = false;
  return c;
}

ViTConfig ViTConfig::trocr_large() {
  ViTConfig c = trocr_base();
  c.hidden_size = 1024;
  c.num_hidden_layers = 24;
  c.num_attention_heads = 16;
  c.intermediate_size = 4096;
  return c;
}

// ---- modules --------------------------------------------------------------------------------

ViTPatchEmbeddings::ViTPatchEmbeddings(const ViTConfig& c) {
  projection = register_module(
      "projection", torch::nn::Conv2d(torch::nn::Conv2dOptions(c.num_channels, c.hidden_size, c.patch_size).stride(c.patch_size)));
}

at::Tensor ViTPatchEmbeddings::forward(const at::Tensor& x) { return projection->forward(x).flatten(2).transpose(1, 2); }

ViTEmbeddings::ViTEmbeddings(const ViTConfig& c) {
  cls_token = register_parameter("cls_token", at::zeros({1, 1, c.hidden_size}));
  position_embeddings = register_parameter("position_embeddings", at::zeros({1, c.sequence_length(), c.hidden_size}));
  patch_embeddings = register_module("patch_embeddings", std::make_shared<ViTPatchEmbeddings>(c));
}

at::Tensor ViTEmbeddings::forward(const at::Tensor& pixel_values) {
  at::Tensor patches = patch_embeddings->forward(pixel_values);
  at::Tensor cls = cls_token.expand({patches.size(0), -1, -1});
  return at::cat({cls, patches}, 1) + position_embeddings;
}

ViTSelfAttention::ViTSelfAttention(const ViTConfig& c) : heads(c.num_attention_heads) {
  auto opt = torch::nn::LinearOptions(c.hidden_size, c.hidden_size).bias(c.qkv_bias);
  query = register_module("query", torch::nn::Linear(opt));
  key = register_module("key", torch::nn::Linear(opt));
  value = register_module("value", torch::nn::Linear(opt));
}

at::Tensor ViTSelfAttention::forward(const at::Tensor& x) {
  const int64_t n = x.size(0), t = x.size(1), d = x.size(2), hd = d / heads;
  auto split = [&](const at::Tensor& y) { return y.view({n, t, heads, hd}).transpose(1, 2); };
  at::Tensor q = split(linear(query, x)), k = split(linear(key, x)), v = split(linear(value, x));
  // Softmax(q k^T / sqrt(hd)) v; SDPA differs from transformers' eager path by ~1e-6 (README).
  at::Tensor o = at::scaled_dot_product_attention(q, k, v, {}, 0.0, false, std::pow((double)hd, -0.5));
  return o.transpose(1, 2).reshape({n, t, d});
}

ViTDense::ViTDense(int64_t in, int64_t out) { dense = register_module("dense", torch::nn::Linear(in, out)); }

ViTAttention::ViTAttention(const ViTConfig& c) {
  attention = register_module("attention", std::make_shared<ViTSelfAttention>(c));
  output = register_module("output", std::make_shared<ViTDense>(c.hidden_size, c.hidden_size));
}

at::Tensor ViTAttention::forward(const at::Tensor& x) { return linear(output->dense, attention->forward(x)); }

ViTLayer::ViTLayer(const ViTConfig& c) {
  attention = register_module("attention", std::make_shared<ViTAttention>(c));
  intermediate = register_module("intermediate", std::make_shared<ViTDense>(c.hidden_size, c.intermediate_size));
  output = register_module("output", std::make_shared<ViTDense>(c.intermediate_size, c.hidden_size));
  auto ln = torch::nn::LayerNormOptions({c.hidden_size}).eps(c.layer_norm_eps);
  layernorm_before = register_module("layernorm_before", torch::nn::LayerNorm(ln));
  layernorm_after = register_module("layernorm_after", torch::nn::LayerNorm(ln));
}

at::Tensor ViTLayer::forward(const at::Tensor& x_in) {
  at::Tensor x = attention->forward(layernorm_before->forward(x_in)) + x_in;
  at::Tensor h = at::gelu(linear(intermediate->dense, layernorm_after->forward(x)));  // exact erf GELU
  return linear(output->dense, h) + x;
}

ViTEncoder::ViTEncoder(const ViTConfig& c) {
  layer = register_module("layer", torch::nn::ModuleList());
  for (int64_t i = 0; i < c.num_hidden_layers; ++i) layer->push_back(std::make_shared<ViTLayer>(c));
}

GlyphEncoder::GlyphEncoder(const ViTConfig& c) : cfg_(c) {
  embeddings = register_module("embeddings", std::make_shared<ViTEmbeddings>(c));
  encoder = register_module("encoder", std::make_shared<ViTEncoder>(c));
  layernorm = register_module("layernorm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({c.hidden_size}).eps(c.layer_norm_eps)));
}

GlyphEncoderOutput GlyphEncoder::forward_all(const at::Tensor& pixel_values_in, bool keep) {
  if (pixel_values_in.dim() != 4 || pixel_values_in.size(1) != cfg_.num_channels ||
      pixel_values_in.size(2) != cfg_.image_size || pixel_values_in.size(3) != cfg_.image_size) {
    std::ostringstream os;
    os << "glyph encoder expects pixel_values (N, " << cfg_.num_channels << ", " << cfg_.image_size << ", "
       << cfg_.image_size << "), got " << pixel_values_in.sizes();
    fail(code::kShape, os.str());
  }
  if (!at::isFloatingType(pixel_values_in.scalar_type()))
    fail(code::kDtype, "glyph encoder expects floating pixel_values (preprocess uint8 images first)");
  const at::Tensor& w = embeddings->cls_token;
  at::Tensor pixel_values = pixel_values_in.to(w.device(), w.scalar_type());
  GlyphEncoderOutput out;
  at::Tensor x = embeddings->forward(pixel_values);
  if (keep) out.embeddings = x;
  for (const auto& m : *encoder->layer) {
    x = m->as<ViTLayer>()->forward(x);
    if (keep) out.layer_outputs.push_back(x);
  }
  out.last_hidden_state = layernorm->forward(x);
  return out;
}

at::Tensor GlyphEncoder::forward(const at::Tensor& pixel_values) { return forward_all(pixel_values, false).last_hidden_state; }

LoadOptions GlyphEncoder::load_options_for(const WeightSource& source) {
  LoadOptions o;
  if (source.has("encoder.embeddings.cls_token")) {
    // Full TrOCR (VisionEncoderDecoder) checkpoint: the encoder under `encoder.`, the text
    // decoder under `decoder.` (not ours).
    o.strip_prefix = "encoder.";
    o.ignore_prefixes = {"decoder."};
  } else if (!source.has("embeddings.cls_token")) {
    fail(code::kWeights,
         "not a ViT / TrOCR encoder checkpoint: neither 'embeddings.cls_token' (ViTModel) nor "
         "'encoder.embeddings.cls_token' (TrOCR VisionEncoderDecoderModel) is present");
  }
  return o;
}

void GlyphEncoder::after_load() {
  for (auto& p : parameters()) p.set_requires_grad(false);
}

// ---- preprocessing --------------------------------------------------------------------------

at::Tensor preprocess_trocr_images(const at::Tensor& images_u8, int64_t size, ImageLayout layout, at::Tensor* resized_u8) {
  if (images_u8.scalar_type() != at::kByte) fail(code::kDtype, "TrOCR preprocessing expects uint8 images");
  if (images_u8.dim() != 4) fail(code::kShape, "TrOCR preprocessing expects a 4-D batch (N,H,W,C) or (N,C,H,W)");
  if (size <= 0) fail(code::kArgument, "TrOCR preprocessing: size must be positive");
  at::Tensor x = layout == ImageLayout::kNHWC ? images_u8.permute({0, 3, 1, 2}) : images_u8;
  const int64_t c = x.size(1);
  if (c == 1) x = x.expand({-1, 3, -1, -1});  // grayscale -> RGB, as the processor's convert("RGB")
  else if (c != 3) fail(code::kShape, "TrOCR preprocessing expects 1 or 3 channels, got " + std::to_string(c));
  if (x.size(2) <= 0 || x.size(3) <= 0) fail(code::kShape, "TrOCR preprocessing: empty image");
  // uint8 in, uint8 out: the same rounding torchvision's resize gets from this kernel.
  at::Tensor r = at::_upsample_bilinear2d_aa(x.contiguous(), {size, size}, false, std::nullopt, std::nullopt).contiguous();
  if (resized_u8) *resized_u8 = r;
  return (r.to(at::kFloat) - 127.5) / 127.5;
}

}  // namespace da::models
