// Host -> device copies through a ring buffer of pinned (page-locked) host memory.
//
// Why: cudaMemcpyAsync from pageable memory first waits for all work already queued on the stream,
// so the host stalls behind the GPU. Copying the caller's bytes into pinned memory ourselves and
// queueing a DMA from there lets copy_from_host return as soon as the caller's buffer has been read
// (the caller may free it right after), while the device copy runs later in stream order.
//
// The ring (16 MiB, allocated on first use) is carved into regions, one per copy of up to 4 MiB;
// an event recorded after each region's DMA says when the region may be overwritten. A large copy
// is cut into 4 MiB chunks, so the host memcpy of chunk i+1 overlaps the DMA of chunk i. Regions are
// reused oldest first; when the ring is full the host waits for the oldest region's event only.
//
// One thread's memcpy into the ring is the limit (H200 host, 256 MB: 6.8-8.0 GB/s staged against
// 6.9-7.1 GB/s for cudaMemcpy from pageable memory), so chunks are copied in by several threads
// (kernels/parallel_memcpy.h); the DMA itself runs at PCIe speed.
// Device -> host copies do not use it: there the driver's own pageable path was faster (15 GB/s
// against 7.6 GB/s staged), and the caller waits for the data anyway.
//
// One instance per device, used with that device current. Thread-safe.
#pragma once

#include <cuda_runtime.h>

#include <cstddef>
#include <deque>
#include <mutex>
#include <vector>

#include "ember/kernels/cuda/handles.h"
#include "ember/kernels/parallel_memcpy.h"

namespace ember::kernels::cuda_impl {

class PinnedStaging {
 public:
  static constexpr std::size_t kCapacity = std::size_t{16} << 20;
  static constexpr std::size_t kChunk = std::size_t{4} << 20;

  PinnedStaging() = default;
  ~PinnedStaging();  // waits for copies still reading the ring (errors ignored)
  PinnedStaging(const PinnedStaging&) = delete;
  PinnedStaging& operator=(const PinnedStaging&) = delete;

  // Queues dst (device) <- src (host) on `stream`. Returns once src has been read entirely.
  void copy_from_host(void* dst, const void* src, std::size_t bytes, cudaStream_t stream);

 private:
  struct Region {
    std::size_t begin = 0;  // offset in the ring
    Event done;             // recorded after the region's DMA
  };

  void ensure_ring();                     // allocates the pinned ring on first use
  std::size_t reserve(std::size_t size);  // offset of `size` free bytes; waits for old regions
  void retire_oldest();                   // waits for the oldest region's DMA, frees the region
  std::byte* ring() const { return static_cast<std::byte*>(buffer_.get()); }
  static unsigned copy_threads();         // how many threads fill the ring

  std::mutex mutex_;
  PinnedHostMemory buffer_;
  std::deque<Region> in_flight_;  // oldest first; they lie in ring order ending at head_
  std::vector<Event> spare_events_;
  std::size_t head_ = 0;          // where the next region starts (if it fits before the end)
  ParallelMemcpy memcpy_{copy_threads()};
};

}  // namespace ember::kernels::cuda_impl
