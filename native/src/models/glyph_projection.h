// The optional trainable projection between the glyph encoder and the UNet: Linear hidden_size ->
// cross_attention_dim. TrOCR-base's encoder gives 768-wide tokens, SD2's UNet attends to 1024
// (TrOCR-large already matches). It trains with the UNet and is saved beside it as
// config.json ({"_class_name": "GlyphProjection", "in_features", "out_features"}) +
// model.safetensors (keys `proj.weight` [out, in], `proj.bias` [out]).
#pragma once
#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>

#include <memory>
#include <string>

#include "core/json.h"

namespace da::models {

struct GlyphProjectionConfig {
  int64_t in_features = 768;
  int64_t out_features = 1024;
  static GlyphProjectionConfig from_json(const json::Value& root);  // strict (ERR_CONFIG)
  std::string to_json() const;
};

class GlyphProjection : public torch::nn::Module {
 public:
  explicit GlyphProjection(GlyphProjectionConfig config);
  GlyphProjection(int64_t in_features, int64_t out_features) : GlyphProjection(GlyphProjectionConfig{in_features, out_features}) {}
  // (..., in_features) -> (..., out_features); ERR_SHAPE on another last dimension.
  at::Tensor forward(const at::Tensor& hidden_states);
  const GlyphProjectionConfig& config() const { return cfg_; }
  // config.json + model.safetensors (atomic writes).
  void save_pretrained(const std::string& dir) const;

  torch::nn::Linear proj{nullptr};

 private:
  GlyphProjectionConfig cfg_;
};

// A saved projection folder, loaded strictly (ERR_WEIGHTS naming missing/unexpected/mis-shaped keys).
std::shared_ptr<GlyphProjection> load_glyph_projection(const std::string& dir, at::ScalarType dtype = at::kFloat,
                                                       c10::Device device = c10::kCPU);

}  // namespace da::models
