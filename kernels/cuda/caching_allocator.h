// The caching device allocator: cudaMalloc is slow and synchronizes the device, so freed blocks are
// kept and handed out again, as PyTorch's CUDACachingAllocator does. After the first iteration of
// a training loop every request is served from the cache and cudaMalloc is never called.
//
// Policy (PyTorch's, simplified):
//  - Requests are rounded up to a multiple of 512 bytes.
//  - Requests of at most 1 MiB come from the "small" pool, whose segments (cudaMalloc calls) are
//    2 MiB; larger ones from the "large" pool: 20 MiB segments for requests under 10 MiB, else the
//    request rounded up to 2 MiB. Keeping small and large apart limits fragmentation.
//  - A request takes the smallest free block that fits (best fit, pools ordered by (size, address)),
//    splitting off the rest when the rest is worth keeping (>= 512 B small, > 1 MiB large). A freed
//    block merges with free neighbours of its segment.
//  - Freed blocks of up to 64 KiB wait in a list per size and go to the next request of that
//    size as they are, without search, split or merge (the caching_allocator.cpp notes why); the
//    lists rejoin the pools before a new segment is requested and in empty_cache().
//  - Blocks are stream-ordered: every kernel and copy of a device runs on that device's single
//    stream, so a block freed on the host may be reused at once: any later use is queued behind the
//    work that still reads or writes it. No events are needed.
//  - On cudaErrorMemoryAllocation the cache is released (after a device synchronize) and cudaMalloc
//    retried once; a second failure throws ember::Error with the device's numbers.
// Segments are only returned to the driver by empty_cache() and at destruction.
//
// CUDA-graph capture (ember::cuda::capture) gets a private pool: while a device is capturing, its
// allocations come from segments that only that graph uses, because the graph will write them on
// every replay. Blocks of the shared pool freed during capture are held back too (the graph may
// read them when it replays). Both go back to the shared cache when the graph is destroyed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "ember/core/cuda.h"

namespace ember::kernels::cuda_impl {

class CachingAllocator {
 public:
  explicit CachingAllocator(int device_count);
  ~CachingAllocator();  // returns every segment to the driver (errors ignored)
  CachingAllocator(const CachingAllocator&) = delete;
  CachingAllocator& operator=(const CachingAllocator&) = delete;

  // At least `bytes` of memory on `device`, never null (0 bytes gets a minimal block). Blocks
  // allocated with `counted` false (library workspaces) count as reserved but not as allocated.
  void* allocate(std::size_t bytes, int device, bool counted = true);
  // Returns a block to the cache. Unknown pointers are ignored: this runs from destructors.
  void deallocate(void* ptr, int device) noexcept;
  // Synchronizes each device, then returns its unused segments to the driver.
  void empty_cache();

  // Routes `device`'s allocations to a new private pool until end_capture; returns its id.
  int begin_capture(int device);
  void end_capture(int device);
  // The graph of pool `id` is gone: its memory and the blocks held back for it rejoin the cache.
  void release_pool(int device, int id) noexcept;

  ember::cuda::MemoryStats stats(int device) const;
  void reset_peak(int device);
  // cudaMalloc calls since the process started, all devices together.
  static std::uint64_t malloc_count() noexcept;

 private:
  struct Block;
  struct DeviceState;
  DeviceState& state(int device) const;
  static void free_block(DeviceState& s, Block* block) noexcept;  // caller holds s.mutex
  static void mark_allocated(DeviceState& s, Block& block, bool counted) noexcept;  // likewise

  std::vector<std::unique_ptr<DeviceState>> devices_;
};

// A block of the caching allocator owned for a scope (temporary buffers, workspaces).
class CachedBuffer {
 public:
  CachedBuffer() = default;
  CachedBuffer(CachingAllocator& allocator, std::size_t bytes, int device, bool counted = true)
      : allocator_(&allocator), ptr_(allocator.allocate(bytes, device, counted)), device_(device) {}
  CachedBuffer(CachedBuffer&& other) noexcept { swap(other); }
  CachedBuffer& operator=(CachedBuffer&& other) noexcept {
    CachedBuffer(std::move(other)).swap(*this);
    return *this;
  }
  ~CachedBuffer() {
    if (ptr_ != nullptr) allocator_->deallocate(ptr_, device_);
  }

  void* get() const { return ptr_; }
  template <typename T> T* as() const { return static_cast<T*>(ptr_); }

 private:
  void swap(CachedBuffer& other) noexcept {
    std::swap(allocator_, other.allocator_);
    std::swap(ptr_, other.ptr_);
    std::swap(device_, other.device_);
  }

  CachingAllocator* allocator_ = nullptr;  // not owned
  void* ptr_ = nullptr;
  int device_ = 0;
};

}  // namespace ember::kernels::cuda_impl
