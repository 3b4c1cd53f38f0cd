#include "models/lpips.h"

#include <ATen/ATen.h>

#include <filesystem>
#include <sstream>

#include "core/error.h"
#include "models/weights.h"

namespace da::models {

namespace {
// torchvision vgg16 `features`: conv channel counts, 0 = 2x2 max-pool (config "D").
const std::vector<int64_t> kVgg16 = {64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512, 0};
// lpips' slices end after these `features` indices: relu1_2, relu2_2, relu3_3, relu4_3, relu5_3.
const int64_t kSliceEnds[] = {3, 8, 15, 22, 29};
}  // namespace

LpipsLinLayer::LpipsLinLayer(int64_t channels) {
  auto model = register_module("model", std::make_shared<torch::nn::Module>());
  conv = model->register_module("1", torch::nn::Conv2d(torch::nn::Conv2dOptions(channels, 1, 1).bias(false)));
}

at::Tensor LpipsLinLayer::forward(const at::Tensor& x) { return conv->forward(x); }

const std::vector<int64_t>& Lpips::channels() {
  static const std::vector<int64_t> c = {64, 128, 256, 512, 512};
  return c;
}

Lpips::Lpips() {
  features = register_module("features", std::make_shared<torch::nn::Module>());
  int64_t idx = 0, in = 3;
  for (int64_t v : kVgg16) {
    if (v == 0) {
      idx += 1;  // max-pool: no parameters
      continue;
    }
    convs.push_back(features->register_module(std::to_string(idx), torch::nn::Conv2d(torch::nn::Conv2dOptions(in, v, 3).padding(1))));
    in = v;
    idx += 2;  // conv + relu
  }
  for (size_t k = 0; k < channels().size(); ++k)
    lins.push_back(register_module("lin" + std::to_string(k), std::make_shared<LpipsLinLayer>(channels()[k])));
  // lpips' ScalingLayer buffers: the float32 values of the literals -.030,-.088,-.188 / .458,.448,.450.
  shift_ = at::tensor(std::vector<float>{-.030f, -.088f, -.188f}).view({1, 3, 1, 1});
  scale_ = at::tensor(std::vector<float>{.458f, .448f, .450f}).view({1, 3, 1, 1});
  for (auto& p : parameters()) p.set_requires_grad(false);
  eval();
}

void Lpips::load(const std::string& backbone_path, const std::string& lin_path, at::ScalarType dtype, c10::Device device) {
  if (!std::filesystem::exists(backbone_path))
    fail(code::kWeights,
         "LPIPS needs the VGG16 ImageNet backbone, which is not shipped with this package and must be supplied "
         "by the user: '" + backbone_path + "' does not exist. Convert torchvision's vgg16-397923af.pth "
         "(VGG16_Weights.IMAGENET1K_V1) to safetensors, keeping its key names features.N.weight / features.N.bias "
         "(classifier.* keys may stay; they are ignored).");
  if (!std::filesystem::exists(lin_path))
    fail(code::kWeights, "LPIPS linear heads not found at '" + lin_path + "' (lpips_v0.1_vgg_lin.safetensors)");
  LoadOptions o;
  o.dtype = dtype;
  o.device = device;
  // Two strict loads through views that share this module's layers, one per file.
  {
    torch::nn::Module view;
    view.register_module("features", features);
    LoadOptions ob = o;
    ob.ignore_prefixes = {"classifier."};
    load_weights(view, *WeightSource::open(backbone_path), ob);
  }
  {
    torch::nn::Module view;
    for (size_t k = 0; k < lins.size(); ++k) view.register_module("lin" + std::to_string(k), lins[k]);
    load_weights(view, *WeightSource::open(lin_path), o);
  }
  for (auto& p : parameters()) p.set_requires_grad(false);
  eval();
}

at::Tensor Lpips::scaling_layer(const at::Tensor& x) const {
  return (x - shift_.to(x.device(), x.scalar_type())) / scale_.to(x.device(), x.scalar_type());
}

std::vector<at::Tensor> Lpips::vgg_slices(const at::Tensor& x_in) {
  std::vector<at::Tensor> outs;
  at::Tensor x = x_in;
  int64_t idx = 0;
  size_t conv_i = 0, slice = 0;
  for (int64_t v : kVgg16) {
    if (v == 0) {
      x = at::max_pool2d(x, {2, 2}, {2, 2});
      idx += 1;
    } else {
      x = at::relu(convs[conv_i++]->forward(x));
      idx += 2;
    }
    if (slice < 5 && idx - 1 == kSliceEnds[slice]) {
      outs.push_back(x);
      if (++slice == 5) break;  // features[30] (the last pool) is not used
    }
  }
  return outs;
}

LpipsOutput Lpips::forward(const at::Tensor& in0_raw, const at::Tensor& in1_raw, bool normalize, bool keep) {
  if (in0_raw.dim() != 4 || in0_raw.size(1) != 3 || in0_raw.sizes() != in1_raw.sizes()) {
    std::ostringstream os;
    os << "LPIPS expects two (N,3,H,W) batches of the same shape, got " << in0_raw.sizes() << " and " << in1_raw.sizes();
    fail(code::kShape, os.str());
  }
  if (!at::isFloatingType(in0_raw.scalar_type()) || !at::isFloatingType(in1_raw.scalar_type()))
    fail(code::kDtype, "LPIPS expects floating-point images");
  const at::Tensor& w = convs[0]->weight;
  at::Tensor in0 = in0_raw.to(w.device(), w.scalar_type()), in1 = in1_raw.to(w.device(), w.scalar_type());
  if (normalize) {
    in0 = 2 * in0 - 1;
    in1 = 2 * in1 - 1;
  }
  std::vector<at::Tensor> o0 = vgg_slices(scaling_layer(in0)), o1 = vgg_slices(scaling_layer(in1));
  auto unit = [](const at::Tensor& f) { return f / (at::sqrt(at::sum(f.pow(2), {1}, true)) + 1e-10); };
  LpipsOutput out;
  for (size_t k = 0; k < o0.size(); ++k) {
    at::Tensor d = (unit(o0[k]) - unit(o1[k])).pow(2);
    at::Tensor r = lins[k]->forward(d).mean({2, 3}, true);
    out.layers.push_back(r);
    out.dist = k == 0 ? r : out.dist + r;
    if (keep) {
      out.feats0.push_back(o0[k]);
      out.feats1.push_back(o1[k]);
      out.diffs.push_back(d);
    }
  }
  return out;
}

}  // namespace da::models
