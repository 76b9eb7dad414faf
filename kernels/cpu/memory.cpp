// Host memory for the CPU backend: aligned allocation with a cache of small blocks, plain copies,
// and the no-op device queries.
#include <array>
#include <bit>
#include <cstring>
#include <new>
#include <vector>

#include "ember/core/error.h"
#include "ember/kernels/cpu/cpu_kernels.h"

namespace ember::kernels::cpu {

namespace {
// A cache line, and a multiple of every SIMD width up to AVX-512, so vector loads at a tensor's
// start never split a line.
constexpr std::align_val_t kAlignment{64};

void* allocate_aligned(std::size_t bytes) {
  // operator new(0) still returns a unique pointer, so empty tensors need no special case, and
  // the nothrow form lets the failure become an ember::Error that says how much was asked for.
  void* ptr = ::operator new(bytes, kAlignment, std::nothrow);
  EMBER_CHECK(ptr != nullptr, "ember: CPU out of memory: failed to allocate ", bytes, " bytes (",
              static_cast<double>(bytes) / (1024.0 * 1024.0 * 1024.0), " GiB)");
  return ptr;
}

// Small tensors come and go on every op of a training step, and malloc/free of aligned blocks
// was a fifth of a small step's time. Blocks of up to 64 KiB are rounded to a power of two and
// kept, per thread, in a free list per size; a block freed on another thread simply joins that
// thread's lists (all blocks of one size are interchangeable).
constexpr std::size_t kMinClassBytes = 64, kMaxClassBytes = 64 * 1024;
constexpr int kNumClasses = std::countr_zero(kMaxClassBytes / kMinClassBytes) + 1;
#if defined(__SANITIZE_ADDRESS__)
constexpr std::size_t kMaxCachedPerClass = 0;  // let AddressSanitizer see every use after free
#else
constexpr std::size_t kMaxCachedPerClass = 64;
#endif

int size_class(std::size_t bytes) {
  const std::size_t rounded = std::bit_ceil(std::max(bytes, kMinClassBytes));
  return std::countr_zero(rounded / kMinClassBytes);
}
std::size_t class_bytes(int c) { return kMinClassBytes << c; }

struct BlockCache {
  std::array<std::vector<void*>, kNumClasses> free;
  BlockCache();
  ~BlockCache();
};
// Set while this thread's cache exists: tensors destroyed during thread or program exit, after the
// cache is gone, free their blocks directly. A plain bool needs no destructor, so it stays valid.
thread_local bool t_cache_alive = false;
BlockCache::BlockCache() { t_cache_alive = true; }
BlockCache::~BlockCache() {
  t_cache_alive = false;
  for (auto& list : free) {
    for (void* p : list) ::operator delete(p, kAlignment);
  }
}
thread_local BlockCache t_cache;
}  // namespace

int device_count() { return 1; }

void* allocate(std::size_t bytes, int /*device*/) {
  if (bytes > kMaxClassBytes) return allocate_aligned(bytes);
  const int c = size_class(bytes);
  std::vector<void*>& list = t_cache.free[static_cast<std::size_t>(c)];
  if (!list.empty()) {
    void* p = list.back();
    list.pop_back();
    return p;
  }
  return allocate_aligned(class_bytes(c));
}

void deallocate(void* ptr, std::size_t bytes, int /*device*/) {
  if (bytes <= kMaxClassBytes && t_cache_alive) {
    std::vector<void*>& list = t_cache.free[static_cast<std::size_t>(size_class(bytes))];
    if (list.size() < kMaxCachedPerClass) {
      if (list.capacity() == 0) list.reserve(kMaxCachedPerClass);
      list.push_back(ptr);
      return;
    }
  }
  ::operator delete(ptr, kAlignment);
}

void copy_to_host(void* host_dst, const void* src, std::size_t bytes, int /*device*/) {
  if (bytes != 0) std::memcpy(host_dst, src, bytes);  // memcpy with a null pointer is UB even for 0
}

void copy_from_host(void* dst, const void* host_src, std::size_t bytes, int /*device*/) {
  if (bytes != 0) std::memcpy(dst, host_src, bytes);
}

void synchronize(int /*device*/) {}  // CPU kernels run synchronously on the calling thread

}  // namespace ember::kernels::cpu
