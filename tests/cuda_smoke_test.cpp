// The CUDA runtime as ember::cuda reports it. Runs only where a GPU is present (see cuda_main.cpp).
#include "catch.h"
#include "ember/core/cuda.h"

TEST_CASE("a CUDA device is visible", "[cuda]") {
  REQUIRE(ember::cuda::is_available());
  REQUIRE(ember::cuda::device_count() > 0);
}

TEST_CASE("memory_stats answers for every visible device", "[cuda]") {
  const int count = ember::cuda::device_count();
  REQUIRE(count > 0);
  for (int device = 0; device < count; ++device) {
    INFO("device " << device);
    ember::cuda::MemoryStats stats;
    REQUIRE_NOTHROW(stats = ember::cuda::memory_stats(device));
    CHECK(stats.reserved_bytes >= stats.allocated_bytes);
    CHECK(stats.peak_allocated_bytes >= stats.allocated_bytes);
  }
}

TEST_CASE("synchronize returns with nothing queued", "[cuda]") {
  REQUIRE_NOTHROW(ember::cuda::synchronize());
}
