#include "train/params.h"

#include "core/error.h"

namespace da::train {

std::vector<NamedParam> trainable_parameters(const torch::nn::Module& module) {
  std::vector<NamedParam> out;
  for (const auto& item : module.named_parameters(true)) {
    const at::Tensor& p = item.value();
    if (!p.requires_grad()) continue;
    if (p.scalar_type() != at::kFloat)
      fail(code::kDtype, "trainable parameter " + item.key() + " is " + std::string(c10::toString(p.scalar_type())) +
                             "; training keeps float32 master weights (load the model in float32; bf16 is used through autocast on CUDA)");
    out.push_back({item.key(), p});
  }
  if (out.empty()) fail(code::kArgument, "the model has no trainable parameters (every parameter has requires_grad false)");
  return out;
}

void zero_grads(const std::vector<NamedParam>& params) {
  for (const auto& p : params) {
    at::Tensor& g = p.param.mutable_grad();
    if (g.defined()) g = at::Tensor();
  }
}

}  // namespace da::train
