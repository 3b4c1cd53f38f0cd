// docanon_harness: runs the core's checks (fixture parity, manifests) and benchmarks with no Node.
// Fixtures: --fixtures DIR, else DOC_ANON_FIXTURES, else the checkout's test/fixtures.
//   docanon_harness [--fixtures DIR] [--device cpu|cuda[:N]] [--dtype float32|bfloat16|float16]
//                   [--tol-scale X] [--threads N] [--list] [CHECK_PREFIX ...]
// Exit status: 0 when every selected check passed, 1 otherwise, 2 on bad usage.
#include <ATen/Context.h>
#include <ATen/Parallel.h>
#include <c10/core/Device.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>

#include "core/error.h"
#include "core/runtime.h"
#include "harness.h"

namespace da::harness {
namespace {

// The repository's own fixtures, found from the binary (build/docanon_harness -> test/fixtures):
// a fresh clone needs nothing beside it. A harness outside a checkout (the prebuilt one) has none.
std::string default_fixtures() {
  std::error_code ec;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return "test/fixtures";
  return (exe.parent_path() / ".." / "test" / "fixtures").lexically_normal().string();
}

}  // namespace

std::vector<Check>& registry() {
  static std::vector<Check> checks;
  return checks;
}

bool Context::compare(const std::string& name, const at::Tensor& got, const at::Tensor& expected, double atol, double rtol) {
  ++comparisons;
  if (!got.defined() || !expected.defined()) return expect(name, false, "undefined tensor");
  if (got.sizes() != expected.sizes()) {
    std::ostringstream os;
    os << "shape " << got.sizes() << " vs expected " << expected.sizes();
    return expect(name, false, os.str());
  }
  at::Tensor g = got.detach().to(at::kCPU).to(at::kDouble);
  at::Tensor e = expected.detach().to(at::kCPU).to(at::kDouble);
  double max_abs = g.numel() ? (g - e).abs().max().item<double>() : 0.0;
  double ref = e.numel() ? e.abs().max().item<double>() : 0.0;
  bool finite = g.numel() == 0 || g.isfinite().all().item<bool>();
  double limit = (atol + rtol * ref) * tol_scale;
  bool ok = finite && max_abs <= limit;
  char buf[256];
  std::snprintf(buf, sizeof buf, "max_abs %.3e (limit %.3e, max|ref| %.3e)%s", max_abs, limit, ref, finite ? "" : " NON-FINITE");
  if (!ok) ++failures;
  std::printf("  %s %-60s %s\n", ok ? "ok  " : "FAIL", name.c_str(), buf);
  return ok;
}

bool Context::expect(const std::string& name, bool ok, const std::string& detail) {
  if (!ok) ++failures;
  std::printf("  %s %-60s %s\n", ok ? "ok  " : "FAIL", name.c_str(), detail.c_str());
  return ok;
}

}  // namespace da::harness

int main(int argc, char** argv) {
  using namespace da::harness;
  // Line-buffered even into a pipe: a crash must not swallow the lines before it.
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  Context ctx;
  const char* env = std::getenv("DOC_ANON_FIXTURES");
  ctx.fixtures = env ? env : default_fixtures();
  std::vector<std::string> selected;
  bool list = false;
  bool allow_tf32 = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&](const char* what) -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", what);
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--fixtures") ctx.fixtures = next("--fixtures");
    else if (a == "--device") ctx.device = c10::Device(next("--device"));
    else if (a == "--dtype") {
      std::string d = next("--dtype");
      if (d == "float32") ctx.dtype = at::kFloat;
      else if (d == "bfloat16") ctx.dtype = at::kBFloat16;
      else if (d == "float16") ctx.dtype = at::kHalf;
      else { std::fprintf(stderr, "unknown dtype %s\n", d.c_str()); return 2; }
    } else if (a == "--tol-scale") ctx.tol_scale = std::atof(next("--tol-scale").c_str());
    else if (a == "--threads") at::set_num_threads(std::atoi(next("--threads").c_str()));
    else if (a == "--list") list = true;
    else if (a == "--allow-tf32") allow_tf32 = true;
    else if (a == "--help" || a == "-h") {
      std::printf("usage: docanon_harness [--fixtures DIR] [--device cpu|cuda[:N]] [--dtype float32|bfloat16|float16]\n"
                  "                       [--tol-scale X] [--threads N] [--allow-tf32] [--list] [CHECK_PREFIX ...]\n"
                  "Fixtures: --fixtures, else DOC_ANON_FIXTURES, else the checkout's test/fixtures.\n"
                  "Benchmarks (bench.*) run only when selected. On CUDA, TF32 is off unless --allow-tf32\n"
                  "(cuDNN convolutions default to TF32, ~1e-3 relative error: not float32 parity).\n");
      return 0;
    } else if (!a.empty() && a[0] == '-') {
      std::fprintf(stderr, "unknown option %s (see --help)\n", a.c_str());
      return 2;
    } else selected.push_back(a);
  }
  da::runtime::settle_nnpack();
  if (!allow_tf32) {
    // float32 parity means float32 arithmetic: cuDNN's default TF32 convolutions are off here.
    at::globalContext().setAllowTF32CuDNN(false);
    at::globalContext().setAllowTF32CuBLAS(false);
  }
  int ran = 0, failed_checks = 0;
  for (const auto& c : registry()) {
    // Benchmarks are opt-in: they only run when selected by prefix.
    bool want = selected.empty() && c.name.rfind("bench.", 0) != 0;
    for (const auto& s : selected)
      if (c.name.compare(0, s.size(), s) == 0) want = true;
    if (!want) continue;
    if (list) {
      std::printf("%s\n", c.name.c_str());
      continue;
    }
    std::printf("== %s (device %s)\n", c.name.c_str(), ctx.device.str().c_str());
    int before = ctx.failures;
    try {
      c.run(ctx);
    } catch (const da::Error& e) {
      std::printf("  FAIL exception %s: %s\n", e.code().c_str(), e.what());
      ++ctx.failures;
    } catch (const std::exception& e) {
      std::printf("  FAIL exception: %s\n", e.what());
      ++ctx.failures;
    }
    ++ran;
    if (ctx.failures != before) ++failed_checks;
  }
  if (list) return 0;
  if (ran == 0) {
    std::fprintf(stderr, "no check matched (use --list)\n");
    return 2;
  }
  std::printf("%d passed, %d failed\n", ran - failed_checks, failed_checks);
  return failed_checks ? 1 : 0;
}
