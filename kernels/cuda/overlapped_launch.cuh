// Programmatic dependent launch (Hopper and later): a kernel launched with launch_overlapped may
// be scheduled while the kernel before it on the stream is still running, instead of after it
// has drained, so the GPU's launch latency between two small kernels overlaps with work. It is
// what keeps a small training step's chain of kernels (forward GEMM, loss, backward GEMM,
// optimizer) from paying that latency at every link, eagerly and in a CUDA graph (capture keeps
// these edges).
//
// The contract, for every kernel launched this way: call overlap_prologue() first, before it
// reads or writes any global memory. It waits until the previous kernel has finished and its
// writes are visible (griddepcontrol.wait, which returns at once when there is no such
// dependency), then allows the next kernel to be scheduled in turn. Because each kernel only
// releases its successor after its own wait, every kernel two or more back in the stream has
// finished by the time a kernel starts; only its immediate predecessor may still be running.
#pragma once

#include <cuda_runtime.h>

#include <utility>

#include "ember/kernels/cuda/check.h"
#include "ember/kernels/cuda/runtime.h"

namespace ember::kernels::cuda_impl {

__device__ __forceinline__ void overlap_prologue() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm volatile("griddepcontrol.wait;" ::: "memory");
  asm volatile("griddepcontrol.launch_dependents;" ::: "memory");
#endif
}

// kernel<<<grid, block, 0, ctx.stream>>>(args...), allowed to start before the previous kernel on
// the stream finishes where the GPU supports it (compute capability 9.0 and later; elsewhere an
// ordinary launch). The kernel must begin with overlap_prologue().
template <typename... Params, typename... Args>
void launch_overlapped(const DeviceContext& ctx, void (*kernel)(Params...), dim3 grid, dim3 block, Args&&... args) {
  cudaLaunchAttribute attribute{};
  attribute.id = cudaLaunchAttributeProgrammaticStreamSerialization;
  attribute.val.programmaticStreamSerializationAllowed = 1;
  cudaLaunchConfig_t config{};
  config.gridDim = grid;
  config.blockDim = block;
  config.dynamicSmemBytes = 0;
  config.stream = ctx.stream.get();
  config.attrs = ctx.overlapped_launch ? &attribute : nullptr;
  config.numAttrs = ctx.overlapped_launch ? 1 : 0;
  EMBER_CUDA_CHECK(cudaLaunchKernelEx(&config, kernel, std::forward<Args>(args)...));
}

}  // namespace ember::kernels::cuda_impl
