#include "models/glyph_projection.h"

#include "core/error.h"

namespace da::models {

void GlyphProjectionConfig::validate(const ConfigReader& r) const {
  if (in_features <= 0) r.fail("in_features", "must be positive (the glyph encoder's hidden_size)");
  if (out_features <= 0) r.fail("out_features", "must be positive (the UNet's cross_attention_dim)");
  r.at_most("in_features", in_features, 65536);
  r.at_most("out_features", out_features, 65536);
}

GlyphProjection::GlyphProjection(GlyphProjectionConfig config) : cfg_(config) {
  proj = register_module("proj", torch::nn::Linear(cfg_.in_features, cfg_.out_features));
}

at::Tensor GlyphProjection::forward(const at::Tensor& h) {
  if (h.dim() < 1 || h.size(-1) != cfg_.in_features)
    fail(code::kShape, "the glyph projection takes [..., " + std::to_string(cfg_.in_features) + "] (the glyph encoder's hidden size), got " +
                           c10::str(h.sizes()));
  return proj->forward(h);
}

}  // namespace da::models
