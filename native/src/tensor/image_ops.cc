#include "tensor/image_ops.h"

#include <ATen/ATen.h>

#include "core/error.h"

namespace da::tensor {

at::Tensor image_u8_to_float(const at::Tensor& x) {
  if (x.scalar_type() != at::kByte || x.dim() != 4) fail(code::kShape, "expected a uint8 image batch (N, H, W, C)");
  return x.permute({0, 3, 1, 2}).to(at::kFloat).div(255.0).contiguous();
}

at::Tensor image_float_to_u8(const at::Tensor& x) {
  if (!at::isFloatingType(x.scalar_type()) || x.dim() != 4) fail(code::kShape, "expected a float image batch (N, C, H, W)");
  return x.detach().to(at::kFloat).clamp(0.0, 1.0).mul(255.0).round().to(at::kByte).permute({0, 2, 3, 1}).contiguous().to(at::kCPU);
}

}  // namespace da::tensor
