#include "ember/kernels/cuda/overlapped_launch.cuh"

namespace ember::kernels::cuda_impl::detail {

DriverLaunchKernelEx driver_launch_kernel_ex() {
  void* entry = nullptr;
  cudaDriverEntryPointQueryResult found{};
  if (cudaGetDriverEntryPointByVersion("cuLaunchKernelEx", &entry, 12000, cudaEnableDefault, &found) != cudaSuccess ||
      found != cudaDriverEntryPointSuccess) {
    (void)cudaGetLastError();  // no such entry point: launches go through the runtime
    return nullptr;
  }
  return reinterpret_cast<DriverLaunchKernelEx>(entry);
}

CUfunction kernel_handle(const void* kernel) {
  cudaKernel_t handle = nullptr;
  if (cudaGetKernel(&handle, kernel) != cudaSuccess) {
    (void)cudaGetLastError();  // launches of this kernel go through the runtime
    return nullptr;
  }
  return reinterpret_cast<CUfunction>(handle);
}

void runtime_launch(const DeviceContext& ctx, const void* kernel, dim3 grid, dim3 block, void** params) {
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
  EMBER_CUDA_CHECK(cudaLaunchKernelExC(&config, kernel, params));
}

}  // namespace ember::kernels::cuda_impl::detail
