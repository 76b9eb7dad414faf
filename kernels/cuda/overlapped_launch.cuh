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

#include <cuda.h>  // the driver's launch types; the entry point comes through the runtime
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

using DriverLaunchKernelEx = CUresult (*)(const CUlaunchConfig*, CUfunction, void**, void**);

// The driver's cuLaunchKernelEx, found once through cudaGetDriverEntryPointByVersion (Ember does
// not link libcuda); null where the driver lacks it.
DriverLaunchKernelEx driver_launch_kernel_ex();

// The context-independent handle of a kernel (cudaGetKernel): the driver launches it in the
// calling thread's current context.
CUfunction kernel_handle(const void* kernel);

// The runtime's launch, for when the driver's launch is missing or fails.
void runtime_launch(const DeviceContext& ctx, const void* kernel, dim3 grid, dim3 block, void** params);

}  // namespace detail

// Kernel<<<grid, block, 0, ctx.stream>>>(args...), allowed to start before the previous kernel on
// the stream finishes where the GPU supports it (compute capability 9.0 and later; elsewhere an
// ordinary launch). The kernel must begin with overlap_prologue().
//
// The launch goes straight to the driver's cuLaunchKernelEx: on the lent H100 hosts the runtime's
// cudaLaunchKernelEx cost 0.4 us more per launch, 3.5 against 3.05 us (bench/cuda/
// launch_floor_bench), a tenth of a small training step's host time. When the driver call fails
// (no current context on a thread that never made a runtime call, a driver without the entry
// point), the runtime's launch runs instead and reports any error.
template <auto Kernel, typename... Args>
void launch_overlapped(const DeviceContext& ctx, dim3 grid, dim3 block, Args&&... args) {
  static const CUfunction function = detail::kernel_handle(reinterpret_cast<const void*>(Kernel));
  static const detail::DriverLaunchKernelEx driver_launch = detail::driver_launch_kernel_ex();
  // The arguments converted to the kernel's parameter types, so that their addresses can be passed.
  [&]<typename... Params>(void (*)(Params...)) {
    std::tuple<Params...> values(std::forward<Args>(args)...);
    std::array<void*, sizeof...(Params)> pointers =
        std::apply([](auto&... v) { return std::array<void*, sizeof...(Params)>{static_cast<void*>(&v)...}; }, values);
    CUlaunchAttribute attribute{};
    attribute.id = CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_STREAM_SERIALIZATION;
    attribute.value.programmaticStreamSerializationAllowed = 1;
    CUlaunchConfig config{};
    config.gridDimX = grid.x;
    config.gridDimY = grid.y;
    config.gridDimZ = grid.z;
    config.blockDimX = block.x;
    config.blockDimY = block.y;
    config.blockDimZ = block.z;
    config.sharedMemBytes = 0;
    config.hStream = reinterpret_cast<CUstream>(ctx.stream.get());
    config.attrs = ctx.overlapped_launch ? &attribute : nullptr;
    config.numAttrs = ctx.overlapped_launch ? 1 : 0;
    if (driver_launch != nullptr && function != nullptr &&
        driver_launch(&config, function, pointers.data(), nullptr) == CUDA_SUCCESS) {
      return;
    }
    detail::runtime_launch(ctx, reinterpret_cast<const void*>(Kernel), grid, block, pointers.data());
  }(Kernel);
}

}  // namespace ember::kernels::cuda_impl
