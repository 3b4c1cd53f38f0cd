// UNet2DConditionModel entry points: loadUnet, createUnet, unetForward, unetLoss.
#include <ATen/ATen.h>
#include <torch/autograd.h>

#include "bind/args.h"
#include "bind/async.h"
#include "bind/errors.h"
#include "bind/model_handle.h"
#include "bind/options.h"
#include "bind/register.h"
#include "bind/tensor_handle.h"
#include "core/error.h"
#include "core/json.h"
#include "models/unet.h"

namespace da::bind {
namespace {

using models::UNet2DConditionModelImpl;

std::shared_ptr<ModelBox> make_box(std::shared_ptr<UNet2DConditionModelImpl> unet) {
  auto box = std::make_shared<ModelBox>();
  box->kind = "unet";
  box->module = unet;
  box->save = [unet](const std::string& dir) { unet->save_pretrained(dir); };
  box->config_json = [unet]() { return unet->config().to_json(); };
  return box;
}

Napi::Value LoadUnet(const Napi::CallbackInfo& info) {
  return load_model_async(info, [](const std::string& dir, const LoadArgs& a) {
    models::LoadOptions lo;
    lo.dtype = a.dtype;
    lo.device = a.device;
    auto unet = UNet2DConditionModelImpl::from_pretrained(dir, lo, a.variant);
    unet->eval();
    return make_box(unet);
  });
}

Napi::Value CreateUnet(const Napi::CallbackInfo& info) {
  return create_model_async(info, [](const std::string& cfg, const LoadArgs& a) {
    auto unet = std::make_shared<UNet2DConditionModelImpl>(models::UNet2DConditionConfig::from_json(json::parse(cfg, code::kConfig)));
    unet->to(a.device, a.dtype);
    unet->eval();
    return make_box(unet);
  });
}

struct UnetArgs {
  at::Tensor sample, timesteps, context, target;
};

UnetArgs read_args(const Napi::Object& o, bool need_target) {
  UnetArgs a{field_tensor(o, "sample"), field_tensor(o, "timesteps"), field_tensor(o, "encoderHiddenStates"),
             field_tensor(o, "target", need_target)};
  return a;
}

void check_args(const UnetArgs& a, const UNet2DConditionModelImpl& unet) {
  const auto& c = unet.config();
  if (a.sample.dim() != 4 || a.sample.size(1) != c.in_channels)
    fail(code::kShape, "sample must be [B, " + std::to_string(c.in_channels) + ", h, w], got " + c10::str(a.sample.sizes()));
  const int64_t b = a.sample.size(0);
  if (a.timesteps.dim() > 1 || (a.timesteps.dim() == 1 && a.timesteps.size(0) != b && a.timesteps.size(0) != 1))
    fail(code::kShape, "timesteps must be a scalar, [1] or [B]");
  if (a.context.dim() != 3 || (a.context.size(0) != b) || a.context.size(2) != c.cross_attention_dim.at(0))
    fail(code::kShape, "encoderHiddenStates must be [B, S, " + std::to_string(c.cross_attention_dim.at(0)) + "], got " + c10::str(a.context.sizes()));
  if (a.target.defined() && (a.target.dim() != 4 || a.target.size(0) != b || a.target.size(1) != c.out_channels ||
                             a.target.size(2) != a.sample.size(2) || a.target.size(3) != a.sample.size(3)))
    fail(code::kShape, "target must be [B, " + std::to_string(c.out_channels) + ", h, w]");
}

struct Out {
  std::vector<std::pair<std::string, at::Tensor>> items;
};
Napi::Value out_js(Napi::Env env, Out& o) {
  Napi::Object r = Napi::Object::New(env);
  for (auto& [k, v] : o.items)
    if (v.defined()) r.Set(k, TensorHandle::Wrap(env, v));
  return r;
}

Napi::Value UnetForward(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    auto box = ModelHandle::FromValue(info[0], "unet", "unet");
    Napi::Object o = get_object(info[1], "options");
    UnetArgs a = read_args(o, false);
    bool intermediates = field_bool(o, "intermediates").value_or(false);
    return run_async<Out>(
        env,
        [box, a, intermediates]() {
          std::lock_guard<std::mutex> lock(box->mutex);
          torch::NoGradGuard ng;
          auto unet = ModelHandle::Typed<UNet2DConditionModelImpl>(box);
          check_args(a, *unet);
          const auto& w = unet->conv_in->weight;
          models::UNetIntermediates im;
          at::Tensor out = unet->forward(a.sample.to(w.device(), w.scalar_type()), a.timesteps.to(w.device()),
                                         a.context.to(w.device(), w.scalar_type()), intermediates ? &im : nullptr);
          return Out{{{"sample", out}, {"timeProj", im.time_proj}, {"timeEmbedding", im.time_embedding}, {"midBlock", im.mid_block}}};
        },
        out_js);
  });
}

// loss = mean((unet(sample, t, ctx) - target)^2), optionally backpropagated into .grad.
Napi::Value UnetLoss(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    auto box = ModelHandle::FromValue(info[0], "unet", "unet");
    Napi::Object o = get_object(info[1], "options");
    UnetArgs a = read_args(o, true);
    bool backward = field_bool(o, "backward").value_or(false);
    return run_async<Out>(
        env,
        [box, a, backward]() {
          std::lock_guard<std::mutex> lock(box->mutex);
          auto unet = ModelHandle::Typed<UNet2DConditionModelImpl>(box);
          check_args(a, *unet);
          c10::optional<torch::NoGradGuard> ng;
          if (!backward) ng.emplace();
          const auto& w = unet->conv_in->weight;
          at::Tensor out = unet->forward(a.sample.to(w.device(), w.scalar_type()), a.timesteps.to(w.device()),
                                         a.context.to(w.device(), w.scalar_type()));
          at::Tensor loss = (out.to(at::kFloat) - a.target.to(w.device(), at::kFloat)).pow(2).mean();
          if (backward) loss.backward();
          return Out{{{"loss", loss.detach()}, {"sample", out.detach()}}};
        },
        out_js);
  });
}

}  // namespace

void register_unet(Napi::Env env, Napi::Object exports) {
  exports.Set("loadUnet", Napi::Function::New(env, LoadUnet, "loadUnet"));
  exports.Set("createUnet", Napi::Function::New(env, CreateUnet, "createUnet"));
  exports.Set("unetForward", Napi::Function::New(env, UnetForward, "unetForward"));
  exports.Set("unetLoss", Napi::Function::New(env, UnetLoss, "unetLoss"));
}

}  // namespace da::bind
