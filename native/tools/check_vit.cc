// TrOCR glyph encoder: preprocessing and encoder parity against glyph_encoder/, checkpoint key
// layouts (bare ViTModel / full VisionEncoderDecoder), config errors; full-size key manifests.
#include <ATen/ATen.h>

#include <unistd.h>

#include <filesystem>
#include <functional>
#include <map>
#include <fstream>
#include <set>
#include <sstream>

#include "core/fs_util.h"
#include "core/error.h"
#include "core/json.h"
#include "harness.h"
#include "io/safetensors.h"
#include "models/config_reader.h"
#include "models/pretrained.h"
#include "models/registry.h"
#include "models/vit.h"
#include "models/glyph_projection.h"
#include "models/weights.h"

namespace {

namespace fs = std::filesystem;
using da::models::GlyphEncoder;
using da::models::ViTConfig;

std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const da::Error& e) {
    return e.code() + ": " + e.what();
  } catch (const std::exception& e) {
    return std::string("std::exception: ") + e.what();
  }
  return "no error";
}

bool starts_with(const std::string& s, const std::string& p) { return s.rfind(p, 0) == 0; }

}  // namespace

DA_CHECK("parity.glyph_encoder") {
  const std::string dir = ctx.path("glyph_encoder");
  auto io = da::io::SafetensorsFile::open(dir + "/io.safetensors");
  const std::string cfg_text = da::models::read_text_file(dir + "/config.json");
  ViTConfig cfg = ViTConfig::from_json(da::json::parse(cfg_text, da::code::kConfig));
  const double tol = 1e-4;  // README: atol = rtol = 1e-4 on every encoder tensor

  // Preprocessing: uint8 NHWC -> uint8 antialiased bilinear resize -> (x - 127.5) / 127.5.
  at::Tensor resized;
  at::Tensor pix = da::models::preprocess_trocr_images(io->load("image_uint8"), cfg.image_size,
                                                       da::models::ImageLayout::kNHWC, &resized);
  ctx.compare("resized_uint8 (exact)", resized, io->load("resized_uint8"), 0);
  ctx.compare("pixel_values (exact)", pix, io->load("pixel_values"), 0);
  at::Tensor pix_nchw = da::models::preprocess_trocr_images(io->load("image_uint8").permute({0, 3, 1, 2}).contiguous(),
                                                            cfg.image_size, da::models::ImageLayout::kNCHW);
  ctx.compare("pixel_values from NCHW input (exact)", pix_nchw, io->load("pixel_values"), 0);
  ctx.compare("resized_uint8 vs PIL resize (1 level)", resized, io->load("resized_uint8_pil"), 1);

  // Encoder on the stored pixel_values, every intermediate.
  da::models::ModelSpec spec;
  spec.dtype = ctx.dtype;
  spec.device = ctx.device;
  auto enc = da::models::load_model(da::models::ModelKind::kGlyphEncoder, dir, spec).typed<GlyphEncoder>();
  auto out = enc->forward_all(io->load("pixel_values"));
  ctx.compare("embeddings", out.embeddings, io->load("embeddings"), tol, tol);
  for (size_t i = 0; i < out.layer_outputs.size(); ++i) {
    std::string k = "layer_" + std::to_string(i + 1) + "_output";
    if (io->has(k)) ctx.compare(k, out.layer_outputs[i], io->load(k), tol, tol);
    else ctx.expect(k, false, "missing in io.safetensors");
  }
  ctx.compare("last_hidden_state", out.last_hidden_state, io->load("last_hidden_state"), tol, tol);
  ctx.compare("last_hidden_state from our preprocessing", enc->forward(pix), io->load("last_hidden_state"), tol, tol);
  bool frozen = true;
  for (const auto& p : enc->parameters()) frozen = frozen && !p.requires_grad();
  ctx.expect("encoder frozen after load", frozen, "");

  // Checkpoint layouts: the same weights as a full TrOCR checkpoint (encoder. + decoder. keys).
  auto src = da::models::WeightSource::open(dir + "/model.safetensors");
  da::io::NamedTensors ved, ved_pooler, bare_missing;
  for (const auto& n : src->names()) {
    ved.emplace_back("encoder." + n, src->load(n));
    ved_pooler.emplace_back("encoder." + n, src->load(n));
    if (n != "layernorm.bias") bare_missing.emplace_back(n, src->load(n));
  }
  ved.emplace_back("decoder.model.decoder.embed_tokens.weight", at::zeros({4, 8}));
  ved.emplace_back("decoder.output_projection.weight", at::zeros({4, 8}));
  ved_pooler.emplace_back("encoder.pooler.dense.weight", at::zeros({cfg.hidden_size, cfg.hidden_size}));
  const std::string tmp = (fs::temp_directory_path() / ("docanon_vit_" + std::to_string(::getpid()))).string();
  fs::create_directories(tmp);
  da::io::write_safetensors(tmp + "/ved.safetensors", ved);
  da::io::write_safetensors(tmp + "/ved_pooler.safetensors", ved_pooler);
  da::io::write_safetensors(tmp + "/bare_missing.safetensors", bare_missing);
  {
    da::models::LoadOptions lo;
    lo.dtype = ctx.dtype;
    lo.device = ctx.device;
    GlyphEncoder e2(cfg);
    da::models::load_into(e2, *da::models::WeightSource::open(tmp + "/ved.safetensors"), lo);
    ctx.compare("VisionEncoderDecoder checkpoint (encoder. prefix, decoder. ignored)",
                e2.forward(io->load("pixel_values")), io->load("last_hidden_state"), tol, tol);
    GlyphEncoder e3(cfg);
    std::string err = error_of([&] { da::models::load_into(e3, *da::models::WeightSource::open(tmp + "/ved_pooler.safetensors")); });
    ctx.expect("extra encoder key -> ERR_WEIGHTS", starts_with(err, "ERR_WEIGHTS") && err.find("pooler") != std::string::npos, err);
    GlyphEncoder e4(cfg);
    err = error_of([&] { da::models::load_into(e4, *da::models::WeightSource::open(tmp + "/bare_missing.safetensors")); });
    ctx.expect("missing key -> ERR_WEIGHTS", starts_with(err, "ERR_WEIGHTS") && err.find("layernorm.bias") != std::string::npos, err);
  }
  da::fs::remove_tree(std::filesystem::path(tmp).string());

  // Config: a VisionEncoderDecoder config's encoder section; unsupported values name the field.
  {
    std::string ved_cfg = "{\"model_type\": \"vision-encoder-decoder\", \"decoder\": {\"model_type\": \"trocr\"}, \"encoder\": " + cfg_text + "}";
    ViTConfig c2 = ViTConfig::from_json(da::json::parse(ved_cfg, da::code::kConfig));
    GlyphEncoder e5(c2);
    ctx.expect("VisionEncoderDecoder config -> same encoder",
               da::models::parameter_count(e5) == da::models::parameter_count(*enc) && c2.layer_norm_eps == cfg.layer_norm_eps &&
                   c2.qkv_bias == cfg.qkv_bias, "");
    struct Bad { const char* json; const char* field; };
    const Bad bad[] = {{R"({"hidden_act": "relu"})", "hidden_act"},
                       {R"({"model_type": "deit"})", "model_type"},
                       {R"({"hidden_size": 30, "num_attention_heads": 4})", "num_attention_heads"},
                       {R"({"image_size": 30, "patch_size": 16})", "image_size"},
                       {R"({"qkv_bias": "no"})", "qkv_bias"}};
    for (const Bad& b : bad) {
      std::string err = error_of([&] { ViTConfig::from_json(da::json::parse(b.json, da::code::kConfig)); });
      ctx.expect(std::string("config error ") + b.json, starts_with(err, "ERR_CONFIG") && err.find(b.field) != std::string::npos, err);
    }
  }
  // Wrong input size -> ERR_SHAPE; projection shape.
  std::string err = error_of([&] { enc->forward(at::zeros({1, 3, cfg.image_size + 8, cfg.image_size})); });
  ctx.expect("wrong image size -> ERR_SHAPE", starts_with(err, "ERR_SHAPE"), err);
  da::models::GlyphProjectionConfig pc;
  pc.in_features = cfg.hidden_size;
  pc.out_features = 48;
  da::models::GlyphProjection proj(pc);
  at::Tensor pr = proj.forward(out.last_hidden_state.to(at::kCPU, at::kFloat));
  ctx.expect("GlyphProjection shape", pr.size(-1) == 48 && pr.size(1) == cfg.sequence_length(),
             "keys proj.weight, proj.bias");
}

