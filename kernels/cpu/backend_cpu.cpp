// The CPU's device runtime and its kernels in the registry. The CPU has every kernel: it is the
// reference the other devices are tested against (tests/registry_test.cpp checks it).
#include "ember/kernels/cpu/cpu_kernels.h"
#include "ember/kernels/device_runtime.h"
#include "ember/kernels/registry.h"

namespace ember::kernels {

const DeviceRuntime& cpu_runtime() {
  static constexpr DeviceRuntime runtime{
      .device_count = cpu::device_count,
      .allocate = cpu::allocate,
      .deallocate = cpu::deallocate,
      .copy_to_host = cpu::copy_to_host,
      .copy_from_host = cpu::copy_from_host,
      .synchronize = cpu::synchronize,
      .native_stream = [](int /*device*/) -> void* { return nullptr; },
  };
  return runtime;
}

void register_cpu_kernels(KernelRegistry& r) {
  constexpr DeviceType cpu = DeviceType::CPU;
  r.add<Kernel::copy>(cpu, cpu::copy);
  r.add<Kernel::fill>(cpu, cpu::fill);
  r.add<Kernel::random>(cpu, cpu::random);
  r.add<Kernel::unary>(cpu, cpu::unary);
  r.add<Kernel::unary_backward>(cpu, cpu::unary_backward);
  r.add<Kernel::binary>(cpu, cpu::binary);
  r.add<Kernel::binary_scalar>(cpu, cpu::binary_scalar);
  r.add<Kernel::reduce>(cpu, cpu::reduce);
  r.add<Kernel::gemm>(cpu, cpu::gemm);
  r.add<Kernel::mse_loss>(cpu, cpu::mse_loss);
  r.add<Kernel::softmax>(cpu, cpu::softmax);
  r.add<Kernel::softmax_backward>(cpu, cpu::softmax_backward);
  r.add<Kernel::argmax>(cpu, cpu::argmax);
  r.add<Kernel::nll_loss>(cpu, cpu::nll_loss);
  r.add<Kernel::nll_loss_backward>(cpu, cpu::nll_loss_backward);
  r.add<Kernel::batch_norm_train>(cpu, cpu::batch_norm_train);
  r.add<Kernel::batch_norm_eval>(cpu, cpu::batch_norm_eval);
  r.add<Kernel::batch_norm_backward>(cpu, cpu::batch_norm_backward);
  r.add<Kernel::pool2d>(cpu, cpu::pool2d);
  r.add<Kernel::pool2d_backward>(cpu, cpu::pool2d_backward);
  r.add<Kernel::adaptive_avg_pool2d>(cpu, cpu::adaptive_avg_pool2d);
  r.add<Kernel::adaptive_avg_pool2d_backward>(cpu, cpu::adaptive_avg_pool2d_backward);
  r.add<Kernel::conv2d>(cpu, cpu::conv2d);
  r.add<Kernel::conv2d_backward_input>(cpu, cpu::conv2d_backward_input);
  r.add<Kernel::conv2d_backward_weight>(cpu, cpu::conv2d_backward_weight);
  r.add<Kernel::adam>(cpu, cpu::adam);
  r.add<Kernel::sgd>(cpu, cpu::sgd);
}

}  // namespace ember::kernels
