// The caching device allocator (policy in caching_allocator.h). Bookkeeping per device:
//  - segments: the cudaMalloc'd memory, owned (freed by DeviceMemory's deleter);
//  - blocks: every block, free or allocated, by address; a segment is a doubly linked chain of
//    blocks (prev/next) covering it exactly;
//  - small_free / large_free: the free blocks ordered by (size, address), for best-fit lookup.
// Invariant: two neighbouring blocks of a segment are never both free (frees merge).
#include "ember/kernels/cuda/caching_allocator.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <functional>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <unordered_map>

#include "ember/core/error.h"
#include "ember/core/log.h"
#include "ember/kernels/cuda/check.h"
#include "ember/kernels/cuda/device.h"
#include "ember/kernels/cuda/handles.h"
#include "ember/kernels/cuda/runtime.h"

namespace ember::kernels::cuda_impl {

namespace {

constexpr std::size_t kMinBlockSize = 512;           // granularity of every request
constexpr std::size_t kSmallSize = 1 << 20;          // requests up to this use the small pool
constexpr std::size_t kSmallSegment = 2 << 20;       // segment size of the small pool
constexpr std::size_t kMinLargeAlloc = 10 << 20;     // large requests below this share a segment
constexpr std::size_t kLargeSegment = 20 << 20;      // ... of this size
constexpr std::size_t kLargeRounding = 2 << 20;      // larger requests get their own, rounded up
constexpr std::size_t kMaxRequest = std::size_t{1} << 50;  // guards the rounding against overflow
// Fast lists: blocks of the shared pool of up to kFastMaxSize bytes, when freed, wait in a list
// per size for the next request of that size, which takes one without the best-fit search, the
// split and the merge (set and map updates, two heap allocations): a small training step frees
// and allocates the same few sizes every step. At most kFastPerSize blocks wait per size.
constexpr std::size_t kFastMaxSize = 64 << 10;
constexpr std::size_t kFastSizes = kFastMaxSize / kMinBlockSize;
constexpr std::size_t kFastPerSize = 32;

std::atomic<std::uint64_t> g_malloc_count{0};

std::size_t round_up(std::size_t n, std::size_t multiple) { return (n + multiple - 1) / multiple * multiple; }

std::size_t block_size_for(std::size_t bytes) { return std::max(kMinBlockSize, round_up(bytes, kMinBlockSize)); }

std::size_t segment_size_for(std::size_t size) {
  if (size <= kSmallSize) return kSmallSegment;
  if (size < kMinLargeAlloc) return kLargeSegment;
  return round_up(size, kLargeRounding);
}

std::string readable(std::size_t bytes) {  // "12.50 MiB", "3.00 GiB"
  const bool gib = bytes >= (std::size_t{1} << 30);
  std::ostringstream out;
  out.precision(2);
  out << std::fixed << static_cast<double>(bytes) / (gib ? 1073741824.0 : 1048576.0) << (gib ? " GiB" : " MiB");
  return out.str();
}

}  // namespace

struct CachingAllocator::Block {
  std::byte* ptr = nullptr;
  std::size_t size = 0;
  bool small = false;      // which pool it belongs to (all blocks of a segment share it)
  bool allocated = false;  // also true while in a fast list: neighbours must not merge with it
  bool fast = false;       // waiting in a fast list (freed by its owner)
  bool counted = true;     // counts toward allocated_bytes while allocated
  int pool = 0;            // 0: the shared pool; else the private pool of a captured graph
  Block* prev = nullptr;   // neighbours within the segment (not owned)
  Block* next = nullptr;
};

namespace {
struct BySizeThenAddress {
  template <typename B> bool operator()(const B* a, const B* b) const {
    if (a->size != b->size) return a->size < b->size;
    return std::less<const std::byte*>{}(a->ptr, b->ptr);
  }
};
}  // namespace

namespace {
template <typename Block> struct FreeLists {
  std::set<Block*, BySizeThenAddress> small_free;
  std::set<Block*, BySizeThenAddress> large_free;
};
}  // namespace

struct CachingAllocator::DeviceState : FreeLists<Block> {  // the shared pool's free lists
  mutable std::mutex mutex;
  // Declared first so it is destroyed last: blocks point into segments, never the other way.
  std::unordered_map<const void*, DeviceMemory> segments;
  std::unordered_map<const void*, std::unique_ptr<Block>> blocks;
  std::size_t allocated = 0, reserved = 0, peak = 0;
  // Graph capture: the pool being captured into (0: none), each graph's private free lists, and
  // the shared blocks freed during a capture, held until that graph is released.
  int capturing = 0;
  int next_pool = 1;
  std::unordered_map<int, FreeLists<Block>> private_pools;
  std::unordered_map<int, std::vector<Block*>> held_back;
  // The fast lists (kFastMaxSize above), indexed by size / kMinBlockSize - 1.
  std::array<std::vector<Block*>, kFastSizes> fast;
  std::size_t fast_blocks = 0;

