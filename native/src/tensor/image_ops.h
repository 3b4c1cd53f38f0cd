// Conversions between uint8 images (N, H, W, C) and float tensors (N, C, H, W) in [0, 1].
#pragma once
#include <ATen/core/Tensor.h>

namespace da::tensor {

// uint8 (N, H, W, C) -> float32 (N, C, H, W), x / 255.
at::Tensor image_u8_to_float(const at::Tensor& nhwc_u8);
// float (N, C, H, W) in [0, 1] -> uint8 (N, H, W, C): clamp, * 255, round half to even.
at::Tensor image_float_to_u8(const at::Tensor& nchw);

}  // namespace da::tensor
