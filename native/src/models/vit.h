// The TrOCR glyph encoder: transformers' ViTModel as TrOCR configures it (qkv_bias false, exact
// erf GELU, no pooler), with module and parameter names equal to the checkpoint (on-disk) key
// names, e.g. `encoder.layer.3.attention.attention.query.weight`. Plus the TrOCR image
// preprocessing and an optional trainable projection to the UNet's cross_attention_dim.
#pragma once
#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>

#include <memory>
#include <string>
#include <vector>

#include "core/json.h"
#include "models/config_fields.h"
#include "models/weights.h"

namespace da::models {

// transformers ViTConfig (the fields the encoder uses). TrOCR: image 384, patch 16, qkv_bias false,
// layer_norm_eps 1e-12; base 768/12/12/3072, large 1024/24/16/4096. Keys the encoder does not use
// (architectures, pooler_*, id2label, ...) are ignored as transformers does.
struct ViTConfig : config::Declared<ViTConfig> {
  static constexpr const char* kName = "ViT (TrOCR encoder)";
  static constexpr bool kWriteClassName = false;  // transformers configs name their type in model_type
  static constexpr config::Unknown kUnknown = config::Unknown::kIgnore;

  int64_t hidden_size = 768;
  int64_t num_hidden_layers = 12;
  int64_t num_attention_heads = 12;
  int64_t intermediate_size = 3072;
  double layer_norm_eps = 1e-12;
  int64_t image_size = 224;
  int64_t patch_size = 16;
  int64_t num_channels = 3;
  bool qkv_bias = true;
  double hidden_dropout_prob = 0.0;            // no effect: the encoder is frozen and runs in eval mode
  double attention_probs_dropout_prob = 0.0;   // likewise

  template <class V>
  void fields(V& v) {
    v.fixed("model_type", "vit", "The encoder architecture: TrOCR base and large use ViT encoders.");
    v.field("hidden_size", hidden_size, "Token width (768 TrOCR-base, 1024 TrOCR-large).");
    v.field("num_hidden_layers", num_hidden_layers, "Encoder layers.");
    v.field("num_attention_heads", num_attention_heads, "Attention heads (must divide hidden_size).");
    v.field("intermediate_size", intermediate_size, "MLP width.");
    v.field("layer_norm_eps", layer_norm_eps, "LayerNorm epsilon.");
    v.field("image_size", image_size, "Side of the square input image (384 for TrOCR).");
    v.field("patch_size", patch_size, "Side of a patch (16): tokens = 1 + (image_size / patch_size)^2.");
    v.field("num_channels", num_channels, "Image channels.");
    v.field("qkv_bias", qkv_bias, "Biases on the query/key/value projections (false for TrOCR).");
    v.fixed("hidden_act", "gelu", "Activation: gelu (the exact erf form TrOCR uses).");
    v.field("hidden_dropout_prob", hidden_dropout_prob, "No effect: the encoder runs frozen in eval mode.");
    v.field("attention_probs_dropout_prob", attention_probs_dropout_prob, "No effect: the encoder runs frozen in eval mode.");
  }
  // Positive sizes that divide, bounds (ERR_CONFIG).
  void validate(const ConfigReader& r) const;

  int64_t num_patches() const { return (image_size / patch_size) * (image_size / patch_size); }
  int64_t sequence_length() const { return num_patches() + 1; }

