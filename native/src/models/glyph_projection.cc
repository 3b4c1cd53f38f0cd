#include "models/glyph_projection.h"

#include <filesystem>

#include "core/error.h"
#include "models/config_reader.h"
#include "models/weights.h"

namespace da::models {

GlyphProjectionConfig GlyphProjectionConfig::from_json(const json::Value& root) {
  ConfigReader r(root, "GlyphProjection");
  GlyphProjectionConfig c;
  c.in_features = r.get_int("in_features", c.in_features);
  c.out_features = r.get_int("out_features", c.out_features);
  if (c.in_features <= 0) r.fail("in_features", "must be positive (the glyph encoder's hidden_size)");
  if (c.out_features <= 0) r.fail("out_features", "must be positive (the UNet's cross_attention_dim)");
  r.at_most("in_features", c.in_features, 65536);
  r.at_most("out_features", c.out_features, 65536);
  r.finish();
  return c;
}

std::string GlyphProjectionConfig::to_json() const {
  JsonWriter w;
  w.field("_class_name", "GlyphProjection");
  w.field("in_features", in_features);
  w.field("out_features", out_features);
  return w.str();
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

void GlyphProjection::save_pretrained(const std::string& dir) const {
  namespace fs = std::filesystem;
  fs::create_directories(dir);
  save_weights(*this, (fs::path(dir) / "model.safetensors").string(), {{"format", "pt"}});
  write_text_file((fs::path(dir) / "config.json").string(), cfg_.to_json());
}

std::shared_ptr<GlyphProjection> load_glyph_projection(const std::string& dir, at::ScalarType dtype, c10::Device device) {
  auto p = std::make_shared<GlyphProjection>(
      GlyphProjectionConfig::from_json(json::parse(read_text_file(dir + "/config.json"), code::kConfig)));
  LoadOptions o;
  o.dtype = dtype;
  o.device = device;
  load_weights(*p, *WeightSource::open(dir + "/model.safetensors"), o);
  return p;
}

}  // namespace da::models
