// Host memory for the CPU backend: aligned allocation, plain copies, and the no-op device queries.
#include <cstring>
#include <new>

#include "ember/core/error.h"
#include "ember/kernels/cpu/cpu_kernels.h"

namespace ember::kernels::cpu {

namespace {
// A cache line, and a multiple of every SIMD width up to AVX-512, so vector loads at a tensor's
// start never split a line.
constexpr std::align_val_t kAlignment{64};
}  // namespace

int device_count() { return 1; }

void* allocate(std::size_t bytes, int /*device*/) {
  // operator new(0) still returns a unique pointer, so empty tensors need no special case, and
  // the nothrow form lets the failure become an ember::Error that says how much was asked for.
  void* ptr = ::operator new(bytes, kAlignment, std::nothrow);
  EMBER_CHECK(ptr != nullptr, "ember: CPU out of memory: failed to allocate ", bytes, " bytes (",
              static_cast<double>(bytes) / (1024.0 * 1024.0 * 1024.0), " GiB)");
  return ptr;
}

void deallocate(void* ptr, int /*device*/) { ::operator delete(ptr, kAlignment); }

void copy_to_host(void* host_dst, const void* src, std::size_t bytes, int /*device*/) {
  if (bytes != 0) std::memcpy(host_dst, src, bytes);  // memcpy with a null pointer is UB even for 0
}

void copy_from_host(void* dst, const void* host_src, std::size_t bytes, int /*device*/) {
  if (bytes != 0) std::memcpy(dst, host_src, bytes);
}

void synchronize(int /*device*/) {}  // CPU kernels run synchronously on the calling thread

}  // namespace ember::kernels::cpu
