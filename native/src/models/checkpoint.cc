#include "models/checkpoint.h"

#include <torch/autograd.h>
#include <ATen/core/ivalue.h>

#include "core/error.h"

namespace da::models {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

struct FnHolder : torch::CustomClassHolder {
  explicit FnHolder(CheckpointFn f) : fn(std::move(f)) {}
  CheckpointFn fn;
};

struct CheckpointFunction : torch::autograd::Function<CheckpointFunction> {
  static variable_list forward(AutogradContext* ctx, at::TensorList inputs, at::IValue fn) {
    ctx->saved_data["fn"] = fn;
    ctx->save_for_backward(inputs.vec());
    at::NoGradGuard no_grad;
    auto holder = c10::static_intrusive_pointer_cast<FnHolder>(fn.toCapsule());
    return {holder->fn(inputs.vec())};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
    auto holder = c10::static_intrusive_pointer_cast<FnHolder>(ctx->saved_data["fn"].toCapsule());
    variable_list saved = ctx->get_saved_variables();
    std::vector<at::Tensor> inputs;
    inputs.reserve(saved.size());
    for (const auto& t : saved) inputs.push_back(t.detach().requires_grad_(t.requires_grad()));
    at::Tensor out;
    {
      at::AutoGradMode grad_on(true);
      out = holder->fn(inputs);
    }
    if (out.requires_grad()) torch::autograd::backward({out}, {grad_outputs[0]});
    variable_list grads;
    for (const auto& t : inputs) grads.push_back(t.requires_grad() ? t.grad() : at::Tensor());
    grads.emplace_back();  // for the function argument
    return grads;
  }
};

}  // namespace

at::Tensor checkpoint(const CheckpointFn& fn, const std::vector<at::Tensor>& inputs) {
  for (const auto& t : inputs)
    if (!t.defined()) da::fail(code::kInternal, "checkpoint: every input must be a defined tensor");
  at::IValue capsule = at::IValue::make_capsule(c10::make_intrusive<FnHolder>(fn));
  return CheckpointFunction::apply(at::TensorList(inputs), capsule)[0];
}

}  // namespace da::models
