// A c10d process group for data-parallel training: ranks meet through a TCPStore (rank 0 hosts
// it), then talk over Gloo (CPU tensors) or NCCL (CUDA tensors). The c10d/gloo types stay in the
// .cc (pimpl) because the gloo headers are an optional, private include of docanon_core: the
// binding and the harness include only this header and build with or without them.
#pragma once
#include <ATen/ATen.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace da::dist {

struct ProcessGroupOptions {
  int rank = 0;
  int world_size = 1;
  std::string master_addr = "127.0.0.1";
  int master_port = 29500;
  // Where the tensors live: CPU -> Gloo, CUDA -> NCCL (the caller has placed the model on
  // cuda:LOCAL_RANK already).
  c10::Device device{c10::kCPU};
  // Store connection and every collective; generous, since rank 0 may be writing a checkpoint
  // while the others already wait in the next all-reduce.
  std::chrono::milliseconds timeout{std::chrono::minutes(30)};
};

// Whether this build can make a process group for CPU (Gloo) / CUDA (NCCL) tensors.
bool gloo_available();
bool nccl_available();

class ProcessGroup {
 public:
  // Blocks until all world_size ranks have joined (or the timeout passes: ERR_IO).
  static std::shared_ptr<ProcessGroup> create(const ProcessGroupOptions& options);
  ~ProcessGroup();

  int rank() const { return rank_; }
  int world_size() const { return world_size_; }
  const std::string& backend() const { return backend_; }

  // In place: each tensor becomes the mean of that tensor over the ranks. Tensors are packed into
  // one contiguous buffer per dtype so a step costs one collective per dtype, not one per tensor.
  void all_reduce_mean(std::vector<at::Tensor>& tensors);
  // In place: every rank's tensors become rank `root`'s (packed per dtype as above).
  void broadcast(std::vector<at::Tensor>& tensors, int root = 0);
  void barrier();
  // Every rank's `local` (same shape and dtype on every rank) stacked in rank order:
  // [world_size, ...local.sizes()], on the CPU (small host data: generator states, flags).
  at::Tensor all_gather(const at::Tensor& local);
  // True on every rank when `flag` is true on any rank (agreeing to stop at the same step).
  bool any(bool flag);

 private:
  struct Impl;
  ProcessGroup(int rank, int world_size, std::string backend, std::unique_ptr<Impl> impl);
  int rank_;
  int world_size_;
  std::string backend_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace da::dist
