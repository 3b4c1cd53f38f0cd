// LPIPS v0.1 with the VGG16 trunk, computed as the lpips package does (richzhang/
// PerceptualSimilarity): scaling layer, VGG16 relu1_2..relu5_3, unit-normalized channels (eps
// 1e-10), squared differences, learned 1x1 heads, spatial mean, sum over the five layers.
// A training loss: differentiable w.r.t. both inputs; its own weights are frozen.
//
// Weights come from two files, under their reference key names:
//  - the VGG16 ImageNet backbone, torchvision names `features.N.weight` / `features.N.bias`
//    (torchvision's vgg16-397923af.pth converted to safetensors; `classifier.*` keys of a full
//    vgg16 file are ignored). It is NOT shipped: the user supplies it.
//  - the v0.1 linear heads, lpips' names `lin0.model.1.weight` .. `lin4.model.1.weight`
//    (lpips_v0.1_vgg_lin.safetensors, BSD-2-Clause, shipped with the package).
#pragma once
#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/conv.h>

#include <memory>
#include <string>
#include <vector>

namespace da::models {

struct LpipsOutput {
  at::Tensor dist;                  // (N,1,1,1): sum of the per-layer terms
  std::vector<at::Tensor> layers;   // five (N,1,1,1) terms: relu1_2, relu2_2, relu3_3, relu4_3, relu5_3
  // With keep_features: raw VGG slice outputs of each input and the squared differences of the
  // normalized features, per layer (N,C_k,H_k,W_k).
  std::vector<at::Tensor> feats0, feats1, diffs;
};

// One learned head: Sequential(Dropout, Conv2d(C, 1, 1, bias=False)) -> key `model.1.weight`.
class LpipsLinLayer : public torch::nn::Module {
 public:
  explicit LpipsLinLayer(int64_t channels);
  at::Tensor forward(const at::Tensor& x);  // dropout is inactive (eval), so only the 1x1 conv
  torch::nn::Conv2d conv{nullptr};
};

class Lpips : public torch::nn::Module {
 public:
  Lpips();  // VGG16 trunk + heads with zero weights (load() fills them)

  // Loads both files strictly. A missing backbone file is ERR_WEIGHTS saying the user must supply it.
  // Leaves every parameter frozen (requires_grad false) and the module in eval mode.
  void load(const std::string& backbone_path, const std::string& lin_path, at::ScalarType dtype = at::kFloat,
            c10::Device device = c10::kCPU);

  // in0, in1: (N,3,H,W) in [-1, 1] (normalize=true maps [0, 1] inputs first). Same shapes.
  LpipsOutput forward(const at::Tensor& in0, const at::Tensor& in1, bool normalize = false, bool keep_features = false);
  // The per-sample distance (N,1,1,1).
  at::Tensor distance(const at::Tensor& in0, const at::Tensor& in1, bool normalize = false) {
    return forward(in0, in1, normalize, false).dist;
  }

  // The five VGG16 slice outputs (relu1_2 .. relu5_3) of an already-scaled input.
  std::vector<at::Tensor> vgg_slices(const at::Tensor& x);
  // (x - shift) / scale with lpips' float32 constants.
  at::Tensor scaling_layer(const at::Tensor& x) const;

  static const std::vector<int64_t>& channels();  // 64, 128, 256, 512, 512

  std::shared_ptr<torch::nn::Module> features;  // children "0", "2", ... (the conv layers)
  std::vector<torch::nn::Conv2d> convs;         // in order, for the forward
  std::vector<std::shared_ptr<LpipsLinLayer>> lins;

 private:
  at::Tensor shift_, scale_;  // (1,3,1,1) float32
};

}  // namespace da::models
