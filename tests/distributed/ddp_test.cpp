// DistributedDataParallel: every rank trains on its slice of a global batch; after each step all
// ranks must hold the same weights, equal (within float32 rounding) to one process training on the
// whole batch. With one rank, the result must be bit-for-bit that of plain training.
// (Adam through DDP is covered by ddp_train's --check, which compares the replicas.)
#include "catch.h"
#include "distributed_support.h"

using namespace ember;

namespace {

nn::Sequential make_net(std::uint64_t seed, Device device) {
  manual_seed(seed);
  nn::Sequential net(nn::Linear(8, 32), nn::Tanh(), nn::Linear(32, 32), nn::ReLU(), nn::Linear(32, 4));
  net->to(device);
  return net;
}

void check_ddp_matches_full_batch(Device device, std::size_t bucket_cap_bytes) {
  auto& g = test::group();
  const std::int64_t per_rank = 16, world = g.world_size(), rank = g.rank();
  manual_seed(1234);  // the same global batch on every rank
  const Tensor x_all = randn({per_rank * world, 8}).to(device);
  const Tensor y_all = randn({per_rank * world, 4}).to(device);
  const Tensor x = x_all.slice(0, rank * per_rank, (rank + 1) * per_rank).contiguous();
  const Tensor y = y_all.slice(0, rank * per_rank, (rank + 1) * per_rank).contiguous();

  // Every rank starts from other weights: DDP must copy rank 0's (seed 7) to all.
  nn::Sequential local = make_net(7 + static_cast<std::uint64_t>(rank), device);
  nn::DistributedDataParallelOptions options;
  options.bucket_cap_bytes = options.first_bucket_cap_bytes = bucket_cap_bytes;
  nn::DistributedDataParallel ddp(local, test::group_ptr(), options);
  nn::Sequential reference = make_net(7, device);
  // SGD with momentum: an update proportional to the gradient keeps rounding differences at
  // rounding size (Adam's m / sqrt(v) can turn a rounding-size gradient into a full step).
  optim::SGD ddp_opt(ddp->parameters(), {.lr = 0.05, .momentum = 0.9});
  optim::SGD ref_opt(reference->parameters(), {.lr = 0.05, .momentum = 0.9});
  nn::MSELoss mse;
  const auto ddp_params = ddp->parameters();
  const auto ref_params = reference->parameters();
  REQUIRE(ddp_params.size() == ref_params.size());

  // float32 rounding: the averaged gradient sums the ranks' partial means in another order.
  const double rtol = world == 1 ? 0 : 1e-5, atol = world == 1 ? 0 : 1e-6;
  for (int step = 0; step < 10; ++step) {
    ddp_opt.zero_grad();
    ref_opt.zero_grad();
    mse(ddp(x), y).backward();
    mse(reference(x_all), y_all).backward();
    for (std::size_t i = 0; i < ddp_params.size(); ++i) {
      INFO("step " << step << ", gradient of parameter " << i << " on " << device << ", " << world << " ranks");
      CHECK(allclose(ddp_params[i].grad(), ref_params[i].grad(), rtol, atol));
    }
    ddp_opt.step();
    ref_opt.step();
  }
  for (std::size_t i = 0; i < ddp_params.size(); ++i) {
    INFO("parameter " << i << " after 10 steps on " << device << ", " << world << " ranks");
    CHECK(allclose(ddp_params[i], ref_params[i], rtol, atol * 10));
    // Identical on every rank, bit for bit: compare with rank 0's copy.
    Tensor rank0 = ddp_params[i].detach().clone();
    g.broadcast(rank0, 0);
    CHECK(allclose(ddp_params[i], rank0, 0, 0));
  }
}

}  // namespace

TEST_CASE("DDP on the CPU equals training on the whole batch", "[cpu][ddp]") {
  check_ddp_matches_full_batch(Device::cpu(), std::size_t{25} << 20);  // one bucket
  check_ddp_matches_full_batch(Device::cpu(), 512);                    // one bucket per layer or two
}

TEST_CASE("DDP on CUDA equals training on the whole batch", "[cuda][ddp]") {
  check_ddp_matches_full_batch(test::group().device(), std::size_t{25} << 20);
  check_ddp_matches_full_batch(test::group().device(), 512);
}

namespace {

// Two backward passes before a step, without zeroing: the gradient is the sum of both passes'
// averages, as one process's would be; with no_sync() around the first pass, the second pass
// averages the local sums, which is the same.
void check_ddp_accumulates(Device device, bool first_pass_local) {
  auto& g = test::group();
  const std::int64_t per_rank = 8, world = g.world_size(), rank = g.rank();
  manual_seed(99);
  const Tensor x_all = randn({per_rank * world, 8}).to(device);
  const Tensor y_all = randn({per_rank * world, 4}).to(device);
  const Tensor x = x_all.slice(0, rank * per_rank, (rank + 1) * per_rank).contiguous();
  const Tensor y = y_all.slice(0, rank * per_rank, (rank + 1) * per_rank).contiguous();
  nn::Sequential local = make_net(11, device);
  nn::DistributedDataParallel ddp(local, test::group_ptr());
  nn::Sequential reference = make_net(11, device);
  nn::MSELoss mse;
  for (int pass = 0; pass < 2; ++pass) {
    if (pass == 0 && first_pass_local) {
      auto local_only = ddp->no_sync();
      mse(ddp(x), y).backward();
      // Nothing was communicated: the gradients are this rank's own, bit for bit.
      nn::Sequential alone = make_net(11, device);
      mse(alone(x), y).backward();
      const auto mine = ddp->parameters(), own = alone->parameters();
      for (std::size_t i = 0; i < mine.size(); ++i) CHECK(allclose(mine[i].grad(), own[i].grad(), 0, 0));
    } else {
      mse(ddp(x), y).backward();
    }
    mse(reference(x_all), y_all).backward();
  }
  const auto a = ddp->parameters(), b = reference->parameters();
  for (std::size_t i = 0; i < a.size(); ++i) {
    INFO("accumulated gradient of parameter " << i << " on " << device << ", " << world << " ranks"
         << (first_pass_local ? ", first pass under no_sync()" : ""));
    CHECK(allclose(a[i].grad(), b[i].grad(), world == 1 ? 0 : 1e-5, world == 1 ? 0 : 1e-6));
  }
}

}  // namespace

TEST_CASE("DDP averages gradients accumulated over two backward passes (CPU)", "[cpu][ddp]") {
  check_ddp_accumulates(Device::cpu(), false);
  check_ddp_accumulates(Device::cpu(), true);
}

TEST_CASE("DDP averages gradients accumulated over two backward passes (CUDA)", "[cuda][ddp]") {
  check_ddp_accumulates(test::group().device(), false);
  check_ddp_accumulates(test::group().device(), true);
}
