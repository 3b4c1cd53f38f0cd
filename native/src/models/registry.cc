#include "models/registry.h"

#include <ATen/ATen.h>

#include "core/json.h"
#include "models/glyph_projection.h"
#include "models/lpips.h"
#include "models/pretrained.h"
#include "models/unet.h"
#include "models/vae.h"
#include "models/vit.h"

namespace da::models {
namespace {

// Every kind with a config.json: load, create, save, config and schema from the model class alone.
template <class Impl>
struct Pretrained {
  static std::shared_ptr<torch::nn::Module> load(const std::string& dir, const ModelSpec& s) {
    LoadOptions o;
    o.dtype = s.dtype;
    o.device = s.device;
    if constexpr (std::is_same_v<Impl, UNet2DConditionModelImpl>) {
      if (s.in_channels > 0) {
        auto config = Impl::Config::from_file(dir + "/config.json");
        if (s.in_channels < config.in_channels)
          fail(code::kConfig, "inChannels " + std::to_string(s.in_channels) + " is below the UNet's " + std::to_string(config.in_channels) +
                                  ": input channels can be added on load, not removed");
        config.in_channels = s.in_channels;
        auto model = std::make_shared<Impl>(config);
        o.grow_input_channels = "conv_in.weight";
        load_into(*model, *WeightSource::open(find_weights(dir, Impl::kWeightsName, s.variant)), o);
        return model;
      }
    } else if (s.in_channels > 0) {
      fail(code::kArgument, "inChannels applies to UNets only");
    }
    return load_pretrained<Impl>(dir, o, s.variant);
  }
  static std::shared_ptr<torch::nn::Module> create(const std::string& config_json, const ModelSpec& s) {
    auto m = std::make_shared<Impl>(Impl::Config::from_json(json::parse(config_json, code::kConfig)));
    m->to(s.device, s.dtype);
    if constexpr (requires { m->after_load(); }) m->after_load();
    m->eval();
    return m;
  }
  static void save(const torch::nn::Module& m, const std::string& dir) { save_pretrained(dynamic_cast<const Impl&>(m), dir); }
  static std::string config_json(const torch::nn::Module& m) { return dynamic_cast<const Impl&>(m).config().to_json(); }
  static std::string config_schema() { return config::schema<typename Impl::Config>(); }

  static ModelTraits traits(ModelKind kind, const char* name) {
    return {kind, name, Impl::Config::kName, Impl::kWeightsName, &load, &create, &save, &config_json, &config_schema};
  }
};

std::shared_ptr<torch::nn::Module> load_lpips(const std::string& backbone, const ModelSpec& s) {
  auto m = std::make_shared<Lpips>();
  m->load(backbone, s.heads, s.dtype, s.device);
  return m;
}

const std::vector<ModelTraits>& all_traits() {
  static const std::vector<ModelTraits> t = [] {
    std::vector<ModelTraits> v{
        Pretrained<AutoencoderKLImpl>::traits(ModelKind::kVae, "vae"),
        Pretrained<UNet2DConditionModelImpl>::traits(ModelKind::kUnet, "unet"),
        Pretrained<GlyphEncoder>::traits(ModelKind::kGlyphEncoder, "glyph_encoder"),
        Pretrained<GlyphProjection>::traits(ModelKind::kGlyphProjection, "glyph_projection"),
        ModelTraits{ModelKind::kLpips, "lpips", "LPIPS", nullptr, &load_lpips, nullptr, nullptr, nullptr, nullptr},
    };
    v[2].class_name = "ViTModel";  // the glyph encoder's reference class (TrOCR's encoder)
    return v;
  }();
  return t;
}

}  // namespace

c10::Device Model::device() const {
  for (const auto& p : module->parameters()) return p.device();
  return c10::Device(c10::kCPU);
}

at::ScalarType Model::dtype() const {
  for (const auto& p : module->parameters())
    if (at::isFloatingType(p.scalar_type())) return p.scalar_type();
  return at::kFloat;
}

const std::vector<ModelKind>& model_kinds() {
  static const std::vector<ModelKind> kinds = [] {
    std::vector<ModelKind> v;
    for (const auto& t : all_traits()) v.push_back(t.kind);
    return v;
  }();
  return kinds;
}

const ModelTraits& traits(ModelKind kind) {
  for (const auto& t : all_traits())
    if (t.kind == kind) return t;
  fail(code::kInternal, "unknown model kind");
}

ModelKind model_kind(const std::string& name) {
  std::string names;
  for (const auto& t : all_traits()) {
    if (name == t.name) return t.kind;
    names += (names.empty() ? "" : ", ") + std::string(t.name);
  }
  fail(code::kArgument, "unknown model kind '" + name + "' (" + names + ")");
}

Model load_model(ModelKind kind, const std::string& path, const ModelSpec& spec) {
  return Model{kind, traits(kind).load(path, spec)};
}

Model create_model(ModelKind kind, const std::string& config_json, const ModelSpec& spec, std::optional<uint64_t> seed) {
  const ModelTraits& t = traits(kind);
  if (!t.create) fail(code::kUnsupported, std::string(t.name) + " models are loaded from their files, not created from a config");
  if (seed) at::manual_seed(*seed);
  return Model{kind, t.create(config_json, spec)};
}

}  // namespace da::models
