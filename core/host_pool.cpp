#include "ember/core/host_pool.h"

#include <algorithm>
#include <array>
#include <bit>
#include <map>
#include <mutex>
#include <new>
#include <vector>

#include "ember/core/error.h"

namespace ember::host_pool {

namespace {

constexpr std::align_val_t kAlignment{64};
constexpr std::size_t kMinClassBytes = 64, kMaxClassBytes = 64 * 1024;
constexpr int kNumClasses = std::countr_zero(kMaxClassBytes / kMinClassBytes) + 1;
#if defined(__SANITIZE_ADDRESS__)
constexpr std::size_t kMaxCachedPerClass = 0;  // let AddressSanitizer see every use after free
#else
constexpr std::size_t kMaxCachedPerClass = 64;
#endif

void* allocate_aligned(std::size_t bytes) {
  // operator new(0) still returns a unique pointer, so empty blocks need no special case, and the
  // nothrow form lets the failure become an ember::Error that says how much was asked for.
  void* ptr = ::operator new(bytes, kAlignment, std::nothrow);
  EMBER_CHECK(ptr != nullptr, "ember: CPU out of memory: failed to allocate ", bytes, " bytes (",
              static_cast<double>(bytes) / (1024.0 * 1024.0 * 1024.0), " GiB)");
  return ptr;
}

int size_class(std::size_t bytes) {
  const std::size_t rounded = std::bit_ceil(std::max(bytes, kMinClassBytes));
  return std::countr_zero(rounded / kMinClassBytes);
}
std::size_t class_bytes(int c) { return kMinClassBytes << c; }

struct BlockCache {
  std::array<std::vector<void*>, kNumClasses> free;
  ~BlockCache();
};

// The calling thread's cache, reached through one plain thread_local: a thread_local with a
// constructor or destructor is reached through an initialisation check on every access, and two
// variables cost two look-ups (__tls_get_addr in a shared library) per block. `dead` is set once
// the thread's cache has been destroyed at thread or program exit: blocks released after that are
// freed directly.
struct CacheSlot {
  BlockCache* cache = nullptr;
  bool dead = false;
};
thread_local CacheSlot t_slot;

BlockCache::~BlockCache() {
  t_slot = {nullptr, true};
  for (auto& list : free) {
    for (void* p : list) ::operator delete(p, kAlignment);
  }
}

// The cache is created on the first block this thread releases, and destroyed with the thread.
BlockCache* create_cache() {
  thread_local BlockCache owner;
  t_slot.cache = &owner;
  return &owner;
}

// Large blocks (over 64 KiB: activations and their gradients) are kept too, in one cache for the
// process, up to kMaxLargeCachedBytes in all. Without it each is a fresh mmap from malloc, and the
// kernel's zeroing of its pages on first touch, then unmap, took about 15% of a CPU training step
// of the Fashion-MNIST CNN (perf). Sizes are rounded up to a quarter of their power of two (at
// most 25% more), so that the same shapes, step after step, find their blocks again.
#if defined(__SANITIZE_ADDRESS__)
constexpr std::size_t kMaxLargeCachedBytes = 0;
#else
constexpr std::size_t kMaxLargeCachedBytes = std::size_t{1} << 30;
#endif

std::size_t large_class_bytes(std::size_t bytes) {
  const std::size_t quarter = std::bit_floor(bytes) / 4;
  return (bytes + quarter - 1) / quarter * quarter;
}

class LargeBlockCache {
 public:
  void* take(std::size_t class_bytes) {
    std::lock_guard lock(mutex_);
    const auto it = free_.find(class_bytes);
    if (it == free_.end() || it->second.empty()) return nullptr;
    void* p = it->second.back();
    it->second.pop_back();
    cached_bytes_ -= class_bytes;
    return p;
  }
  // False when the block is not kept (the cache is full): the caller frees it.
  bool keep(void* ptr, std::size_t class_bytes) noexcept {
    std::lock_guard lock(mutex_);
    if (cached_bytes_ + class_bytes > kMaxLargeCachedBytes) return false;
    try {
      free_[class_bytes].push_back(ptr);
    } catch (const std::bad_alloc&) {
      return false;
    }
    cached_bytes_ += class_bytes;
    return true;
  }

 private:
  std::mutex mutex_;
  std::map<std::size_t, std::vector<void*>> free_;
  std::size_t cached_bytes_ = 0;
};

// Never destroyed: tensors held by static objects may be freed after it would be.
LargeBlockCache& large_blocks() {
  static LargeBlockCache& cache = *new LargeBlockCache;
  return cache;
}

}  // namespace

void* allocate(std::size_t bytes) {
  if (bytes > kMaxClassBytes) {
    const std::size_t rounded = large_class_bytes(bytes);
    if (void* p = large_blocks().take(rounded)) return p;
    return allocate_aligned(rounded);
  }
  const int c = size_class(bytes);
  if (BlockCache* cache = t_slot.cache) {
    std::vector<void*>& list = cache->free[static_cast<std::size_t>(c)];
    if (!list.empty()) {
      void* p = list.back();
      list.pop_back();
      return p;
    }
  }
  return allocate_aligned(class_bytes(c));
}

void deallocate(void* ptr, std::size_t bytes) noexcept {
  if (bytes > kMaxClassBytes) {
    if (large_blocks().keep(ptr, large_class_bytes(bytes))) return;
  } else {
    CacheSlot& slot = t_slot;
    BlockCache* cache = slot.cache;
    if (cache == nullptr && !slot.dead) cache = create_cache();
    if (cache != nullptr) {
      std::vector<void*>& list = cache->free[static_cast<std::size_t>(size_class(bytes))];
      if (list.size() < kMaxCachedPerClass) {
        try {
          if (list.capacity() == 0) list.reserve(kMaxCachedPerClass);  // once per class and thread
          list.push_back(ptr);  // within the reserved capacity: cannot throw
          return;
        } catch (const std::bad_alloc&) {
          // no room for the list itself: free the block instead of keeping it
        }
      }
    }
  }
  ::operator delete(ptr, kAlignment);
}

}  // namespace ember::host_pool
