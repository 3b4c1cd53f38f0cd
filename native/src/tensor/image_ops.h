// Conversions between uint8 images (N, H, W, C) and float tensors (N, C, H, W) in [0, 1].
#pragma once
#include <ATen/core/Tensor.h>

namespace da::tensor {

// uint8 (N, H, W, C) -> float32 (N, C, H, W), x / 255.
at::Tensor image_u8_to_float(const at::Tensor& nhwc_u8);
// float (N, C, H, W) in [0, 1] -> uint8 (N, H, W, C): clamp, * 255, round half to even.
at::Tensor image_float_to_u8(const at::Tensor& nchw);
// What the models take, float (N, 3, H, W) in [-1, 1], from what the training data pipeline sends:
// uint8 (N, H, W, 3) (4x smaller to carry; x / 127.5 - 1) or float (N, 3, H, W) already in [-1, 1]
// (returned as is). ERR_SHAPE naming `what` otherwise.
at::Tensor model_image(const at::Tensor& image, const char* what);

}  // namespace da::tensor
