// The "last block" pattern: every block of a grid does its share, then takes a ticket; the block
// that takes the last ticket knows that all the others are done and finishes the work (combining
// partial results, advancing counters) in the same launch, where a second kernel would otherwise
// follow. Each kernel that uses it has its own counter in device memory
// (DeviceContext::ticket()), 0 between launches: the last block resets it, so consecutive launches
// in stream order, eager or replayed from a CUDA graph, reuse it.
#pragma once

#include <cuda_runtime.h>

namespace ember::kernels::cuda_impl {

// Call from every thread of every block, after the block's own writes. True in the block that
// came last; its later reads see every other block's writes made before their call (read them
// with __ldcg: they may be stale in this SM's L1 otherwise).
__device__ __forceinline__ bool is_last_block(unsigned* ticket) {
  __shared__ bool last;
  __syncthreads();  // the whole block's work comes before its ticket
  if (threadIdx.x == 0) {
    __threadfence();  // ...and is visible to the whole device before the ticket is
    last = atomicAdd(ticket, 1u) == gridDim.x - 1;
    if (last) *ticket = 0;  // every other block has taken its ticket already
  }
  __syncthreads();
  if (last) __threadfence();
  return last;
}

}  // namespace ember::kernels::cuda_impl
