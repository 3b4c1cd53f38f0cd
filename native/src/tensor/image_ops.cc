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

at::Tensor model_image(const at::Tensor& t, const char* what) {
  if (t.scalar_type() == at::kByte) {
    if (t.dim() != 4 || t.size(3) != 3) fail(code::kShape, std::string(what) + " as uint8 must be [B, H, W, 3], got " + c10::str(t.sizes()));
    return t.permute({0, 3, 1, 2}).to(at::kFloat).div(127.5).sub(1.0).contiguous();
  }
  if (t.dim() != 4 || t.size(1) != 3) fail(code::kShape, std::string(what) + " must be [B, 3, H, W] float in [-1, 1] or [B, H, W, 3] uint8, got " + c10::str(t.sizes()));
  return t;
}

}  // namespace da::tensor
