// The kernel registry: filled once by each device compiled into this build.
#include "ember/kernels/registry.h"

#include "ember/core/error.h"
#include "ember/kernels/device_runtime.h"

namespace ember::kernels {

void register_cpu_kernels(KernelRegistry& registry);  // kernels/cpu/backend_cpu.cpp
#ifdef EMBER_WITH_CUDA
void register_cuda_kernels(KernelRegistry& registry);  // kernels/cuda/backend_cuda.cpp
#endif

const char* kernel_name(Kernel kernel) {
#define EMBER_KERNEL_NAME(name, signature) #name,
  static constexpr const char* kNames[] = {EMBER_KERNELS(EMBER_KERNEL_NAME)};
#undef EMBER_KERNEL_NAME
  const auto i = static_cast<std::size_t>(kernel);
  return i < std::size(kNames) ? kNames[i] : "unknown kernel";
}

KernelRegistry::AnyFn& KernelRegistry::slot(Kernel kernel, DeviceType type) {
  const auto k = static_cast<std::size_t>(kernel);
  EMBER_CHECK(index(type) < kDeviceTypes && k < static_cast<std::size_t>(kKernelCount),
              "ember: registering kernel ", k, " for device type ", static_cast<int>(type), ": out of range");
  return slots_[index(type)][k];
}

const KernelRegistry& registry() {
  static const KernelRegistry instance = [] {
    KernelRegistry r;
    register_cpu_kernels(r);
#ifdef EMBER_WITH_CUDA
    register_cuda_kernels(r);
#endif
    return r;
  }();
  return instance;
}

namespace detail {

void check_device(Device device) { (void)runtime(device); }

void missing_kernel(Kernel kernel, Device device) {
  EMBER_FAIL("ember: ", kernel_name(kernel), " has no kernel for ", device.str(),
             " in this build of Ember; move the tensors to a device that has one (the CPU has all)");
}

}  // namespace detail

}  // namespace ember::kernels
