// parallel_for: the CPU kernels' one way to use several threads for one op.
//
//   parallel_for(n, grain, [&](std::int64_t begin, std::int64_t end) { ... items [begin, end) ... });
//
// splits [0, n) into at most get_num_threads() contiguous chunks of at least `grain` items and runs
// them on a pool of threads kept for the process (the caller runs one chunk itself) and returns when
// all are done. Work of at most `grain` items, one thread, a call made from inside a chunk, or a call
// while another thread's parallel_for holds the pool all run inline on the calling thread: a chunk
// must therefore not wait for another chunk. Choose the grain so that one chunk is worth tens of
// microseconds: waking a thread costs a few. The first exception a chunk throws is rethrown to the
// caller once every chunk has stopped.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>

namespace ember::kernels::cpu {

void parallel_for(std::int64_t n, std::int64_t grain, const std::function<void(std::int64_t, std::int64_t)>& fn);

// The grain for items that each touch about `work_per_item` elements: enough items that a chunk
// touches kMinChunkWork elements (some tens of microseconds of simple loops).
inline constexpr std::int64_t kMinChunkWork = std::int64_t{1} << 15;
inline std::int64_t grain_for(std::int64_t work_per_item) {
  return std::max<std::int64_t>(1, kMinChunkWork / std::max<std::int64_t>(work_per_item, 1));
}

}  // namespace ember::kernels::cpu
