// ember::distributed in one process, with no launcher: the sampler's split, and a group of one,
// in which collectives are the identity and DDP must train exactly like the plain model.
#include <algorithm>
#include <set>

#include "catch.h"
#include <ember/ember.h>

using namespace ember;
using distributed::DistributedSampler;

TEST_CASE("DistributedSampler splits a data set like PyTorch's", "[distributed][sampler]") {
  SECTION("without shuffle: rank r takes r, r + n, ...; the tail is padded from the start") {
    // PyTorch: DistributedSampler(range(10), num_replicas=4, rank=r, shuffle=False)
    const std::vector<std::vector<std::int64_t>> expected = {{0, 4, 8}, {1, 5, 9}, {2, 6, 0}, {3, 7, 1}};
    for (int r = 0; r < 4; ++r) {
      DistributedSampler s(10, 4, r, {.shuffle = false});
      CHECK(s.num_samples() == 3);
      CHECK(s.total_size() == 12);
      CHECK(s.indices() == expected[static_cast<std::size_t>(r)]);
    }
  }
  SECTION("drop_last cuts the tail instead") {
    DistributedSampler s(10, 4, 3, {.shuffle = false, .drop_last = true});
    CHECK(s.num_samples() == 2);
    CHECK(s.indices() == std::vector<std::int64_t>{3, 7});
  }
  SECTION("with shuffle: the ranks together cover the data set once, the same way on every rank") {
    std::multiset<std::int64_t> all;
    for (int r = 0; r < 3; ++r) {
      DistributedSampler s(99, 3, r, {.seed = 5});
      s.set_epoch(2);
      const auto idx = s.indices();
      CHECK(idx.size() == 33);
      all.insert(idx.begin(), idx.end());
      DistributedSampler again(99, 3, r, {.seed = 5});
      again.set_epoch(2);
      CHECK(again.indices() == idx);  // what another rank computes for rank r
    }
    for (std::int64_t i = 0; i < 99; ++i) CHECK(all.count(i) == 1);
    DistributedSampler s(99, 3, 0, {.seed = 5});
    s.set_epoch(2);
    const auto epoch2 = s.indices();
    s.set_epoch(3);
    CHECK(s.indices() != epoch2);
    CHECK(!std::is_sorted(epoch2.begin(), epoch2.end()));
  }
  CHECK_THROWS_WITH(DistributedSampler(10, 2, 2), Catch::Matchers::ContainsSubstring("rank 2"));
}

TEST_CASE("a process group of one: identity collectives, exact DDP", "[distributed]") {
  auto group = distributed::ProcessGroup::init();
  REQUIRE(group->world_size() == 1);
  CHECK(group->rank() == 0);
  CHECK(group->launcher() == "single");
  CHECK(group->local_world_size() == 1);
  CHECK_THROWS_WITH(distributed::ProcessGroup::init(), Catch::Matchers::ContainsSubstring("already has a group"));

  Tensor t = tensor({1.5, -2.0}, {2}, kFloat64);
  group->all_reduce(t, distributed::ReduceOp::Avg);
  CHECK(t.to_vector<double>() == std::vector<double>{1.5, -2.0});
  group->broadcast(t, 0);
  group->barrier();

  manual_seed(3);
  nn::Linear plain(10, 2);
  manual_seed(3);
  nn::Linear wrapped(10, 2);
  nn::DistributedDataParallel ddp(wrapped, group);
  CHECK(ddp->bucket_count() == 1);
  CHECK(ddp->named_parameters().front().first == "module.weight");
  optim::Adam plain_opt(plain->parameters(), {.lr = 0.01});
  optim::Adam ddp_opt(ddp->parameters(), {.lr = 0.01});
  nn::MSELoss mse;
  manual_seed(4);
  const Tensor x = randn({100, 10}), y = randn({100, 2});
  for (int step = 0; step < 50; ++step) {
    plain_opt.zero_grad();
    ddp_opt.zero_grad();
    mse(plain(x), y).backward();
    mse(ddp(x), y).backward();
    plain_opt.step();
    ddp_opt.step();
  }
  CHECK(allclose(plain->weight, wrapped->weight, 0, 0));
  CHECK(allclose(plain->bias, wrapped->bias, 0, 0));
}