  // A bare ViT config.json (model_type "vit"), or a VisionEncoderDecoder config.json (its
  // `encoder` section is read).
  static ViTConfig from_json(const json::Value& config);
  // The microsoft/trocr-{base,large}-printed encoder configs.
  static ViTConfig trocr_base();
  static ViTConfig trocr_large();
};

class ViTPatchEmbeddings : public torch::nn::Module {
 public:
  explicit ViTPatchEmbeddings(const ViTConfig& c);
  at::Tensor forward(const at::Tensor& pixel_values);  // (N,C,S,S) -> (N, P, hidden)
  torch::nn::Conv2d projection{nullptr};
};

class ViTEmbeddings : public torch::nn::Module {
 public:
  explicit ViTEmbeddings(const ViTConfig& c);
  at::Tensor forward(const at::Tensor& pixel_values);  // (N, 1+P, hidden), CLS first
  at::Tensor cls_token;            // (1, 1, hidden)
  at::Tensor position_embeddings;  // (1, 1+P, hidden)
  std::shared_ptr<ViTPatchEmbeddings> patch_embeddings;
};

// query/key/value projections (transformers' ViTSelfAttention).
class ViTSelfAttention : public torch::nn::Module {
 public:
  explicit ViTSelfAttention(const ViTConfig& c);
  at::Tensor forward(const at::Tensor& x);  // merged heads, before the output projection
  torch::nn::Linear query{nullptr}, key{nullptr}, value{nullptr};
  int64_t heads;
};

class ViTDense : public torch::nn::Module {  // ViTSelfOutput / ViTIntermediate / ViTOutput: one `dense`
 public:
  ViTDense(int64_t in, int64_t out);
  torch::nn::Linear dense{nullptr};
};

class ViTAttention : public torch::nn::Module {
 public:
  explicit ViTAttention(const ViTConfig& c);
  at::Tensor forward(const at::Tensor& x);
  std::shared_ptr<ViTSelfAttention> attention;
  std::shared_ptr<ViTDense> output;
};

class ViTLayer : public torch::nn::Module {
 public:
  explicit ViTLayer(const ViTConfig& c);
  // Pre-norm block: x + attn(ln_before(x)), then + fc2(gelu(fc1(ln_after(x)))).
  at::Tensor forward(const at::Tensor& x);
  std::shared_ptr<ViTAttention> attention;
  std::shared_ptr<ViTDense> intermediate;
  std::shared_ptr<ViTDense> output;
  torch::nn::LayerNorm layernorm_before{nullptr}, layernorm_after{nullptr};
};

class ViTEncoder : public torch::nn::Module {
 public:
  explicit ViTEncoder(const ViTConfig& c);
  torch::nn::ModuleList layer{nullptr};
};

struct GlyphEncoderOutput {
  at::Tensor last_hidden_state;           // (N, 1+P, hidden), after the final layernorm
  at::Tensor embeddings;                  // input of layer 1 (only with keep_intermediates)
  std::vector<at::Tensor> layer_outputs;  // output of each layer, before the final layernorm
};

// transformers ViTModel(config, add_pooling_layer=False).
class GlyphEncoder : public torch::nn::Module {
 public:
  using Config = ViTConfig;
  static constexpr const char* kWeightsName = "model";  // transformers' file name

  explicit GlyphEncoder(const ViTConfig& c);
  const ViTConfig& config() const { return cfg_; }

  // pixel_values: float (N, C, image_size, image_size), already normalized (see
  // preprocess_trocr_images). Returns last_hidden_state (N, 1+P, hidden).
  at::Tensor forward(const at::Tensor& pixel_values);
  GlyphEncoderOutput forward_all(const at::Tensor& pixel_values, bool keep_intermediates = true);

  // Checkpoints come as a bare ViTModel (`embeddings.*`, `encoder.layer.*`, `layernorm.*`) or as a
  // full TrOCR VisionEncoderDecoder (`encoder.`-prefixed, whose `decoder.` keys are ignored); both
  // load strictly (ERR_WEIGHTS naming missing/unexpected/mis-shaped keys). The options for `source`:
  static LoadOptions load_options_for(const WeightSource& source);
  // After loading: frozen (requires_grad false), as the glyph encoder is never trained.
  void after_load();

  std::shared_ptr<ViTEmbeddings> embeddings;
  std::shared_ptr<ViTEncoder> encoder;
  torch::nn::LayerNorm layernorm{nullptr};

 private:
  ViTConfig cfg_;
};

enum class ImageLayout { kNHWC, kNCHW };

// TrOCR preprocessing as transformers 5's ViTImageProcessor (torchvision backend) does it: uint8
// RGB (or grayscale, replicated to 3 channels) -> antialiased bilinear resize to size x size on
// uint8 (ATen's _upsample_bilinear2d_aa, align_corners false, the kernel torchvision calls) ->
// float32 (x - 127.5) / 127.5. Input (N,H,W,C) or (N,C,H,W) uint8; output (N,3,size,size) float32
// on the input's device. `resized_u8`, when given, receives the uint8 resize (N,3,size,size).
at::Tensor preprocess_trocr_images(const at::Tensor& images_u8, int64_t size, ImageLayout layout,
                                   at::Tensor* resized_u8 = nullptr);

}  // namespace da::models
