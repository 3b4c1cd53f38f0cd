// Elementwise steps on activations that nothing else holds (a norm's, a convolution's or a linear
// layer's fresh output): in place when autograd is off (inference), out of place under autograd,
// which may need the operand later. In place saves one activation-sized allocation per step; on
// the CPU a large one is a fresh mmap whose pages fault in one by one, so inference avoids them as
// far as the math allows. The kernels and the values are the same either way (a + b == b + a).
#pragma once
#include <ATen/ATen.h>

namespace da::models {

inline bool in_place_allowed() { return !at::GradMode::is_enabled(); }

// silu(fresh)
inline at::Tensor silu_of_fresh(at::Tensor fresh) { return in_place_allowed() ? at::silu_(fresh) : at::silu(fresh); }

// fresh + other
inline at::Tensor add_to_fresh(at::Tensor fresh, const at::Tensor& other) {
  return in_place_allowed() ? fresh.add_(other) : fresh + other;
}

// fresh / divisor
inline at::Tensor div_fresh(at::Tensor fresh, double divisor) {
  return in_place_allowed() ? fresh.div_(divisor) : fresh / divisor;
}

}  // namespace da::models
