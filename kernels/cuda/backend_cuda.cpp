// The CUDA device runtime (kernels/device_runtime.h): memory and copies, on top of the CUDA
// runtime state of runtime.h; and the CUDA kernels, the launchers of launchers.h, in the registry.
#include "ember/kernels/device_runtime.h"
#include "ember/kernels/registry.h"

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

void* cuda_native_stream(int device) {
  const DeviceGuard guard(device);
  return context(device).stream();  // the launch queue's launches so far are in it (launch_queue.h)
}

}  // namespace

const DeviceRuntime& cuda_runtime() {
  static const DeviceRuntime runtime{
      .device_count = &cuda_impl::device_count,
      .allocate = &cuda_allocate,
      .deallocate = &cuda_deallocate,
      .copy_to_host = &cuda_copy_to_host,
      .copy_from_host = &cuda_copy_from_host,
      .synchronize = &cuda_impl::synchronize_device,
      .native_stream = &cuda_native_stream,
  };
  return runtime;
}

void register_cuda_kernels(KernelRegistry& r) {
  constexpr DeviceType cuda = DeviceType::CUDA;
  r.add<Kernel::copy>(cuda, cuda_impl::copy);
  r.add<Kernel::fill>(cuda, cuda_impl::fill);
  r.add<Kernel::random>(cuda, cuda_impl::random);
  r.add<Kernel::unary>(cuda, cuda_impl::unary);
  r.add<Kernel::unary_backward>(cuda, cuda_impl::unary_backward);
  r.add<Kernel::binary>(cuda, cuda_impl::binary);
  r.add<Kernel::binary_scalar>(cuda, cuda_impl::binary_scalar);
  r.add<Kernel::reduce>(cuda, cuda_impl::reduce);
  r.add<Kernel::gemm>(cuda, cuda_impl::gemm);
  r.add<Kernel::mse_loss>(cuda, cuda_impl::mse_loss);
  r.add<Kernel::softmax>(cuda, cuda_impl::softmax);
  r.add<Kernel::softmax_backward>(cuda, cuda_impl::softmax_backward);
  r.add<Kernel::argmax>(cuda, cuda_impl::argmax);
  r.add<Kernel::nll_loss>(cuda, cuda_impl::nll_loss);
  r.add<Kernel::nll_loss_backward>(cuda, cuda_impl::nll_loss_backward);
  r.add<Kernel::conv2d>(cuda, cuda_impl::conv2d);
  r.add<Kernel::conv2d_backward_input>(cuda, cuda_impl::conv2d_backward_input);
  r.add<Kernel::conv2d_backward_weight>(cuda, cuda_impl::conv2d_backward_weight);
  r.add<Kernel::batch_norm_train>(cuda, cuda_impl::batch_norm_train);
  r.add<Kernel::batch_norm_eval>(cuda, cuda_impl::batch_norm_eval);
  r.add<Kernel::batch_norm_backward>(cuda, cuda_impl::batch_norm_backward);
  r.add<Kernel::pool2d>(cuda, cuda_impl::pool2d);
  r.add<Kernel::pool2d_backward>(cuda, cuda_impl::pool2d_backward);
  r.add<Kernel::adaptive_avg_pool2d>(cuda, cuda_impl::adaptive_avg_pool2d);
  r.add<Kernel::adaptive_avg_pool2d_backward>(cuda, cuda_impl::adaptive_avg_pool2d_backward);
  r.add<Kernel::adam>(cuda, cuda_impl::adam);
  r.add<Kernel::sgd>(cuda, cuda_impl::sgd);
}

}  // namespace ember::kernels
