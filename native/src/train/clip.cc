#include "train/clip.h"

#include <ATen/ATen.h>
#include <torch/autograd.h>

#include <cmath>

namespace da::train {

double clip_grad_norm(const std::vector<NamedParam>& params, double max_norm) {
  torch::NoGradGuard ng;
  std::vector<at::Tensor> norms;
  for (const auto& p : params) {
    const at::Tensor& g = p.param.grad();
    if (g.defined()) norms.push_back(at::linalg_vector_norm(g.to(at::kFloat), 2));
  }
  if (norms.empty()) return 0.0;
  const double total = at::linalg_vector_norm(at::stack(norms), 2).item<double>();
  if (!std::isfinite(total) || max_norm <= 0) return total;
  const double coef = max_norm / (total + 1e-6);
  if (coef < 1.0)
    for (const auto& p : params)
      if (p.param.grad().defined()) p.param.mutable_grad().mul_(coef);
  return total;
}

}  // namespace da::train