  FreeLists<Block>& lists(int pool) { return pool == 0 ? *this : private_pools[pool]; }
  std::vector<Block*>& fast_list(std::size_t size) { return fast[size / kMinBlockSize - 1]; }
  // Frees every block of the fast lists for real, merging it with its free neighbours.
  void flush_fast() noexcept {
    if (fast_blocks == 0) return;
    for (std::vector<Block*>& list : fast) {
      for (Block* block : list) {
        block->fast = false;
        free_block(*this, block);
      }
      list.clear();
    }
    fast_blocks = 0;
  }
  std::set<Block*, BySizeThenAddress>& pool(const Block& b) {
    FreeLists<Block>& l = lists(b.pool);
    return b.small ? l.small_free : l.large_free;
  }
};

CachingAllocator::CachingAllocator(int device_count) {
  for (int d = 0; d < device_count; ++d) devices_.push_back(std::make_unique<DeviceState>());
}

CachingAllocator::~CachingAllocator() = default;  // DeviceMemory's deleter frees each segment

CachingAllocator::DeviceState& CachingAllocator::state(int device) const {
  EMBER_CHECK(device >= 0 && device < static_cast<int>(devices_.size()), "ember: CUDA device ", device,
              " does not exist: this machine has ", devices_.size(), " CUDA device(s)");
  return *devices_[static_cast<std::size_t>(device)];
}

namespace {

// Returns every whole free segment of `s` to the driver. Caller holds s.mutex and has made the
// device current. Synchronizes first: a cached block may still be read by queued kernels, those
// still in the launch queue included.
template <typename State> void release_cached(State& s, int device) {
  s.flush_fast();
  drain_launches(device);
  EMBER_CUDA_CHECK(cudaDeviceSynchronize());
  for (auto* pool : {&s.small_free, &s.large_free}) {
    for (auto it = pool->begin(); it != pool->end();) {
      auto* block = *it;
      if (block->prev != nullptr || block->next != nullptr) {  // part of a segment still in use
        ++it;
        continue;
      }
      const void* base = block->ptr;
      s.reserved -= block->size;
      it = pool->erase(it);
      s.blocks.erase(base);
      // Bookkeeping first, then the checked free: if cudaFree fails the memory leaks instead of
      // staying in a pool as a dangling block.
      auto node = s.segments.extract(base);
      EMBER_CUDA_CHECK(cudaFree(node.mapped().release()));
    }
  }
}

}  // namespace

void* CachingAllocator::allocate(std::size_t bytes, int device, bool counted) {
  EMBER_CHECK(bytes <= kMaxRequest, "ember: CUDA allocation of ", bytes, " bytes is too large");
  DeviceState& s = state(device);
  const std::size_t size = block_size_for(bytes);
  const bool small = size <= kSmallSize;

  std::lock_guard lock(s.mutex);
  if (size <= kFastMaxSize && s.capturing == 0) {
    if (std::vector<Block*>& list = s.fast_list(size); !list.empty()) {
      Block* block = list.back();
      list.pop_back();
      --s.fast_blocks;
      block->fast = false;
      mark_allocated(s, *block, counted);
      return block->ptr;
    }
  }
  FreeLists<Block>& lists = s.lists(s.capturing);
  auto& pool = small ? lists.small_free : lists.large_free;

  // Best fit: the first free block, in (size, address) order, at least `size` bytes long. Before
  // asking the driver for more, the fast lists' blocks rejoin the pool.
  Block probe;
  probe.size = size;
  Block* block = nullptr;
  auto it = pool.lower_bound(&probe);
  if (it == pool.end() && s.capturing == 0 && s.fast_blocks > 0) {
    s.flush_fast();
    it = pool.lower_bound(&probe);
  }
  if (it != pool.end()) {
    block = *it;
    pool.erase(it);
  } else {
    // A new segment from the driver.
    const std::size_t segment = segment_size_for(size);
    const DeviceGuard guard(device);
    void* ptr = nullptr;
    cudaError_t status = cudaSuccess;
    if (s.capturing != 0) {
      // cudaMalloc is not a stream operation, but the capture's mode forbids it: allow it here,
      // as PyTorch does. (No cache release on failure: that would synchronize mid-capture.)
      cudaStreamCaptureMode mode = cudaStreamCaptureModeRelaxed;
      EMBER_CUDA_CHECK(cudaThreadExchangeStreamCaptureMode(&mode));
      status = cudaMalloc(&ptr, segment);
      EMBER_CUDA_CHECK(cudaThreadExchangeStreamCaptureMode(&mode));
    } else {
      status = cudaMalloc(&ptr, segment);
      if (status == cudaErrorMemoryAllocation) {
        (void)cudaGetLastError();  // clear it, free what the cache holds and try once more
        release_cached(s, device);
        status = cudaMalloc(&ptr, segment);
      }
    }
    if (status == cudaErrorMemoryAllocation) {
      (void)cudaGetLastError();
      std::size_t free_bytes = 0, total_bytes = 0;
      if (cudaMemGetInfo(&free_bytes, &total_bytes) != cudaSuccess) (void)cudaGetLastError();
      EMBER_FAIL("ember: CUDA out of memory on cuda:", device, ": tried to allocate ", readable(bytes),
                 " (", bytes, " bytes, as a segment of ", readable(segment), "); Ember has ", readable(s.allocated),
                 " allocated and ", readable(s.reserved), " reserved on this device, which has ", readable(free_bytes),
                 " free of ", readable(total_bytes), ". Free tensors or call ember::cuda::empty_cache().");
    }
    check_status(status, "cudaMalloc", __FILE__, __LINE__);
    g_malloc_count.fetch_add(1, std::memory_order_relaxed);
    logging::debug("CUDA: cudaMalloc of a {} segment on cuda:{} for a {}-byte request ({} now reserved)",
               readable(segment), device, bytes, readable(s.reserved + segment));
    s.segments.emplace(ptr, DeviceMemory(ptr));
    s.reserved += segment;

    auto owned = std::make_unique<Block>();
    owned->ptr = static_cast<std::byte*>(ptr);
    owned->size = segment;
    owned->small = small;
    owned->pool = s.capturing;
    block = owned.get();
    s.blocks.emplace(ptr, std::move(owned));
  }

  // Split off the tail when it is big enough to serve another request of this pool.
  const std::size_t rest = block->size - size;
  if (small ? rest >= kMinBlockSize : rest > kSmallSize) {
    auto tail = std::make_unique<Block>();
    tail->ptr = block->ptr + size;
    tail->size = rest;
    tail->small = block->small;
    tail->pool = block->pool;
    tail->prev = block;
    tail->next = block->next;
    if (block->next != nullptr) block->next->prev = tail.get();
    block->next = tail.get();
    block->size = size;
    pool.insert(tail.get());
    s.blocks.emplace(tail->ptr, std::move(tail));
  }

  mark_allocated(s, *block, counted);
  return block->ptr;
}

void CachingAllocator::deallocate(void* ptr, int device) noexcept {
  if (ptr == nullptr || device < 0 || device >= static_cast<int>(devices_.size())) return;
  DeviceState& s = *devices_[static_cast<std::size_t>(device)];
  std::lock_guard lock(s.mutex);
  const auto found = s.blocks.find(ptr);
  if (found == s.blocks.end() || !found->second->allocated || found->second->fast) return;
  Block* block = found->second.get();
  if (s.capturing != 0 && block->pool == 0) {
    // Freed while a graph is being captured: the graph may read it on replay. Hold it back.
    s.held_back[s.capturing].push_back(block);
    return;
  }
  if (block->pool == 0 && block->small && block->size <= kFastMaxSize) {
    if (std::vector<Block*>& list = s.fast_list(block->size); list.size() < kFastPerSize) {
      if (list.capacity() == 0) list.reserve(kFastPerSize);  // no allocation when it fills later
      if (block->counted) s.allocated -= block->size;
      block->counted = false;  // so that flush_fast's free_block does not count it out again
      block->fast = true;
      list.push_back(block);
      ++s.fast_blocks;
      return;
    }
  }
  free_block(s, block);
}

void CachingAllocator::mark_allocated(DeviceState& s, Block& block, bool counted) noexcept {
  block.allocated = true;
  block.counted = counted;
  if (counted) {
    s.allocated += block.size;
    s.peak = std::max(s.peak, s.allocated);
  }
}

void CachingAllocator::free_block(DeviceState& s, Block* block) noexcept {
  block->allocated = false;
  if (block->counted) s.allocated -= block->size;

  auto& pool = s.pool(*block);
  // Merge with a free previous block: it absorbs this one.
  if (Block* prev = block->prev; prev != nullptr && !prev->allocated) {
    pool.erase(prev);  // before its size (the ordering key) changes
    prev->size += block->size;
    prev->next = block->next;
    if (block->next != nullptr) block->next->prev = prev;
    const void* key = block->ptr;
    s.blocks.erase(key);  // destroys *block
    block = prev;
  }
  // Merge with a free next block: this one absorbs it.
  if (Block* next = block->next; next != nullptr && !next->allocated) {
    pool.erase(next);
    block->size += next->size;
    block->next = next->next;
    if (next->next != nullptr) next->next->prev = block;
    const void* key = next->ptr;
    s.blocks.erase(key);  // destroys *next
  }
  pool.insert(block);
}

int CachingAllocator::begin_capture(int device) {
  DeviceState& s = state(device);
  std::lock_guard lock(s.mutex);
  EMBER_CHECK(s.capturing == 0, "ember::cuda::capture: cuda:", device, " is already capturing a graph");
  s.capturing = s.next_pool++;
  s.private_pools[s.capturing];
  return s.capturing;
}

void CachingAllocator::end_capture(int device) {
  DeviceState& s = state(device);
  std::lock_guard lock(s.mutex);
  s.capturing = 0;
}

void CachingAllocator::release_pool(int device, int id) noexcept {
  if (device < 0 || device >= static_cast<int>(devices_.size())) return;
  DeviceState& s = *devices_[static_cast<std::size_t>(device)];
  std::lock_guard lock(s.mutex);
  if (s.capturing == id) s.capturing = 0;
  // The pool's blocks, free or still in tensors, become ordinary blocks of the shared pool.
  if (auto it = s.private_pools.find(id); it != s.private_pools.end()) {
    for (auto& [ptr, block] : s.blocks) {
      if (block->pool == id) block->pool = 0;
    }
    s.small_free.insert(it->second.small_free.begin(), it->second.small_free.end());
    s.large_free.insert(it->second.large_free.begin(), it->second.large_free.end());
    s.private_pools.erase(it);
  }
  if (auto it = s.held_back.find(id); it != s.held_back.end()) {
    for (Block* block : it->second) free_block(s, block);
    s.held_back.erase(it);
  }
}

void CachingAllocator::empty_cache() {
  for (std::size_t d = 0; d < devices_.size(); ++d) {
    DeviceState& s = *devices_[d];
    std::lock_guard lock(s.mutex);
    EMBER_CHECK(s.capturing == 0, "ember::cuda::empty_cache: cuda:", d, " is capturing a graph; "
                "call it before or after ember::cuda::capture, not inside the captured step");
    if (s.small_free.empty() && s.large_free.empty()) continue;
    const DeviceGuard guard(static_cast<int>(d));
    release_cached(s, static_cast<int>(d));
  }
}

ember::cuda::MemoryStats CachingAllocator::stats(int device) const {
  const DeviceState& s = state(device);
  std::lock_guard lock(s.mutex);
  return {s.allocated, s.reserved, s.peak};
}

void CachingAllocator::reset_peak(int device) {
  DeviceState& s = state(device);
  std::lock_guard lock(s.mutex);
  s.peak = s.allocated;
}

std::uint64_t CachingAllocator::malloc_count() noexcept {
  return g_malloc_count.load(std::memory_order_relaxed);
}

}  // namespace ember::kernels::cuda_impl
