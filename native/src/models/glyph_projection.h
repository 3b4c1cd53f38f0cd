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
#include "models/config_fields.h"

namespace da::models {

struct GlyphProjectionConfig : config::Declared<GlyphProjectionConfig> {
  static constexpr const char* kName = "GlyphProjection";
  static constexpr bool kWriteClassName = true;
  static constexpr config::Unknown kUnknown = config::Unknown::kReject;

  int64_t in_features = 768;
  int64_t out_features = 1024;

  template <class V>
  void fields(V& v) {
    v.field("in_features", in_features, "The glyph encoder's hidden_size.");
    v.field("out_features", out_features, "The UNet's cross_attention_dim.");
  }
  void validate(const ConfigReader& r) const;  // positive widths, bounds (ERR_CONFIG)
};

class GlyphProjection : public torch::nn::Module {
 public:
  using Config = GlyphProjectionConfig;
  static constexpr const char* kWeightsName = "model";

  explicit GlyphProjection(GlyphProjectionConfig config);
  // (..., in_features) -> (..., out_features); ERR_SHAPE on another last dimension.
  at::Tensor forward(const at::Tensor& hidden_states);
  const GlyphProjectionConfig& config() const { return cfg_; }

  torch::nn::Linear proj{nullptr};

 private:
  GlyphProjectionConfig cfg_;
};

}  // namespace da::models
