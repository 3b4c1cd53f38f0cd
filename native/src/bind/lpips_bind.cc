// LPIPS entry points: loadLpips(backbone, lin, options), lpipsForward(lpips, in0, in1, options).
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
#include "models/lpips.h"

namespace da::bind {
namespace {

Napi::Value LoadLpips(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    std::string backbone = get_string(info[0], "backbonePath");
    std::string lin = get_string(info[1], "linPath");
    LoadArgs a = parse_load_args(info[2]);
    return run_async<std::shared_ptr<ModelBox>>(
        env,
        [backbone, lin, a]() {
          auto m = std::make_shared<models::Lpips>();
          m->load(backbone, lin, a.dtype, a.device);
          auto box = std::make_shared<ModelBox>();
          box->kind = "lpips";
          box->module = m;
          return box;
        },
        [](Napi::Env e, std::shared_ptr<ModelBox>& b) -> Napi::Value { return ModelHandle::Wrap(e, b); });
  });
}

struct LpipsOut {
  models::LpipsOutput out;
  at::Tensor grad0;
};

Napi::Value LpipsForward(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    auto box = ModelHandle::FromValue(info[0], "lpips", "lpips");
    at::Tensor in0 = TensorHandle::FromValue(info[1], "in0");
    at::Tensor in1 = TensorHandle::FromValue(info[2], "in1");
    Napi::Object o = info.Length() > 3 && info[3].IsObject() ? info[3].As<Napi::Object>() : Napi::Object::New(env);
    bool normalize = field_bool(o, "normalize").value_or(false);
    bool keep = field_bool(o, "keepFeatures").value_or(false);
    bool grad0 = field_bool(o, "gradInput0").value_or(false);
    if (in0.dim() != 4 || in0.size(1) != 3 || in0.sizes() != in1.sizes())
      fail(code::kShape, "in0 and in1 must both be [N, 3, H, W] of the same shape");
    if (in0.size(2) < 16 || in0.size(3) < 16) fail(code::kShape, "LPIPS needs images of at least 16x16 (VGG16 pools 4 times)");
    return run_async<LpipsOut>(
        env,
        [box, in0, in1, normalize, keep, grad0]() {
          std::lock_guard<std::mutex> lock(box->mutex);
          auto m = ModelHandle::Typed<models::Lpips>(box);
          const auto& w = m->convs.front()->weight;
          at::Tensor a = in0.detach().to(w.device(), w.scalar_type());
          at::Tensor b = in1.detach().to(w.device(), w.scalar_type());
          LpipsOut r;
          if (grad0) {
            a.set_requires_grad(true);
            r.out = m->forward(a, b, normalize, keep);
            // d mean(dist) / d in0, as the fixture defines it.
            r.grad0 = torch::autograd::grad({r.out.dist.mean()}, {a})[0];
          } else {
            torch::NoGradGuard ng;
            r.out = m->forward(a, b, normalize, keep);
          }
          auto detach_all = [](std::vector<at::Tensor>& v) {
            for (auto& t : v) t = t.detach();
          };
          r.out.dist = r.out.dist.detach();
          detach_all(r.out.layers);
          detach_all(r.out.feats0);
          detach_all(r.out.feats1);
          detach_all(r.out.diffs);
          return r;
        },
        [](Napi::Env e, LpipsOut& r) -> Napi::Value {
          Napi::Object o = Napi::Object::New(e);
          o.Set("dist", TensorHandle::Wrap(e, r.out.dist));
          auto arr = [&](const std::vector<at::Tensor>& v) {
            Napi::Array a = Napi::Array::New(e, v.size());
            for (size_t i = 0; i < v.size(); ++i) a.Set(static_cast<uint32_t>(i), TensorHandle::Wrap(e, v[i]));
            return a;
          };
          o.Set("layers", arr(r.out.layers));
          if (!r.out.feats0.empty()) {
            o.Set("feats0", arr(r.out.feats0));
            o.Set("feats1", arr(r.out.feats1));
            o.Set("diffs", arr(r.out.diffs));
          }
          if (r.grad0.defined()) o.Set("gradInput0", TensorHandle::Wrap(e, r.grad0));
          return o;
        });
  });
}

}  // namespace

void register_lpips(Napi::Env env, Napi::Object exports) {
  exports.Set("loadLpips", Napi::Function::New(env, LoadLpips, "loadLpips"));
  exports.Set("lpipsForward", Napi::Function::New(env, LpipsForward, "lpipsForward"));
}

}  // namespace da::bind
