#include "bench_util.h"

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <sstream>
#include <unordered_map>

#include <ATen/record_function.h>
#include <torch/cuda.h>

#include "core/json.h"

#ifdef DOC_ANON_HAVE_CUDA_ALLOC
#include <c10/cuda/CUDACachingAllocator.h>
#endif

namespace da::bench {
namespace {

double max_rss_mb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024.0;
}

// A field of /proc/self/status in MiB ("VmRSS", "VmHWM"); negative when unreadable.
double proc_status_mb(const std::string& field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field + ":", 0) == 0) return std::stod(line.substr(field.size() + 1)) / 1024.0;  // kB
  }
  return -1;
}

// CPU peak memory of the timed code alone: the process high-water mark is reset (Linux: "5" to
// /proc/self/clear_refs) and measured against the resident size at the start, so weights and inputs
// already loaded and earlier cases do not count. bench/reference/diffusers_unet.py measures the same
// way, which makes the two peak columns comparable. Falls back to the growth of ru_maxrss (which
// only sees a new maximum for the whole process) where the reset is not allowed.
struct CpuPeakProbe {
  bool reset = false;
  double base_mb = 0;
  CpuPeakProbe() {
    std::ofstream clear("/proc/self/clear_refs");
    clear << "5";
    clear.flush();
    const double rss = proc_status_mb("VmRSS");
    reset = clear.good() && rss >= 0;
    base_mb = reset ? rss : max_rss_mb();
  }
  double peak_mb() const { return (reset ? proc_status_mb("VmHWM") : max_rss_mb()) - base_mb; }
};

}  // namespace

void clear_grads(torch::nn::Module& m) {
  for (auto& p : m.parameters()) p.mutable_grad().reset();
}

void sync(const c10::Device& d) {
  if (d.is_cuda()) torch::cuda::synchronize(d.index() < 0 ? 0 : d.index());
}

Timing time_it(const c10::Device& device, const std::function<void()>& fn, int min_iters, double budget_s) {
  Timing t;
#ifdef DOC_ANON_HAVE_CUDA_ALLOC
  if (device.is_cuda()) c10::cuda::CUDACachingAllocator::resetPeakStats(device.index() < 0 ? 0 : device.index());
#endif
  CpuPeakProbe cpu_peak;
  fn();  // warm-up (allocator, kernels, oneDNN primitives)
  sync(device);
  double total = 0;
  t.min_ms = 1e300;
  auto start_all = std::chrono::steady_clock::now();
  while (t.iters < min_iters || std::chrono::duration<double>(std::chrono::steady_clock::now() - start_all).count() < budget_s) {
    auto s = std::chrono::steady_clock::now();
    fn();
    sync(device);
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - s).count();
    total += ms;
    t.min_ms = std::min(t.min_ms, ms);
    ++t.iters;
    if (t.iters >= min_iters && total > budget_s * 1000) break;
    if (t.iters >= 100) break;
  }
  t.mean_ms = total / t.iters;
#ifdef DOC_ANON_HAVE_CUDA_ALLOC
  if (device.is_cuda()) {
    auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(device.index() < 0 ? 0 : device.index());
    t.peak_mb = static_cast<double>(stats.allocated_bytes[0].peak) / (1024.0 * 1024.0);
    return t;
  }
#endif
  t.peak_mb = cpu_peak.peak_mb();
  return t;
}

std::string manifest_config(const harness::Context& ctx, const std::string& file) {
  std::ifstream in(ctx.path("manifests/" + file));
  std::stringstream ss;
  ss << in.rdbuf();
  json::Value root = json::parse(ss.str(), "ERR_CONFIG");
  const json::Value* cfg = root.find("config");
  if (!cfg) throw std::runtime_error("manifest " + file + " has no config");
  // Re-serialise only what the readers need: the config object's raw text is not kept by the
  // parser, so rebuild it.
  std::function<std::string(const json::Value&)> dump = [&](const json::Value& v) -> std::string {
    switch (v.kind()) {
      case json::Value::Kind::Null: return "null";
      case json::Value::Kind::Bool: return v.as_bool() ? "true" : "false";
      case json::Value::Kind::Number: {
        double d = v.as_double();
        std::ostringstream os;
        os.precision(17);
        os << d;
        return os.str();
      }
      case json::Value::Kind::String: return json::quote(v.as_string());
      case json::Value::Kind::Array: {
        std::string s = "[";
        bool first = true;
        for (const auto& x : v.as_array()) {
          s += (first ? "" : ",") + dump(x);
          first = false;
        }
        return s + "]";
      }
      case json::Value::Kind::Object: {
        std::string s = "{";
        bool first = true;
        for (const auto& [k, x] : v.as_object()) {
          s += (first ? "" : ",") + json::quote(k) + ":" + dump(x);
          first = false;
        }
        return s + "}";
      }
    }
    return "null";
  };
  return dump(*cfg);
}

void header(const std::string& title) {
  std::printf("\n### %s\n\n| case | mean ms | min ms | iters | peak MB | note |\n|---|---:|---:|---:|---:|---|\n", title.c_str());
}

void row(const std::string& name, const Timing& t, const std::string& extra) {
  std::printf("| %s | %.1f | %.1f | %d | %.0f | %s |\n", name.c_str(), t.mean_ms, t.min_ms, t.iters, t.peak_mb, extra.c_str());
  std::fflush(stdout);
}

namespace {
// RecordFunction callbacks are plain function pointers, so the counts live here.
std::mutex g_op_mu;
std::unordered_map<std::string, int64_t> g_op_counts;

std::unique_ptr<at::ObserverContext> count_op(const at::RecordFunction& fn) {
  std::lock_guard<std::mutex> lock(g_op_mu);
  ++g_op_counts[fn.name()];
  return nullptr;
}
}  // namespace

std::string count_ops(const std::string& what, const c10::Device& device, const std::function<void()>& fn, int top) {
  {
    std::lock_guard<std::mutex> lock(g_op_mu);
    g_op_counts.clear();
  }
  {
    struct Registered {
      at::CallbackHandle handle;
      ~Registered() { at::removeCallback(handle); }
    } counting{at::addGlobalCallback(at::RecordFunctionCallback(count_op).needsInputs(false).scopes(
        {at::RecordScope::FUNCTION, at::RecordScope::BACKWARD_FUNCTION}))};
    fn();
    sync(device);
  }
  std::vector<std::pair<std::string, int64_t>> v;
  {
    std::lock_guard<std::mutex> lock(g_op_mu);
    v.assign(g_op_counts.begin(), g_op_counts.end());
  }
  std::sort(v.begin(), v.end(), [](const auto& a, const auto& b) { return a.second != b.second ? a.second > b.second : a.first < b.first; });
  int64_t total = 0, aten = 0;
  for (const auto& [name, n] : v) {
    total += n;
    if (name.rfind("aten::", 0) == 0) aten += n;
  }
  std::ostringstream o;
  o << "\nops in " << what << ": " << total << " (aten:: " << aten << ")\n";
  for (int i = 0; i < top && i < static_cast<int>(v.size()); ++i) o << "  " << v[i].second << "  " << v[i].first << "\n";
  return o.str();
}

}  // namespace da::bench
