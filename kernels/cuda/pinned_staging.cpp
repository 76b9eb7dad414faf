// The pinned ring buffer for host -> device copies (design in pinned_staging.h).
#include "ember/kernels/cuda/pinned_staging.h"

#include <algorithm>
#include <thread>
#include <utility>

#include "ember/kernels/cuda/check.h"

namespace ember::kernels::cuda_impl {

namespace {
constexpr std::size_t kRegionAlignment = 256;  // keeps every region's start DMA-friendly
}

// Four threads fill a chunk at several times one thread's rate; half the cores at most, so that a
// small host is not swamped.
unsigned PinnedStaging::copy_threads() {
  return std::clamp(std::thread::hardware_concurrency() / 2, 1u, 4u);
}

PinnedStaging::~PinnedStaging() {
  // A DMA may still read the ring: wait before cudaFreeHost (via buffer_) unmaps it.
  for (Region& region : in_flight_) (void)cudaEventSynchronize(region.done.get());
}

void PinnedStaging::ensure_ring() {
  if (buffer_) return;
  void* ptr = nullptr;
  EMBER_CUDA_CHECK(cudaHostAlloc(&ptr, kCapacity, cudaHostAllocDefault));
  buffer_.reset(ptr);
}

std::size_t PinnedStaging::reserve(std::size_t size) {
  size = (size + kRegionAlignment - 1) / kRegionAlignment * kRegionAlignment;
  // In-flight regions occupy the ring from the oldest region's start forward (possibly wrapping)
  // to head_; the free space runs from head_ forward to the oldest region's start.
  for (;;) {
    if (in_flight_.empty()) {
      head_ = size;
      return 0;
    }
    const std::size_t oldest = in_flight_.front().begin;
    if (oldest > head_) {  // occupied: [oldest, end) and [0, head_); free: [head_, oldest)
      if (oldest - head_ >= size) return std::exchange(head_, head_ + size);
    } else if (oldest < head_) {  // occupied: [oldest, head_); free: [head_, end) and [0, oldest)
      if (kCapacity - head_ >= size) return std::exchange(head_, head_ + size);
      if (oldest >= size) {  // wrap around; [head_, end) stays unused this lap
        head_ = size;
        return 0;
      }
    }  // oldest == head_: the ring is full
    retire_oldest();
  }
}

void PinnedStaging::retire_oldest() {
  EMBER_CUDA_CHECK(cudaEventSynchronize(in_flight_.front().done.get()));
  spare_events_.push_back(std::move(in_flight_.front().done));
  in_flight_.pop_front();
}

void PinnedStaging::copy_from_host(void* dst, const void* src, std::size_t bytes, cudaStream_t stream) {
  std::lock_guard lock(mutex_);
  ensure_ring();
  auto* to = static_cast<std::byte*>(dst);
  const auto* from = static_cast<const std::byte*>(src);
  for (std::size_t copied = 0; copied < bytes;) {
    const std::size_t n = std::min(kChunk, bytes - copied);
    const std::size_t begin = reserve(n);  // waits only if the ring is full
    memcpy_.copy(ring() + begin, from + copied, n);
    EMBER_CUDA_CHECK(cudaMemcpyAsync(to + copied, ring() + begin, n, cudaMemcpyHostToDevice, stream));

    // Record when this region's DMA is done; the region stays reserved until then.
    Event done;
    if (spare_events_.empty()) {
      cudaEvent_t event = nullptr;
      EMBER_CUDA_CHECK(cudaEventCreateWithFlags(&event, cudaEventDisableTiming));
      done.reset(event);
    } else {
      done = std::move(spare_events_.back());
      spare_events_.pop_back();
    }
    EMBER_CUDA_CHECK(cudaEventRecord(done.get(), stream));
    in_flight_.push_back(Region{begin, std::move(done)});
    copied += n;
  }
}

}  // namespace ember::kernels::cuda_impl
