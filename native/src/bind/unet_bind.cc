// UNet2DConditionModel calls: unetForward(unet, { sample, timesteps, encoderHiddenStates,
// intermediates? }) and unetLoss(unet, { ..., target, backward? }) (train::unet_forward_loss).
#include <ATen/ATen.h>
#include <torch/autograd.h>

#include "bind/errors.h"
#include "bind/model_handle.h"
#include "bind/options.h"
#include "bind/register.h"
#include "bind/tensor_handle.h"
#include "bind/worker.h"
#include "core/error.h"
#include "models/unet.h"
#include "train/unet_loss.h"

namespace da::bind {
namespace {

using models::UNet2DConditionModelImpl;

struct UnetInputs {
  at::Tensor sample, timesteps, context;
};

UnetInputs read_inputs(Options& o) { return {o.tensor("sample"), o.tensor("timesteps"), o.tensor("encoderHiddenStates")}; }

void check_inputs(const UnetInputs& a, const UNet2DConditionModelImpl& unet) {
  const auto& c = unet.config();
  if (a.sample.dim() != 4 || a.sample.size(1) != c.in_channels)
    fail(code::kShape, "sample must be [B, " + std::to_string(c.in_channels) + ", h, w], got " + c10::str(a.sample.sizes()));
  const int64_t b = a.sample.size(0);
  if (a.timesteps.dim() > 1 || (a.timesteps.dim() == 1 && a.timesteps.size(0) != b && a.timesteps.size(0) != 1))
    fail(code::kShape, "timesteps must be a scalar, [1] or [B]");
  if (a.context.dim() != 3 || (a.context.size(0) != b) || a.context.size(2) != c.cross_attention_dim.at(0))
    fail(code::kShape, "encoderHiddenStates must be [B, S, " + std::to_string(c.cross_attention_dim.at(0)) + "], got " + c10::str(a.context.sizes()));
}

Napi::Value UnetForward(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    ModelPtr box = ModelHandle::Of(info[0], models::ModelKind::kUnet, "unet");
    Options o(info[1], "options");
    UnetInputs a = read_inputs(o);
    bool intermediates = o.boolean("intermediates").value_or(false);
    o.finish();
    return run_async<NamedTensors>(
        env,
        [box, a, intermediates]() {
          ModelLocks lock({box});
          torch::NoGradGuard ng;
          auto& unet = box->model.as<UNet2DConditionModelImpl>();
          check_inputs(a, unet);
          const c10::Device d = box->model.device();
          const at::ScalarType t = box->model.dtype();
          models::UNetIntermediates im;
          at::Tensor out = unet.forward(a.sample.to(d, t), a.timesteps.to(d), a.context.to(d, t), intermediates ? &im : nullptr);
          return NamedTensors{{"sample", out}, {"timeProj", im.time_proj}, {"timeEmbedding", im.time_embedding}, {"midBlock", im.mid_block}};
        },
        named_tensors_to_js);
  });
}

Napi::Value UnetLoss(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    ModelPtr box = ModelHandle::Of(info[0], models::ModelKind::kUnet, "unet");
    Options o(info[1], "options");
    UnetInputs a = read_inputs(o);
    at::Tensor target = o.tensor("target");
    bool backward = o.boolean("backward").value_or(false);
    o.finish();
    return run_async<NamedTensors>(
        env,
        [box, a, target, backward]() {
          ModelLocks lock({box});
          auto& unet = box->model.as<UNet2DConditionModelImpl>();
          check_inputs(a, unet);
          c10::optional<torch::NoGradGuard> ng;
          if (!backward) ng.emplace();
          train::UnetForwardLoss l = train::unet_forward_loss(unet, a.sample, a.timesteps, a.context, target);
          if (backward) l.loss.backward();
          return NamedTensors{{"loss", l.loss.detach()}, {"sample", l.sample.detach()}};
        },
        named_tensors_to_js);
  });
}

}  // namespace

void register_unet(Napi::Env env, Napi::Object exports) {
  exports.Set("unetForward", Napi::Function::New(env, UnetForward, "unetForward"));
  exports.Set("unetLoss", Napi::Function::New(env, UnetLoss, "unetLoss"));
}

}  // namespace da::bind
