// bf16 autocast for a scope, CUDA only: parameters stay float32 (master weights) and autocast
// runs matmuls/convolutions in bfloat16. On the CPU training is plain float32, so this is a no-op.
#pragma once
#include <ATen/autocast_mode.h>
#include <c10/core/Device.h>

namespace da::train {

class AutocastScope {
 public:
  AutocastScope(const c10::Device& device, bool enabled) : active_(enabled && device.is_cuda()) {
    if (!active_) return;
    prev_enabled_ = at::autocast::is_autocast_enabled(at::kCUDA);
    prev_dtype_ = at::autocast::get_autocast_dtype(at::kCUDA);
    at::autocast::set_autocast_dtype(at::kCUDA, at::kBFloat16);
    at::autocast::set_autocast_enabled(at::kCUDA, true);
    at::autocast::increment_nesting();
  }
  ~AutocastScope() {
    if (!active_) return;
    // Casted weight copies are cached per autocast region; drop them with the region.
    if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
    at::autocast::set_autocast_enabled(at::kCUDA, prev_enabled_);
    at::autocast::set_autocast_dtype(at::kCUDA, prev_dtype_);
  }
  AutocastScope(const AutocastScope&) = delete;
  AutocastScope& operator=(const AutocastScope&) = delete;

 private:
  bool active_;
  bool prev_enabled_ = false;
  at::ScalarType prev_dtype_ = at::kHalf;
};

}  // namespace da::train
