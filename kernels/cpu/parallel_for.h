// parallel_for: runs fn(begin, end) over chunks of [0, n) on several threads when the work is large
// enough to pay for starting them, else once on the calling thread. For CPU kernels whose items are
// independent (pooling's planes): each item is computed by one thread, in the same order as alone,
// so results do not depend on the number of threads. The other CPU kernels are single-threaded
// (Eigen's GEMM included: Ember does not build it with OpenMP).
//
// Threads are started per call and joined before it returns: tens of microseconds each on an idle
// machine (far more on an oversubscribed one: 200 us measured on a loaded 2-core host), so only
// work of a quarter million elements or more per thread is split. A pool of kept workers, as
// ParallelMemcpy has, would lower that bar. fn must not throw.
#pragma once

#include <algorithm>
#include <cstdint>
#include <thread>
#include <vector>

namespace ember::kernels::cpu {

// Elements touched per thread below which a thread is not worth starting (about 0.3 ms of pooling).
inline constexpr std::int64_t kMinWorkPerThread = std::int64_t{1} << 18;

inline unsigned cpu_threads() {
  static const unsigned count = std::max(1u, std::thread::hardware_concurrency());
  return count;
}

// `work_per_item`: about how many elements one item reads or writes.
template <typename Fn> void parallel_for(std::int64_t n, std::int64_t work_per_item, const Fn& fn) {
  if (n <= 0) return;
  // In double: n * work_per_item may not fit an int64 for absurd sizes, and only its scale matters.
  const double work = static_cast<double>(n) * static_cast<double>(std::max<std::int64_t>(work_per_item, 1));
  const auto wanted = static_cast<std::int64_t>(std::min(work / static_cast<double>(kMinWorkPerThread), 1e6));
  const std::int64_t threads = std::min({static_cast<std::int64_t>(cpu_threads()), n, wanted});
  if (threads <= 1) {
    fn(std::int64_t{0}, n);
    return;
  }
  const std::int64_t chunk = (n + threads - 1) / threads;
  std::vector<std::jthread> workers;
  workers.reserve(static_cast<std::size_t>(threads - 1));
  for (std::int64_t begin = chunk; begin < n; begin += chunk) {
    workers.emplace_back([&fn, begin, end = std::min(n, begin + chunk)] { fn(begin, end); });
  }
  fn(std::int64_t{0}, std::min(n, chunk));
}  // the workers join here

}  // namespace ember::kernels::cpu
