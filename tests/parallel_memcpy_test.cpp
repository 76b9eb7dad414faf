// ParallelMemcpy: every byte lands where a plain memcpy would put it, for any size around the
// share boundaries and across repeated calls that reuse the workers.
#include <cstdint>
#include <numeric>
#include <vector>

#include "catch.h"
#include "ember/kernels/parallel_memcpy.h"

using ember::kernels::ParallelMemcpy;

TEST_CASE("ParallelMemcpy copies exactly what memcpy does", "[kernels][memcpy]") {
  for (unsigned threads : {1u, 2u, 3u, 4u}) {
    ParallelMemcpy pool(threads);
    CHECK(pool.threads() == threads);
    for (std::size_t bytes : {std::size_t{0}, std::size_t{1}, std::size_t{1000},
                              ParallelMemcpy::kMinParallelBytes - 1, ParallelMemcpy::kMinParallelBytes,
                              ParallelMemcpy::kMinParallelBytes + 1, std::size_t{3} << 20, (std::size_t{5} << 20) + 7}) {
      std::vector<std::uint8_t> src(bytes), dst(bytes + 2, 0xAB);
      std::iota(src.begin(), src.end(), static_cast<std::uint8_t>(bytes));
      pool.copy(dst.data() + 1, src.data(), bytes);
      INFO(threads << " threads, " << bytes << " bytes");
      CHECK(std::equal(src.begin(), src.end(), dst.begin() + 1));
      CHECK(dst.front() == 0xAB);  // nothing written outside
      CHECK(dst.back() == 0xAB);
    }
  }
}
