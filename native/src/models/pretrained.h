// Model folders in their reference layout, for every model: config.json plus the weights under the
// model's file name (diffusers: diffusion_pytorch_model[.variant].safetensors or its sharded
// index; transformers and ours: model.safetensors). A model class Impl declares
//   using Config = ...;                           // config::Declared (config_fields.h)
//   static constexpr const char* kWeightsName;    // the weights' base name
// and optionally
//   static LoadOptions load_options_for(const WeightSource&);  // key prefixes of other layouts
//   void after_load();                                          // e.g. freeze a frozen encoder
#pragma once
#include <memory>
#include <string>

#include "models/config_reader.h"
#include "models/weights.h"

namespace da::models {

// Loads weights from `source` into `model` strictly (every key present, no extra key, every
// shape equal), with the model's own layout rules, and leaves it in eval mode.
template <class Impl>
void load_into(Impl& model, const WeightSource& source, const LoadOptions& options = {}) {
  LoadOptions o = options;
  if constexpr (requires { Impl::load_options_for(source); }) {
    LoadOptions layout = Impl::load_options_for(source);
    o.strip_prefix = layout.strip_prefix;
    o.ignore_prefixes = layout.ignore_prefixes;
  }
  load_weights(model, source, o);
  if constexpr (requires { model.after_load(); }) model.after_load();
  model.eval();
}

// A model folder: config.json and its weights (variants and shards, see find_weights).
template <class Impl>
std::shared_ptr<Impl> load_pretrained(const std::string& dir, const LoadOptions& options = {}, const std::string& variant = "") {
  auto model = std::make_shared<Impl>(Impl::Config::from_file(dir + "/config.json"));
  load_into(*model, *WeightSource::open(find_weights(dir, Impl::kWeightsName, variant)), options);
  return model;
}

// Writes a folder in the reference layout: config.json and <weights_name>.safetensors holding
// `state` (atomic writes). save_pretrained writes a model's own weights; a trainer its EMA weights.
void write_pretrained(const std::string& dir, const std::string& config_json, const std::string& weights_name, const io::NamedTensors& state);

template <class Impl>
void save_pretrained(const Impl& model, const std::string& dir) {
  io::NamedTensors state;
  for (auto& [k, t] : state_dict(model)) state.emplace_back(k, t);
  write_pretrained(dir, model.config().to_json(), Impl::kWeightsName, state);
}

}  // namespace da::models
