// The CUDA backend's table (kernels/backend.h): memory and copies are implemented here on top of
// the runtime (runtime.h); compute entries are the launchers of launchers.h.
#include "ember/kernels/backend.h"

#include "ember/kernels/cuda/check.h"
#include "ember/kernels/cuda/device.h"
#include "ember/kernels/cuda/launchers.h"
#include "ember/kernels/cuda/runtime.h"

namespace ember::kernels {

namespace {

using namespace cuda_impl;

void* cuda_allocate(std::size_t bytes, int device) { return allocator().allocate(bytes, device); }

void cuda_deallocate(void* ptr, std::size_t /*bytes*/, int device) {
  // Storage destructors of tensors in static storage can run after the runtime is gone at exit;
  // the driver reclaims the memory then.
  if (!runtime_alive()) return;
  allocator().deallocate(ptr, device);
}

// Straight into the caller's (pageable) memory, in stream order: the driver's pageable path was
// faster than staging through pinned memory (pinned_staging.h has the numbers).
void cuda_copy_to_host(void* host_dst, const void* src, std::size_t bytes, int device) {
  if (bytes == 0) return;
  check_not_capturing(device, "reading a CUDA tensor on the host (item(), to_vector(), to(cpu), printing)");
  const DeviceGuard guard(device);
  cudaStream_t stream = context(device).stream();
  EMBER_CUDA_CHECK(cudaMemcpyAsync(host_dst, src, bytes, cudaMemcpyDeviceToHost, stream));
  EMBER_CUDA_CHECK(cudaStreamSynchronize(stream));  // returns once host_dst holds the data
  count_host_sync();
}

void cuda_copy_from_host(void* dst, const void* host_src, std::size_t bytes, int device) {
  if (bytes == 0) return;
  check_not_capturing(device, "copying host data to the GPU (a tensor made from host values, to(cuda))");
  const DeviceGuard guard(device);
  DeviceContext& ctx = context(device);
  ctx.copy_from_host(dst, host_src, bytes);
}

}  // namespace

const Backend& cuda_backend() {
  static const Backend table{
      .device_count = &cuda_impl::device_count,
      .allocate = &cuda_allocate,
      .deallocate = &cuda_deallocate,
      .copy_to_host = &cuda_copy_to_host,
      .copy_from_host = &cuda_copy_from_host,
      .synchronize = &cuda_impl::synchronize_device,
      .copy = &cuda_impl::copy,
      .fill = &cuda_impl::fill,
      .random = &cuda_impl::random,
      .unary = &cuda_impl::unary,
      .unary_backward = &cuda_impl::unary_backward,
      .binary = &cuda_impl::binary,
      .binary_scalar = &cuda_impl::binary_scalar,
      .reduce = &cuda_impl::reduce,
      .gemm = &cuda_impl::gemm,
      .mse_loss = &cuda_impl::mse_loss,
      .adam = &cuda_impl::adam,
      .sgd = &cuda_impl::sgd,
  };
  return table;
}

}  // namespace ember::kernels
