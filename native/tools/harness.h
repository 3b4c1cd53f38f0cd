// A tiny check runner for the native core, with no Node dependency: parity against the reference
// fixtures (test/fixtures, or another root), manifests, and benchmarks can run on a machine that has only libtorch
// (e.g. a GPU box). Each area registers its checks in its own file with DA_CHECK.
#pragma once
#include <ATen/ATen.h>

#include <functional>
#include <string>
#include <vector>

namespace da::harness {

struct Context {
  std::string fixtures;          // fixture root (--fixtures, DOC_ANON_FIXTURES, else test/fixtures)
  c10::Device device{c10::kCPU};
  at::ScalarType dtype = at::kFloat;  // compute dtype for parity checks
  double tol_scale = 1.0;             // tolerance multiplier (e.g. larger for bf16)
  int failures = 0;
  int comparisons = 0;

  // Compares got vs expected (both moved to CPU float64). Passes when
  // max|got-expected| <= (atol + rtol*max|expected|) * tol_scale. Prints one line either way.
  bool compare(const std::string& name, const at::Tensor& got, const at::Tensor& expected,
               double atol, double rtol = 0.0);
  bool expect(const std::string& name, bool ok, const std::string& detail = "");
  std::string path(const std::string& rel) const { return fixtures + "/" + rel; }
};

struct Check {
  std::string name;    // e.g. "parity.vae"
  std::function<void(Context&)> run;
};

std::vector<Check>& registry();

struct Registrar {
  Registrar(const std::string& name, std::function<void(Context&)> fn) {
    registry().push_back({name, std::move(fn)});
  }
};

}  // namespace da::harness

#define DA_CONCAT_INNER(a, b) a##b
#define DA_CONCAT(a, b) DA_CONCAT_INNER(a, b)
#define DA_CHECK(name)                                                                    \
  static void DA_CONCAT(da_check_fn_, __LINE__)(::da::harness::Context & ctx);          \
  static ::da::harness::Registrar DA_CONCAT(da_check_reg_, __LINE__)(                   \
      name, DA_CONCAT(da_check_fn_, __LINE__));                                         \
  static void DA_CONCAT(da_check_fn_, __LINE__)(::da::harness::Context & ctx)
