// Distributed collectives: two ranks as two threads of this process, meeting on one TCPStore on
// loopback. The all-reduce must be an exact mean for several sizes (one element to a multi-MB
// buffer, packed with others of mixed dtypes) and dtypes: Debian's gloo headers are not the commit
// libtorch was built with, so this proves the pairing works rather than assuming it.
#include <ATen/ATen.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

#include <torch/cuda.h>

#include "dist/process_group.h"
#include "harness.h"

namespace {

// A port the kernel just handed out (closed again; TCPStore binds it right after).
int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof(a);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

// Rank r's tensor i: distinct per rank, so the mean differs from either input.
at::Tensor rank_tensor(int r, int64_t n, at::ScalarType dt, int i) {
  auto base = at::arange(n, at::kDouble).mul(0.001 * (i + 1)).sin();
  return (base * (r == 0 ? 1.0 : -3.0) + (r + 1) * 0.25).to(dt);
}

}  // namespace

DA_CHECK("dist.allreduce") {
  if (!da::dist::gloo_available()) {
    ctx.expect("dist.allreduce gloo available (skipped: built without gloo headers)", true);
    return;
  }
  const std::vector<int64_t> sizes = {1, 7, 1000, 1 << 20};
  const std::vector<at::ScalarType> dtypes = {at::kFloat, at::kBFloat16, at::kDouble};
  const int port = free_port();
  std::vector<std::vector<at::Tensor>> results(2), broadcasts(2);
  std::vector<std::string> errors(2);
  auto body = [&](int rank) {
    try {
      da::dist::ProcessGroupOptions o;
      o.rank = rank;
      o.world_size = 2;
      o.master_port = port;
      o.timeout = std::chrono::seconds(60);
      auto pg = da::dist::ProcessGroup::create(o);
      std::vector<at::Tensor> ts;
      int i = 0;
      for (auto dt : dtypes)
        for (auto n : sizes) ts.push_back(rank_tensor(rank, n, dt, i++));
      pg->all_reduce_mean(ts);  // all dtypes mixed in one call: one packed buffer per dtype
      results[rank] = ts;
      std::vector<at::Tensor> b;
      for (auto dt : dtypes) b.push_back(rank_tensor(rank, 513, dt, 0));
      pg->broadcast(b, 0);
      broadcasts[rank] = b;
      pg->barrier();
    } catch (const std::exception& e) {
      errors[rank] = e.what();
    }
  };
  std::thread t0(body, 0), t1(body, 1);
  t0.join();
  t1.join();
  if (!ctx.expect("dist.allreduce ranks joined", errors[0].empty() && errors[1].empty(), errors[0] + " | " + errors[1])) return;
  int i = 0;
  for (auto dt : dtypes) {
    for (auto n : sizes) {
      // Expected: the mean computed in float64 from the same inputs, rounded to the dtype.
      auto expected = ((rank_tensor(0, n, dt, i).to(at::kDouble) + rank_tensor(1, n, dt, i).to(at::kDouble)) / 2).to(dt);
      const double tol = dt == at::kBFloat16 ? 1e-2 : dt == at::kFloat ? 1e-6 : 1e-12;
      const std::string name = "dist.allreduce " + std::string(c10::toString(dt)) + " n=" + std::to_string(n);
      ctx.compare(name + " rank0", results[0][i], expected, tol, tol);
      ctx.compare(name + " rank1", results[1][i], expected, tol, tol);
      ctx.expect(name + " ranks identical", at::equal(results[0][i], results[1][i]));
      ++i;
    }
  }
  for (size_t k = 0; k < dtypes.size(); ++k) {
    ctx.expect("dist.broadcast " + std::string(c10::toString(dtypes[k])),
               at::equal(broadcasts[1][k], rank_tensor(0, 513, dtypes[k], 0)) && at::equal(broadcasts[0][k], rank_tensor(0, 513, dtypes[k], 0)));
  }
}

