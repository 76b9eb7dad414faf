// kernels::cpu::parallel_for and set_num_threads: every item exactly once, whatever the thread
// count and grain; exceptions reach the caller; nested calls and bad settings.
#include <atomic>
#include <stdexcept>
#include <vector>

#include "catch.h"
#include <ember/ember.h>
#include <ember/kernels/cpu/parallel.h>

using ember::kernels::cpu::parallel_for;

namespace {
// Restores the thread count a test changed.
struct ThreadsGuard {
  int saved = ember::get_num_threads();
  ~ThreadsGuard() { ember::set_num_threads(saved); }
};
}  // namespace

TEST_CASE("parallel_for visits every item once, in contiguous chunks", "[parallel]") {
  ThreadsGuard guard;
  for (int threads : {1, 2, 3, 8}) {
    ember::set_num_threads(threads);
    for (std::int64_t n : {0, 1, 7, 1000, 4099}) {
      for (std::int64_t grain : {1, 16, 5000}) {
        std::vector<std::atomic<int>> seen(static_cast<std::size_t>(n));
        std::atomic<int> calls{0};
        parallel_for(n, grain, [&](std::int64_t begin, std::int64_t end) {
          CHECK(begin < end);
          ++calls;
          for (std::int64_t i = begin; i < end; ++i) ++seen[static_cast<std::size_t>(i)];
        });
        for (const auto& s : seen) REQUIRE(s.load() == 1);
        CHECK(calls.load() <= threads);
        if (n > 0 && n <= grain) CHECK(calls.load() == 1);
      }
    }
  }
}

TEST_CASE("parallel_for rethrows a chunk's exception after every chunk stops", "[parallel]") {
  ThreadsGuard guard;
  ember::set_num_threads(4);
  std::atomic<int> finished{0};
  CHECK_THROWS_AS(parallel_for(400, 1,
                               [&](std::int64_t begin, std::int64_t) {
                                 if (begin == 0) throw std::runtime_error("chunk failed");
                                 ++finished;
                               }),
                  std::runtime_error);
  CHECK(finished.load() == 3);
  // The pool still works afterwards.
  std::atomic<std::int64_t> sum{0};
  parallel_for(100, 1, [&](std::int64_t b, std::int64_t e) {
    for (std::int64_t i = b; i < e; ++i) sum += i;
  });
  CHECK(sum.load() == 4950);
}

TEST_CASE("parallel_for inside a chunk runs inline", "[parallel]") {
  ThreadsGuard guard;
  ember::set_num_threads(4);
  std::atomic<std::int64_t> sum{0};
  parallel_for(8, 1, [&](std::int64_t b, std::int64_t e) {
    for (std::int64_t i = b; i < e; ++i) {
      parallel_for(10, 1, [&](std::int64_t b2, std::int64_t e2) {
        CHECK((b2 == 0 && e2 == 10));  // one inline chunk
        for (std::int64_t j = b2; j < e2; ++j) sum += i * 10 + j;
      });
    }
  });
  CHECK(sum.load() == 79 * 80 / 2);
}

TEST_CASE("set_num_threads refuses less than one thread", "[parallel]") {
  ThreadsGuard guard;
  CHECK_THROWS_WITH(ember::set_num_threads(0), Catch::Matchers::ContainsSubstring("at least 1"));
  ember::set_num_threads(3);
  CHECK(ember::get_num_threads() == 3);
}
