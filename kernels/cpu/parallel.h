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

#include <cstdint>
#include <functional>

namespace ember::kernels::cpu {

void parallel_for(std::int64_t n, std::int64_t grain, const std::function<void(std::int64_t, std::int64_t)>& fn);

}  // namespace ember::kernels::cpu