// NCCL on the GPUs of this machine: one rank per GPU (up to 2), as threads of this process on one
// TCPStore. With a single GPU the group has one rank, which still runs NCCL's communicator setup
// and every collective the trainer uses (the data-parallel code path on CUDA). Needs --device cuda.
DA_CHECK("dist.nccl") {
  if (!ctx.device.is_cuda()) {
    ctx.expect("dist.nccl (skipped: needs --device cuda)", true);
    return;
  }
  const bool nccl = da::dist::nccl_available();
  if (!ctx.expect("dist.nccl built with NCCL", nccl, nccl ? "" : "this libtorch/headers combination left NCCL out (see the cmake output)"))
    return;
  const int world = static_cast<int>(std::min<int64_t>(2, torch::cuda::device_count()));
  if (!ctx.expect("dist.nccl a GPU is visible", world >= 1)) return;
  const std::vector<int64_t> sizes = {1, 1000, 1 << 20};
  const std::vector<at::ScalarType> dtypes = {at::kFloat, at::kBFloat16};
  const int port = free_port();
  std::vector<std::vector<at::Tensor>> results(world);
  std::vector<at::Tensor> gathered(world);
  std::vector<int> stop(world, -1);
  std::vector<std::string> errors(world);
  auto body = [&](int rank) {
    try {
      da::dist::ProcessGroupOptions o;
      o.rank = rank;
      o.world_size = world;
      o.master_port = port;
      o.timeout = std::chrono::seconds(120);
      o.device = c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(rank));
      auto pg = da::dist::ProcessGroup::create(o);
      std::vector<at::Tensor> ts;
      int i = 0;
      for (auto dt : dtypes)
        for (auto n : sizes) ts.push_back(rank_tensor(rank, n, dt, i++).to(o.device));
      pg->all_reduce_mean(ts);
      results[rank] = ts;
      gathered[rank] = pg->all_gather(at::full({3}, static_cast<double>(rank + 1), at::kLong));
      stop[rank] = pg->any(rank == world - 1) ? 1 : 0;  // only the last rank asks to stop
      pg->barrier();
    } catch (const std::exception& e) {
      errors[rank] = e.what();
    }
  };
  std::vector<std::thread> threads;
  for (int r = 0; r < world; ++r) threads.emplace_back(body, r);
  for (auto& t : threads) t.join();
  std::string all_errors;
  for (const auto& e : errors) all_errors += e.empty() ? "" : e + " | ";
  if (!ctx.expect("dist.nccl " + std::to_string(world) + " rank(s) joined", all_errors.empty(), all_errors)) return;
  int i = 0;
  for (auto dt : dtypes) {
    for (auto n : sizes) {
      auto sum = at::zeros({n}, at::kDouble);
      for (int r = 0; r < world; ++r) sum += rank_tensor(r, n, dt, i).to(at::kDouble);
      auto expected = (sum / world).to(dt);
      const double tol = dt == at::kBFloat16 ? 1e-2 : 1e-6;
      const std::string name = "dist.nccl all-reduce " + std::string(c10::toString(dt)) + " n=" + std::to_string(n);
      for (int r = 0; r < world; ++r) {
        ctx.expect(name + " rank" + std::to_string(r) + " stays on its GPU", results[r][i].device() == c10::Device(c10::kCUDA, r));
        ctx.compare(name + " rank" + std::to_string(r), results[r][i].cpu(), expected, tol, tol);
      }
      ++i;
    }
  }
  auto expected_gather = at::arange(1, world + 1, at::kLong).unsqueeze(1).expand({world, 3});
  for (int r = 0; r < world; ++r) {
    ctx.expect("dist.nccl all-gather rank" + std::to_string(r), at::equal(gathered[r], expected_gather));
    ctx.expect("dist.nccl stop flag agreed on rank" + std::to_string(r), stop[r] == 1);
  }
}
