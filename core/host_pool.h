// Small host blocks from per-thread free lists instead of malloc: the CPU backend's tensor data,
// and the objects made on every op (a TensorImpl, a Storage, an autograd node, through
// make_pooled). On a small training step these come and go a few dozen times; malloc and free
// cost ~165 instructions a pair there (callgrind, SimpleNet's CPU step), and taking these objects
// from the free lists removed 1.3k of the step's 49.7k instructions.
//
// Blocks of up to 64 KiB are rounded to a power of two and 64-byte aligned (a cache line, and a
// multiple of every SIMD width up to AVX-512). Each thread keeps up to 64 free blocks per size; a
// block freed on another thread joins that thread's lists (blocks of one size are
// interchangeable). Larger blocks are rounded up to a quarter of their power of two and kept in one
// cache for the process, up to 1 GiB in all. Under AddressSanitizer nothing is kept, so every use
// after free is seen.
#pragma once

#include <cstddef>
#include <memory>
#include <utility>

namespace ember::host_pool {

// Never returns null: throws ember::Error, naming the size, when memory is exhausted.
void* allocate(std::size_t bytes);
// bytes as given to allocate.
void deallocate(void* ptr, std::size_t bytes) noexcept;

// A standard allocator over the pool, for std::allocate_shared (the shared_ptr control block and
// the object then come from one pooled block).
template <typename T>
struct Allocator {
  using value_type = T;
  static_assert(alignof(T) <= 64, "host_pool blocks are 64-byte aligned");
  Allocator() = default;
  template <typename U>
  Allocator(const Allocator<U>& /*other*/) noexcept {}  // NOLINT(google-explicit-constructor)
  T* allocate(std::size_t n) { return static_cast<T*>(host_pool::allocate(n * sizeof(T))); }
  void deallocate(T* ptr, std::size_t n) noexcept { host_pool::deallocate(ptr, n * sizeof(T)); }
  friend bool operator==(const Allocator&, const Allocator&) { return true; }
};

template <typename T, typename... Args>
std::shared_ptr<T> make_pooled(Args&&... args) {
  return std::allocate_shared<T>(Allocator<T>{}, std::forward<Args>(args)...);
}

}  // namespace ember::host_pool
