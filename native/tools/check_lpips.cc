// LPIPS v0.1 (VGG16) parity against lpips/: scaling, per-slice feature means, normalized squared
// differences, per-layer terms, distances and the input gradient; the missing-backbone error.
#include <ATen/ATen.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <vector>

#include "core/error.h"
#include "harness.h"
#include "io/safetensors.h"
#include "models/lpips.h"

namespace {
namespace fs = std::filesystem;

// The fixture backbone is gzip-compressed; decompress it once per run into a temp file.
std::string gunzip_to_temp(const std::string& gz) {
  std::string out = (fs::temp_directory_path() / ("docanon_lpips_vgg_" + std::to_string(::getpid()) + ".safetensors")).string();
  std::string cmd = "gunzip -c '" + gz + "' > '" + out + "'";
  if (std::system(cmd.c_str()) != 0) da::fail(da::code::kIo, "could not decompress " + gz + " (needs gunzip)");
  return out;
}
}  // namespace

DA_CHECK("parity.lpips") {
  auto io = da::io::SafetensorsFile::open(ctx.path("lpips/io.safetensors"));
  const std::string lin = ctx.path("lpips/weights/lpips_v0.1_vgg_lin.safetensors");

  // A missing backbone must say that the user supplies it.
  {
    da::models::Lpips lp;
    std::string err = "no error";
    try {
      lp.load(ctx.path("lpips/no-such-vgg16.safetensors"), lin);
    } catch (const da::Error& e) {
      err = e.code() + ": " + e.what();
    }
    ctx.expect("missing VGG16 backbone -> ERR_WEIGHTS naming the user-supplied file",
               err.rfind("ERR_WEIGHTS", 0) == 0 && err.find("supplied by the user") != std::string::npos &&
                   err.find("vgg16-397923af.pth") != std::string::npos,
               err.substr(0, 120) + "...");
  }

  const std::string backbone = gunzip_to_temp(ctx.path("lpips/model.safetensors.gz"));
  da::models::Lpips lp;
  try {
    lp.load(backbone, lin, ctx.dtype, ctx.device);
  } catch (...) {
    fs::remove(backbone);
    throw;
  }
  fs::remove(backbone);
  bool frozen = true;
  for (const auto& p : lp.parameters()) frozen = frozen && !p.requires_grad();
  ctx.expect("LPIPS parameters frozen", frozen, std::to_string(lp.parameters().size()) + " tensors");

  auto opts = at::TensorOptions().device(ctx.device).dtype(ctx.dtype);
  at::Tensor in0 = io->load("in0").to(opts).requires_grad_(true);
  at::Tensor in1 = io->load("in1").to(opts);
  auto rel = [&](const std::string& k) { return io->load(k); };

  ctx.compare("scaled_in0", lp.scaling_layer(in0), rel("scaled_in0"), 0, 1e-4);
  ctx.compare("scaled_in1", lp.scaling_layer(in1), rel("scaled_in1"), 0, 1e-4);

  da::models::LpipsOutput out = lp.forward(in0, in1, false, true);
  for (size_t k = 0; k < out.layers.size(); ++k) {
    const std::string s = std::to_string(k);
    ctx.compare("feat0_mean_l" + s, out.feats0[k].mean({2, 3}), rel("feat0_mean_l" + s), 0, 1e-4);
    ctx.compare("feat1_mean_l" + s, out.feats1[k].mean({2, 3}), rel("feat1_mean_l" + s), 0, 1e-4);
    ctx.compare("diff_mean_l" + s, out.diffs[k].mean({2, 3}), rel("diff_mean_l" + s), 0, 1e-4);
    at::Tensor want = rel("res_l" + s);
    ctx.compare("res_l" + s, out.layers[k], want, 1e-6 + 1e-4 * want.abs().max().item<double>(), 0);
  }
  at::Tensor want_dist = rel("dist");
  ctx.compare("dist", out.dist, want_dist, 1e-6 + 1e-4 * want_dist.abs().max().item<double>(), 0);

  out.dist.mean().backward();
  at::Tensor g = in0.grad().to(at::kCPU, at::kFloat), gw = rel("grad_in0");
  // The input gradient is piecewise (ReLU, max-pool). The same gradient in float64 on the same device
  // must match the fixture; a float32 sample outside tolerance on another backend (cuDNN) is then
  // rounding tipping a near-tie, not an implementation difference, and is accepted on CUDA within a
  // relative L2 bound (seen on an H200: 1.1e-2, 1503 of 12288 elements; float64 there: 1.5e-6).
  std::vector<double> tol;  // per sample, as the fixture README suggests
  std::vector<int64_t> f32_misses;
  for (int64_t n = 0; n < gw.size(0); ++n) {
    tol.push_back(1e-3 * gw[n].abs().max().item<double>());
    const bool miss = (g[n] - gw[n]).abs().max().item<double>() > tol[n];
    if (miss && ctx.device.is_cuda() && ctx.dtype == at::kFloat)
      f32_misses.push_back(n);
    else
      ctx.compare("grad_in0[" + std::to_string(n) + "]", g[n], gw[n], tol[n], 0);
  }
  bool no_weight_grad = true;
  for (const auto& p : lp.parameters()) no_weight_grad = no_weight_grad && !p.grad().defined();
  ctx.expect("no gradient into LPIPS weights", no_weight_grad, "");

  // normalize=true maps [0, 1] inputs to [-1, 1] first.
  at::Tensor d01 = lp.distance((io->load("in0").to(opts) + 1) / 2, (io->load("in1").to(opts) + 1) / 2, true);
  ctx.compare("dist with normalize=true on [0,1] inputs", d01, want_dist, 1e-6 + 1e-4 * want_dist.abs().max().item<double>(), 0);

  if (ctx.dtype == at::kFloat) {
    lp.to(at::kDouble);
    at::Tensor a = io->load("in0").to(ctx.device, at::kDouble).requires_grad_(true);
    lp.forward(a, io->load("in1").to(ctx.device, at::kDouble)).dist.mean().backward();
    at::Tensor g64 = a.grad().to(at::kCPU, at::kFloat);
    bool f64_ok = true;
    for (int64_t n = 0; n < gw.size(0); ++n)
      f64_ok = ctx.compare("grad_in0[" + std::to_string(n) + "] in float64", g64[n], gw[n], tol[n], 0) && f64_ok;
    for (int64_t n : f32_misses) {
      const at::Tensor d = g[n] - gw[n];
      const double rel_l2 = (d.norm() / gw[n].norm()).item<double>();
      ctx.expect("grad_in0[" + std::to_string(n) + "] float32 off by rounding at a near-tie (float64 matches, relative L2 <= 2e-2)",
                 f64_ok && rel_l2 <= 2e-2,
                 c10::str("max_abs ", d.abs().max().item<double>(), ", ", (d.abs() > tol[n]).sum().item<int64_t>(), " of ", d.numel(),
                          " over ", tol[n], ", relative L2 ", rel_l2));
    }
  }
}
