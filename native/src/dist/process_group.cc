#include "dist/process_group.h"

// Backend, Work and the collective options need no gloo: the group works through these only.
#include <torch/csrc/distributed/c10d/Backend.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include <cstdlib>
#include <map>

#include "core/error.h"

// Gloo: libtorch links ProcessGroupGloo, but its header needs gloo headers the wheel lacks
// (CMakeLists defines DOC_ANON_HAVE_GLOO when they were found).
#if defined(DOC_ANON_HAVE_GLOO) && defined(USE_C10D_GLOO)
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#define DA_DIST_GLOO 1
#else
#define DA_DIST_GLOO 0
#endif

// NCCL: only in CUDA builds of libtorch.
#if defined(USE_C10D_NCCL) && __has_include(<torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>)
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#define DA_DIST_NCCL 1
#else
#define DA_DIST_NCCL 0
#endif

namespace da::dist {

bool gloo_available() { return DA_DIST_GLOO == 1; }
bool nccl_available() { return DA_DIST_NCCL == 1; }

struct ProcessGroup::Impl {
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<c10d::Backend> backend;
  std::chrono::milliseconds timeout;
  c10::Device device{c10::kCPU};  // where collectives' tensors must live (NCCL: the rank's GPU)
};

namespace {

bool is_loopback(const std::string& host) { return host == "localhost" || host.rfind("127.", 0) == 0 || host == "::1"; }

#if DA_DIST_GLOO
// Which local interface Gloo binds: GLOO_SOCKET_IFNAME as in PyTorch; loopback when the master is
// on loopback (a single machine; the hostname may not resolve inside containers); otherwise the
// address the hostname resolves to.
std::shared_ptr<::gloo::transport::Device> gloo_device(const std::string& master_addr) {
  if (const char* ifname = std::getenv("GLOO_SOCKET_IFNAME"); ifname && *ifname)
    return c10d::ProcessGroupGloo::createDeviceForInterface(ifname);
  if (is_loopback(master_addr)) return c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1");
  return c10d::ProcessGroupGloo::createDefaultDevice();
}
#endif

// An exception's message without libtorch's C++ backtrace (c10::Error::what() appends one).
std::string message_of(const std::exception& e) {
  if (const auto* c = dynamic_cast<const c10::Error*>(&e)) return c->what_without_backtrace();
  return e.what();
}

// Runs one collective to completion; c10d reports failures (a rank gone, a timeout) as
// exceptions from wait(), mapped to ERR_IO so the CLI can say which rank lost its peers.
void wait(const c10::intrusive_ptr<c10d::Work>& work, const char* what, int rank) {
  try {
    work->wait();
  } catch (const std::exception& e) {
    fail(code::kIo, std::string("distributed ") + what + " failed on rank " + std::to_string(rank) + ": " + message_of(e));
  }
}

// Groups tensor indices by dtype (and device), so that each group packs into one flat buffer.
std::map<std::pair<int, std::string>, std::vector<size_t>> by_dtype(const std::vector<at::Tensor>& tensors) {
  std::map<std::pair<int, std::string>, std::vector<size_t>> groups;
  for (size_t i = 0; i < tensors.size(); ++i) {
    if (!tensors[i].defined()) fail(code::kArgument, "distributed collective: tensor " + std::to_string(i) + " is undefined");
    groups[{static_cast<int>(tensors[i].scalar_type()), tensors[i].device().str()}].push_back(i);
  }
  return groups;
}

at::Tensor pack(const std::vector<at::Tensor>& tensors, const std::vector<size_t>& idx) {
  std::vector<at::Tensor> flat;
  flat.reserve(idx.size());
  for (size_t i : idx) flat.push_back(tensors[i].detach().reshape({-1}));
  return at::cat(flat);
}

void unpack(const at::Tensor& buffer, std::vector<at::Tensor>& tensors, const std::vector<size_t>& idx) {
  int64_t offset = 0;
  for (size_t i : idx) {
    const int64_t n = tensors[i].numel();
    tensors[i].detach().copy_(buffer.narrow(0, offset, n).view(tensors[i].sizes()));
    offset += n;
  }
}

}  // namespace

ProcessGroup::ProcessGroup(int rank, int world_size, std::string backend, std::unique_ptr<Impl> impl)
    : rank_(rank), world_size_(world_size), backend_(std::move(backend)), impl_(std::move(impl)) {}

ProcessGroup::~ProcessGroup() {
  // The orderly end (torch.distributed.destroy_process_group's): NCCL's destructor would run the same
  // shutdown, but first warns that it was not called (seen on the H200); Gloo's is a no-op.
  if (impl_ && impl_->backend) {
    try {
      impl_->backend->shutdown();
    } catch (const std::exception&) {
      // A destructor must not throw; the process is ending this group either way.
    }
  }
}

std::shared_ptr<ProcessGroup> ProcessGroup::create(const ProcessGroupOptions& o) {
  if (o.world_size < 1) fail(code::kArgument, "world size must be >= 1, got " + std::to_string(o.world_size));
  if (o.rank < 0 || o.rank >= o.world_size)
    fail(code::kArgument, "rank must be in [0, " + std::to_string(o.world_size) + "), got " + std::to_string(o.rank));
  if (o.master_port < 1 || o.master_port > 65535) fail(code::kArgument, "master port must be in [1, 65535], got " + std::to_string(o.master_port));
  const bool cuda = o.device.is_cuda();
  if (cuda && !DA_DIST_NCCL)
    fail(code::kUnsupported, "distributed CUDA training needs NCCL, which this libtorch build lacks");
  if (!cuda && !DA_DIST_GLOO)
    fail(code::kUnsupported,
         "distributed CPU training needs Gloo: this build was made without the gloo headers (install libgloo-dev and "
         "rebuild: bash scripts/build-native.sh)");

  auto impl = std::make_unique<Impl>();
  impl->timeout = o.timeout;
  impl->device = o.device;
  try {
    c10d::TCPStoreOptions so;
    so.port = static_cast<uint16_t>(o.master_port);
    so.isServer = o.rank == 0;
    so.numWorkers = o.world_size;
    // The process-group constructor below is itself a rendezvous over the store: no need to
    // block here as well.
    so.waitWorkers = false;
    so.timeout = o.timeout;
    impl->store = c10::make_intrusive<c10d::TCPStore>(o.master_addr, so);
  } catch (const std::exception& e) {
    fail(code::kIo, "rank " + std::to_string(o.rank) + " cannot reach the TCPStore at " + o.master_addr + ":" +
                        std::to_string(o.master_port) + ": " + message_of(e));
  }
  std::string name;
  try {
#if DA_DIST_NCCL
    if (cuda) {
      // Each rank drives its own GPU: make it current (NCCL's communicator and streams live there)
      // and bind the group to it, instead of NCCL guessing rank % device_count, which is wrong
      // when global and local ranks differ.
      if (!o.device.has_index()) fail(code::kArgument, "an NCCL process group needs a device with an index (cuda:LOCAL_RANK)");
      c10::cuda::set_device(o.device.index());
      auto opts = c10d::ProcessGroupNCCL::Options::create();
      opts->timeout = o.timeout;
      impl->backend = c10::make_intrusive<c10d::ProcessGroupNCCL>(impl->store, o.rank, o.world_size, opts);
      impl->backend->setBoundDeviceId(o.device);
      name = "nccl";
    }
#endif
#if DA_DIST_GLOO
    if (!cuda) {
      auto opts = c10d::ProcessGroupGloo::Options::create(o.timeout);
      opts->devices.push_back(gloo_device(o.master_addr));
      impl->backend = c10::make_intrusive<c10d::ProcessGroupGloo>(impl->store, o.rank, o.world_size, opts);
      name = "gloo";
    }
#endif
  } catch (const da::Error&) {
    throw;
  } catch (const std::exception& e) {
    fail(code::kIo, "rank " + std::to_string(o.rank) + " of " + std::to_string(o.world_size) +
                        " could not join the process group: " + message_of(e));
  }
  if (!impl->backend) fail(code::kInternal, "no process-group backend was created");
  return std::shared_ptr<ProcessGroup>(new ProcessGroup(o.rank, o.world_size, name, std::move(impl)));
}

void ProcessGroup::all_reduce_mean(std::vector<at::Tensor>& tensors) {
  if (tensors.empty()) return;
  // A mean of integers is not an integer (div_ would fail deep in ATen): refuse it up front.
  for (size_t i = 0; i < tensors.size(); ++i)
    if (!at::isFloatingType(tensors[i].scalar_type()))
      fail(code::kDtype, "all-reduce mean needs floating-point tensors; tensors[" + std::to_string(i) + "] is " +
                             std::string(c10::toString(tensors[i].scalar_type())));
  at::NoGradGuard no_grad;
  for (auto& [key, idx] : by_dtype(tensors)) {
    std::vector<at::Tensor> buffer{pack(tensors, idx)};
    c10d::AllreduceOptions ao;
    ao.reduceOp = c10d::ReduceOp::SUM;
    ao.timeout = impl_->timeout;
    wait(impl_->backend->allreduce(buffer, ao), "all-reduce", rank_);
    // Sum then divide (not ReduceOp::AVG, which Gloo lacks): the same rounding on every backend.
    buffer[0].div_(static_cast<double>(world_size_));
    unpack(buffer[0], tensors, idx);
  }
}

void ProcessGroup::broadcast(std::vector<at::Tensor>& tensors, int root) {
  if (tensors.empty()) return;
  if (root < 0 || root >= world_size_) fail(code::kArgument, "broadcast root " + std::to_string(root) + " is not a rank");
  at::NoGradGuard no_grad;
  for (auto& [key, idx] : by_dtype(tensors)) {
    std::vector<at::Tensor> buffer{pack(tensors, idx)};
    c10d::BroadcastOptions bo;
    bo.rootRank = root;
    bo.timeout = impl_->timeout;
    wait(impl_->backend->broadcast(buffer, bo), "broadcast", rank_);
    unpack(buffer[0], tensors, idx);
  }
}

void ProcessGroup::barrier() {
  c10d::BarrierOptions bo;
  bo.timeout = impl_->timeout;
  wait(impl_->backend->barrier(bo), "barrier", rank_);
}

at::Tensor ProcessGroup::all_gather(const at::Tensor& local) {
  if (!local.defined()) fail(code::kArgument, "all_gather: the tensor is undefined");
  at::NoGradGuard no_grad;
  std::vector<at::Tensor> input{local.detach().contiguous().to(impl_->device)};
  std::vector<std::vector<at::Tensor>> outputs(1);
  for (int r = 0; r < world_size_; ++r) outputs[0].push_back(at::empty_like(input[0]));
  c10d::AllgatherOptions ao;
  ao.timeout = impl_->timeout;
  wait(impl_->backend->allgather(outputs, input, ao), "all-gather", rank_);
  return at::stack(outputs[0]).cpu();
}

bool ProcessGroup::any(bool flag) {
  at::NoGradGuard no_grad;
  std::vector<at::Tensor> buffer{at::full({1}, flag ? 1.0f : 0.0f, at::TensorOptions().dtype(at::kFloat).device(impl_->device))};
  c10d::AllreduceOptions ao;
  ao.reduceOp = c10d::ReduceOp::MAX;
  ao.timeout = impl_->timeout;
  wait(impl_->backend->allreduce(buffer, ao), "all-reduce (stop flag)", rank_);
  return buffer[0].item<float>() > 0.5f;
}

}  // namespace da::dist
