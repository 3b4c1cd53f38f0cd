// lpipsForward(lpips, { in0, in1, normalize?, keepFeatures?, gradInput0? }) (models/lpips.h).
#include <ATen/ATen.h>
#include <torch/autograd.h>

#include "bind/errors.h"
#include "bind/model_handle.h"
#include "bind/options.h"
#include "bind/register.h"
#include "bind/tensor_handle.h"
#include "bind/worker.h"
#include "core/error.h"
#include "models/lpips.h"

namespace da::bind {
namespace {

struct LpipsOut {
  models::LpipsOutput out;
  at::Tensor grad0;
};

Napi::Value LpipsForward(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    ModelPtr box = ModelHandle::Of(info[0], models::ModelKind::kLpips, "lpips");
    Options o(info[1], "options");
    at::Tensor in0 = o.tensor("in0");
    at::Tensor in1 = o.tensor("in1");
    bool normalize = o.boolean("normalize").value_or(false);
    bool keep = o.boolean("keepFeatures").value_or(false);
    bool grad0 = o.boolean("gradInput0").value_or(false);
    o.finish();
    if (in0.dim() != 4 || in0.size(1) != 3 || in0.sizes() != in1.sizes())
      fail(code::kShape, "in0 and in1 must both be [N, 3, H, W] of the same shape");
    if (in0.size(2) < 16 || in0.size(3) < 16) fail(code::kShape, "LPIPS needs images of at least 16x16 (VGG16 pools 4 times)");
    return run_async<LpipsOut>(
        env,
        [box, in0, in1, normalize, keep, grad0]() {
          ModelLocks lock({box});
          auto& m = box->model.as<models::Lpips>();
          at::Tensor a = in0.detach().to(box->model.device(), box->model.dtype());
          at::Tensor b = in1.detach().to(box->model.device(), box->model.dtype());
          LpipsOut r;
          if (grad0) {
            a.set_requires_grad(true);
            r.out = m.forward(a, b, normalize, keep);
            // d mean(dist) / d in0, as the fixture defines it.
            r.grad0 = torch::autograd::grad({r.out.dist.mean()}, {a})[0];
          } else {
            torch::NoGradGuard ng;
            r.out = m.forward(a, b, normalize, keep);
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
          Napi::Object o = named_tensors_to_js(e, {{"dist", r.out.dist}, {"gradInput0", r.grad0}});
          o.Set("layers", tensors_to_js(e, r.out.layers));
          if (!r.out.feats0.empty()) {
            o.Set("feats0", tensors_to_js(e, r.out.feats0));
            o.Set("feats1", tensors_to_js(e, r.out.feats1));
            o.Set("diffs", tensors_to_js(e, r.out.diffs));
          }
          return o;
        });
  });
}

}  // namespace

void register_lpips(Napi::Env env, Napi::Object exports) {
  exports.Set("lpipsForward", Napi::Function::New(env, LpipsForward, "lpipsForward"));
}

}  // namespace da::bind