DA_CHECK("manifest.trocr") {
  struct M { const char* file; int64_t params; ViTConfig builtin; };
  const M ms[] = {{"manifests/trocr_encoder_base.json", 86062848, ViTConfig::trocr_base()},
                  {"manifests/trocr_encoder_large.json", 303617024, ViTConfig::trocr_large()}};
  for (const M& m : ms) {
    auto root = da::json::parse(da::models::read_text_file(ctx.path(m.file)), da::code::kConfig);
    ViTConfig cfg = ViTConfig::from_json(*root.find("config"));
    GlyphEncoder enc(cfg);
    std::map<std::string, std::vector<int64_t>> got;
    for (const auto& [k, t] : da::models::state_dict(enc)) got[k] = t.sizes().vec();
    auto read_keys = [&](const char* field, const std::string& strip) {
      std::map<std::string, std::vector<int64_t>> want;
      for (const auto& e : root.find(field)->as_array()) {
        std::string name = e.find("name")->as_string();
        if (!strip.empty()) name = name.substr(strip.size());
        std::vector<int64_t> shape;
        for (const auto& d : e.find("shape")->as_array()) shape.push_back(d.as_int());
        want[name] = shape;
      }
      return want;
    };
    auto want = read_keys("keys", "");
    auto want_ved = read_keys("vision_encoder_decoder_checkpoint_keys", "encoder.");
    auto diff = [&](const std::map<std::string, std::vector<int64_t>>& w) {
      std::ostringstream os;
      int n = 0;
      for (const auto& [k, s] : w)
        if (!got.count(k) || got[k] != s) { if (n++ < 3) os << " missing/shape " << k; }
      for (const auto& [k, s] : got)
        if (!w.count(k)) { if (n++ < 6) os << " extra " << k; }
      return std::make_pair(n == 0, std::to_string(got.size()) + " keys" + os.str());
    };
    auto [ok1, d1] = diff(want);
    ctx.expect(std::string(m.file) + " keys and shapes", ok1, d1);
    auto [ok2, d2] = diff(want_ved);
    ctx.expect(std::string(m.file) + " VisionEncoderDecoder keys (encoder. stripped)", ok2, d2);
    int64_t count = da::models::parameter_count(enc);
    int64_t manifest_count = root.find("param_count")->find("encoder_without_pooler")->as_int();
    ctx.expect(std::string(m.file) + " parameter count", count == m.params && count == manifest_count,
               std::to_string(count) + " (manifest " + std::to_string(manifest_count) + ")");
    const ViTConfig& b = m.builtin;
    ctx.expect(std::string(m.file) + " built-in config matches",
               b.hidden_size == cfg.hidden_size && b.num_hidden_layers == cfg.num_hidden_layers &&
                   b.num_attention_heads == cfg.num_attention_heads && b.intermediate_size == cfg.intermediate_size &&
                   b.image_size == cfg.image_size && b.patch_size == cfg.patch_size && b.qkv_bias == cfg.qkv_bias &&
                   b.layer_norm_eps == cfg.layer_norm_eps && b.num_channels == cfg.num_channels &&
                   b.sequence_length() == root.find("sequence_length")->as_int(),
               "");
  }
}
