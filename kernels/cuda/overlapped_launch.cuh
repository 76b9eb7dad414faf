// Programmatic dependent launch (Hopper and later): a kernel launched with launch_overlapped may
// be scheduled while the kernel before it on the stream is still running, instead of after it
// has drained, so the GPU's launch latency between two small kernels overlaps with work. It is
// what keeps a small training step's chain of kernels (forward GEMM, loss, backward GEMM,
// optimizer) from paying that latency at every link, eagerly and in a CUDA graph (capture keeps
// these edges). Every kernel of Ember's own launches this way; cuBLAS's launch as usual.
//
// The contract, for every kernel launched this way: call overlap_prologue() first, before it
// reads or writes any global memory. It waits until the previous kernel has finished and its
// writes are visible (griddepcontrol.wait, which returns at once when there is no such
// dependency), then allows the next kernel to be scheduled in turn. Because each kernel only
// releases its successor after its own wait, every kernel two or more back in the stream has
// finished by the time a kernel starts; only its immediate predecessor may still be running.
#pragma once

#include <cuda.h>
#include <cuda_runtime.h>

#include <array>
#include <cstddef>
#include <tuple>
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

namespace detail {

// The context-independent handle of a kernel (cudaGetKernel), through which the driver launches
// it in the calling thread's current context; null when the runtime cannot give one.
CUfunction kernel_handle(const void* kernel);

}  // namespace detail

// Kernel<<<grid, block, 0, ctx's stream>>>(args...), allowed to start before the previous kernel
// on the stream finishes where the GPU supports it (compute capability 9.0 and later; elsewhere an
// ordinary launch). The kernel must begin with overlap_prologue().
//
// The launch is queued for the device's launch thread when the queue is on (launch_queue.h),
// else made here. Either way it goes straight to the driver's cuLaunchKernelEx, with the
// runtime's launch as the fallback (launch_now).
template <auto Kernel, typename... Args>
void launch_overlapped(const DeviceContext& ctx, dim3 grid, dim3 block, Args&&... args) {
  static const KernelRef kernel{detail::kernel_handle(reinterpret_cast<const void*>(Kernel)),
                                reinterpret_cast<const void*>(Kernel)};
  // The arguments converted to the kernel's parameter types, so that they can be copied or their
  // addresses passed.
  [&]<typename... Params>(void (*)(Params...)) {
    std::tuple<Params...> values(std::forward<Args>(args)...);
    if (LaunchQueue* queue = ctx.launch_queue()) {
      const bool queued =
          std::apply([&](const Params&... v) { return queue->try_push(kernel, grid, block, v...); }, values);
      if (queued) return;
    }
    std::array<void*, sizeof...(Params)> pointers =
        std::apply([](auto&... v) { return std::array<void*, sizeof...(Params)>{static_cast<void*>(&v)...}; }, values);
    EMBER_CUDA_CHECK(launch_now(kernel, grid, block, ctx.stream(), ctx.overlapped_launch, pointers.data()));
  }(Kernel);
}

}  // namespace ember::kernels::cuda_impl
