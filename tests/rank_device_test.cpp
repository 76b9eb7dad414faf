// distributed::rank_device with made-up GPU counts: one GPU per local rank, the CPU without GPUs,
// and a clear error (never two ranks on one GPU, which NCCL refuses) when ranks outnumber GPUs.
#include "catch.h"
#include <ember/ember.h>

using namespace ember;
using distributed::rank_device;

TEST_CASE("rank_device gives each local rank a GPU of its own", "[distributed]") {
  CHECK(rank_device(0, 1, 1) == Device::cuda(0));
  for (int r = 0; r < 4; ++r) CHECK(rank_device(r, 4, 4) == Device::cuda(r));
  CHECK(rank_device(2, 3, 8) == Device::cuda(2));  // spare GPUs stay unused
}

TEST_CASE("rank_device puts ranks on the CPU when the host has no GPU", "[distributed]") {
  for (int r = 0; r < 3; ++r) CHECK(rank_device(r, 3, 0) == Device::cpu());
}

TEST_CASE("rank_device refuses more local ranks than GPUs", "[distributed]") {
  using Catch::Matchers::ContainsSubstring;
  // Every rank refuses, also those whose index would fit, so that none waits in NCCL for the others.
  for (int r = 0; r < 3; ++r) {
    CHECK_THROWS_AS(rank_device(r, 3, 1), Error);
    CHECK_THROWS_WITH(rank_device(r, 3, 1), ContainsSubstring("3 ranks but has 1 GPU") &&
                                                ContainsSubstring("at most 1 rank per host") &&
                                                ContainsSubstring("mpirun"));
  }
  CHECK_THROWS_WITH(rank_device(0, 8, 4), ContainsSubstring("8 ranks but has 4 GPUs"));
}

TEST_CASE("rank_device refuses arguments that are not a rank and counts", "[distributed]") {
  CHECK_THROWS_AS(rank_device(3, 3, 4), Error);
  CHECK_THROWS_AS(rank_device(-1, 3, 4), Error);
  CHECK_THROWS_AS(rank_device(0, 0, 4), Error);
  CHECK_THROWS_AS(rank_device(0, 1, -1), Error);
}
