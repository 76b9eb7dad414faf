#include "ember/core/host_pool.h"

#include <algorithm>
#include <array>
#include <bit>
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

}  // namespace

void* allocate(std::size_t bytes) {
  if (bytes > kMaxClassBytes) return allocate_aligned(bytes);
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
  if (bytes <= kMaxClassBytes) {
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
