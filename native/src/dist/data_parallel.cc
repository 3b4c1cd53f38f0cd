#include "dist/data_parallel.h"

#include <torch/autograd.h>

#include "core/error.h"

namespace da::dist {

void attach_data_parallel(train::Trainer& trainer, std::shared_ptr<ProcessGroup> group) {
  if (!group) fail(code::kInternal, "attach_data_parallel: no process group");
  {
    at::NoGradGuard no_grad;
    std::vector<at::Tensor> data;
    for (const auto& p : trainer.params()) data.push_back(p.param.detach());
    group->broadcast(data, 0);
  }
  if (group->world_size() == 1) return;
  trainer.gradient_hook = [group](const std::vector<train::NamedParam>& params) {
    std::vector<at::Tensor> grads;
    grads.reserve(params.size());
    for (const auto& p : params) {
      at::Tensor& g = p.param.mutable_grad();
      // A parameter unused on this rank's batch has no gradient, but may have one on another
      // rank: every rank must contribute the same buffers, so it takes zeros.
      if (!g.defined()) g = at::zeros_like(p.param);
      grads.push_back(g);
    }
    group->all_reduce_mean(grads);
  };
}

}  // namespace da::dist
