// Host memory for the CPU backend: blocks from the host pool (64-byte aligned, small ones cached
// per thread), plain copies, and the no-op device queries.
#include <cstring>

#include "ember/core/host_pool.h"
#include "ember/kernels/cpu/cpu_kernels.h"

namespace ember::kernels::cpu {

int device_count() { return 1; }

// Small tensors come and go on every op of a training step, and malloc/free of aligned blocks
// was a fifth of a small step's time: the host pool keeps small blocks per thread.
void* allocate(std::size_t bytes, int /*device*/) { return host_pool::allocate(bytes); }

void deallocate(void* ptr, std::size_t bytes, int /*device*/) { host_pool::deallocate(ptr, bytes); }

void copy_to_host(void* host_dst, const void* src, std::size_t bytes, int /*device*/) {
  if (bytes != 0) std::memcpy(host_dst, src, bytes);  // memcpy with a null pointer is UB even for 0
}

void copy_from_host(void* dst, const void* host_src, std::size_t bytes, int /*device*/) {
  if (bytes != 0) std::memcpy(dst, host_src, bytes);
}

void synchronize(int /*device*/) {}  // CPU kernels run synchronously on the calling thread

}  // namespace ember::kernels::cpu
