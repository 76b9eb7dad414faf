// Finds the runtime of a device type, checking that the device exists.
#include "ember/kernels/device_runtime.h"

#include "ember/core/error.h"

namespace ember::kernels {

const DeviceRuntime& cpu_runtime();  // kernels/cpu/backend_cpu.cpp
#ifdef EMBER_WITH_CUDA
const DeviceRuntime& cuda_runtime();  // kernels/cuda/backend_cuda.cpp
#endif

const DeviceRuntime& runtime(Device device) {
  if (device.is_cpu()) [[likely]] {
    static const DeviceRuntime& cpu = cpu_runtime();
    return cpu;
  }
  const DeviceRuntime* found = nullptr;
#ifdef EMBER_WITH_CUDA
  if (device.is_cuda()) found = &cuda_runtime();
#endif
  EMBER_CHECK(found != nullptr, "ember: device ", device.str(),
              " is not supported by this build of Ember (built without CUDA; configure with a "
              "CUDA toolkit and -DEMBER_CUDA=ON)");
  const int count = found->device_count();
  EMBER_CHECK(device.index() >= 0 && device.index() < count, "ember: device ", device.str(),
              " does not exist: this machine has ", count, " CUDA device(s)");
  return *found;
}

}  // namespace ember::kernels
