// The device runtime: what every device type provides besides op kernels. Memory, plain byte
// copies between the device and the host, waiting for queued work, and the queue itself. Storage, .to(device) and
// ember::cuda::synchronize use it; op kernels are in the registry (registry.h).
#pragma once

#include <cstddef>

#include "ember/core/device.h"

namespace ember::kernels {

struct DeviceRuntime {
  // Number of devices of this type on this machine (1 for the CPU, 0 when no GPU is present).
  int (*device_count)();
  // allocate never returns null: it throws ember::Error when memory is exhausted.
  void* (*allocate)(std::size_t bytes, int device);
  void (*deallocate)(void* ptr, std::size_t bytes, int device);  // bytes as given to allocate
  void (*copy_to_host)(void* host_dst, const void* src, std::size_t bytes, int device);
  void (*copy_from_host)(void* dst, const void* host_src, std::size_t bytes, int device);
  // Waits until all work queued on the device is done (a no-op on the CPU).
  void (*synchronize)(int device);
  // The queue the device's ops run in, as its native handle (a cudaStream_t on CUDA), ordered
  // after every op queued so far: for libraries that queue their own work in the same order, such
  // as NCCL's collectives. Null on the CPU, which runs ops as they are called.
  void* (*native_stream)(int device);
};

// The runtime of `device`'s type. Throws ember::Error when that device type is not in this build
// or the device does not exist on this machine.
const DeviceRuntime& runtime(Device device);

}  // namespace ember::kernels
