// Global-norm gradient clipping (torch.nn.utils.clip_grad_norm_ with norm_type 2): the norm of
// all gradients together, computed in float32; when it exceeds max_norm every gradient is scaled
// by max_norm / (norm + 1e-6).
#pragma once
#include "train/params.h"

namespace da::train {

// Returns the total norm before clipping. max_norm <= 0 only measures. A non-finite norm leaves
// the gradients untouched (the caller skips the update).
double clip_grad_norm(const std::vector<NamedParam>& params, double max_norm);

}  // namespace da::train
