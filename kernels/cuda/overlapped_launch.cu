#include "ember/kernels/cuda/overlapped_launch.cuh"

namespace ember::kernels::cuda_impl::detail {

CUfunction kernel_handle(const void* kernel) {
  cudaKernel_t handle = nullptr;
  if (cudaGetKernel(&handle, kernel) != cudaSuccess) {
    (void)cudaGetLastError();  // launches of this kernel go through the runtime
    return nullptr;
  }
  return reinterpret_cast<CUfunction>(handle);
}

}  // namespace ember::kernels::cuda_impl::detail
