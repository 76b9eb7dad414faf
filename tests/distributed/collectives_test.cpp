// Collectives across the ranks of the group, on the CPU (MPI) and on CUDA (NCCL). Each rank
// contributes values that depend on its rank, so the expected results are known in closed form.
#include "catch.h"
#include "distributed_support.h"

using namespace ember;
using distributed::ReduceOp;

namespace {

void check_all_reduce(Device device, DType dtype) {
  auto& g = test::group();
  const double w = g.world_size(), r = g.rank();
  struct Case {
    ReduceOp op;
    double expected;
  };
  const Case cases[] = {{ReduceOp::Sum, w * (w + 1) / 2}, {ReduceOp::Avg, (w + 1) / 2},
                        {ReduceOp::Max, w}, {ReduceOp::Min, 1}};
  for (const Case& c : cases) {
    INFO(distributed::to_string(c.op) << " over " << w << " ranks, " << dtype << " on " << device);
    Tensor t = full({3, 1000}, r + 1, TensorOptions(dtype).device(device));
    g.all_reduce(t, c.op);
    CHECK(allclose(t, full({3, 1000}, c.expected, dtype), 1e-6, 0));
  }
  // Asynchronous: the result is there after wait(), and ops queued after it see it.
  Tensor t = full({257}, r + 1, TensorOptions(dtype).device(device));
  auto work = g.all_reduce_async(t, ReduceOp::Sum);
  work->wait();
  CHECK((work->is_completed() || device.is_cuda()));
  CHECK(allclose(t * 2.0, full({257}, w * (w + 1), dtype), 1e-6, 0));
}

void check_broadcast(Device device) {
  auto& g = test::group();
  const int root = g.world_size() - 1;
  Tensor t = full({4, 5}, g.rank() * 10.0, TensorOptions(kFloat32).device(device));
  g.broadcast(t, root);
  CHECK(allclose(t, full({4, 5}, root * 10.0), 0, 0));
}

}  // namespace

TEST_CASE("all_reduce sums, averages, maxes and mins on the CPU", "[cpu][collectives]") {
  check_all_reduce(Device::cpu(), kFloat32);
  check_all_reduce(Device::cpu(), kFloat64);
}

TEST_CASE("broadcast copies the root's tensor on the CPU", "[cpu][collectives]") {
  check_broadcast(Device::cpu());
  test::group().barrier();
}

TEST_CASE("all_reduce sums, averages, maxes and mins on CUDA", "[cuda][collectives]") {
  const Device dev = test::group().device();
  check_all_reduce(dev, kFloat32);
  check_all_reduce(dev, kFloat64);
}

TEST_CASE("broadcast copies the root's tensor on CUDA", "[cuda][collectives]") {
  check_broadcast(test::group().device());
  test::group().barrier();
}

TEST_CASE("collectives refuse tensors they cannot reduce in place", "[cpu][collectives]") {
  auto& g = test::group();
  Tensor t = zeros({4, 6}).t();  // not contiguous
  CHECK_THROWS_WITH(g.all_reduce(t), Catch::Matchers::ContainsSubstring("contiguous"));
  Tensor ok = zeros({3});
  CHECK_THROWS_WITH(g.broadcast(ok, g.world_size()), Catch::Matchers::ContainsSubstring("root"));
  Tensor leaf = zeros({3}, TensorOptions().requires_grad(true));
  CHECK_THROWS_WITH(g.all_reduce(leaf), Catch::Matchers::ContainsSubstring("NoGradGuard"));
}

TEST_CASE("the group knows its ranks and meets at barriers", "[cpu][cuda][bootstrap]") {
  auto& g = test::group();
  CHECK(g.world_size() >= 1);
  CHECK(g.rank() >= 0);
  CHECK(g.rank() < g.world_size());
  for (int i = 0; i < 5; ++i) g.barrier();
  if (g.world_size() > 1 && !g.backends().mpi) {
    // Set up from environment variables without mpirun: CPU tensors have no transport.
    Tensor t = zeros({2});
    CHECK_THROWS_WITH(g.all_reduce(t), Catch::Matchers::ContainsSubstring("mpirun"));
  }
}
