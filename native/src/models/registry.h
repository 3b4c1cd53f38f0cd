// The models this library runs, by kind, with what each kind can do: load a folder (or file),
// create from a config, save, give its config as JSON and describe its config's fields. The
// binding and the C++ harness hold and build models only through here, so one implementation of
// each operation serves every model kind.
#pragma once
#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>
#include <torch/nn/module.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"

namespace da::models {

enum class ModelKind { kVae, kUnet, kGlyphEncoder, kGlyphProjection, kLpips };

// How a model is loaded or created.
struct ModelSpec {
  at::ScalarType dtype = at::kFloat;  // floating weights are cast to it
  c10::Device device{c10::kCPU};
  std::string variant;  // weight file variant of a diffusers folder ("fp16"): empty = any
  std::string heads;    // LPIPS: its linear heads file (the path loaded is the VGG16 backbone)
  // UNet only, > 0: load with this many input channels instead of config.json's; conv_in's extra
  // input channels start at zero (glyph-aligned conditioning grown from a 9-channel UNet).
  int64_t in_channels = 0;
};

// A model of some kind, as the binding and the harness hold it.
struct Model {
  ModelKind kind;
  std::shared_ptr<torch::nn::Module> module;

  // The model as its class; ERR_ARGUMENT naming both kinds when it is another kind.
  template <class T>
  T& as() const {
    auto* p = dynamic_cast<T*>(module.get());
    if (!p) fail(code::kArgument, "the model is not the kind this call needs");
    return *p;
  }
  // The same as a shared pointer (for model holders: UNet2DConditionModel(m.typed<...Impl>())).
  template <class T>
  std::shared_ptr<T> typed() const {
    as<T>();
    return std::dynamic_pointer_cast<T>(module);
  }
  // The device and floating dtype of its weights (inputs are moved there).
  c10::Device device() const;
  at::ScalarType dtype() const;
};

struct ModelTraits {
  ModelKind kind;
  const char* name;        // "unet": the pipeline folder name, and the kind's name in JavaScript
  const char* class_name;  // the reference class: "UNet2DConditionModel"
  const char* weights_name;  // base name of its weights file ("diffusion_pytorch_model"; null: none)
  // A folder in the reference layout (LPIPS: the backbone file). Frozen kinds come back frozen.
  std::shared_ptr<torch::nn::Module> (*load)(const std::string& path, const ModelSpec& spec);
  // Default-initialised weights from a config (null: the kind cannot be created).
  std::shared_ptr<torch::nn::Module> (*create)(const std::string& config_json, const ModelSpec& spec);
  // Writes the reference layout (null: the kind cannot be saved).
  void (*save)(const torch::nn::Module& m, const std::string& dir);
  // The model's config.json text (null: the kind has no config).
  std::string (*config_json)(const torch::nn::Module& m);
  // The config's fields for the TypeScript types (config_fields.h; null: no config).
  std::string (*config_schema)();
};

const std::vector<ModelKind>& model_kinds();
const ModelTraits& traits(ModelKind kind);
// The kind named `name` ("vae", "unet", "glyph_encoder", "glyph_projection", "lpips"); ERR_ARGUMENT listing them.
ModelKind model_kind(const std::string& name);

Model load_model(ModelKind kind, const std::string& path, const ModelSpec& spec);
// libtorch's default initialisation after at::manual_seed(seed) when a seed is given.
Model create_model(ModelKind kind, const std::string& config_json, const ModelSpec& spec, std::optional<uint64_t> seed = std::nullopt);

}  // namespace da::models
