// One cuDNN handle per device (cudnn_handle.h).
//
// The handles live until the process exits. cuDNN 9 loads its sub-libraries (engines, CNN) with
// dlopen when first needed, and their teardown at exit must not run before a handle's cudnnDestroy.
// Exit runs teardowns in the reverse order of their registration, so the handles' destroyer is
// registered right after the first cudnnCreate, once the libraries that creation loads have
// registered theirs: it then runs first. (Without the destroy, compute-sanitizer's leak check
// reports the handle's device memory.) Plans, which hold no device memory, are not destroyed:
// PyTorch leaks its plans too, after crashes at exit with cuDNN 9.10.
#include "ember/kernels/cuda/cudnn_handle.h"

#include <atomic>
#include <memory>
#include <mutex>
#include <string>

#include "ember/core/error.h"
#include "ember/core/log.h"
#include "ember/kernels/cuda/check.h"
#include "ember/kernels/cuda/device.h"

namespace ember::kernels::cuda_impl {

namespace {

struct Handles {
  std::mutex mutex;  // creation only; use is a single atomic load
  std::unique_ptr<std::atomic<cudnnHandle_t>[]> per_device =
      std::make_unique<std::atomic<cudnnHandle_t>[]>(static_cast<std::size_t>(device_count()));
};

Handles& handles() {
  static Handles& instance = *new Handles;  // never destroyed: HandleDestroyer releases the handles
  return instance;
}

// Destroys every device's handle at exit (see the file's opening comment for when it runs).
struct HandleDestroyer {
  HandleDestroyer() = default;
  HandleDestroyer(const HandleDestroyer&) = delete;
  HandleDestroyer& operator=(const HandleDestroyer&) = delete;
  ~HandleDestroyer() {
    Handles& h = handles();
    for (int d = 0; d < device_count(); ++d) {
      if (cudnnHandle_t handle = h.per_device[static_cast<std::size_t>(d)].exchange(nullptr)) {
        (void)cudaSetDevice(d);    // released on its own device; errors ignored at exit, as
        (void)cudnnDestroy(handle);  // handles.h's deleters ignore them
      }
    }
  }
};

// The loaded library, not the headers Ember was built with: a program may find another cuDNN at
// run time (LD_LIBRARY_PATH, a pip wheel), and cuDNN's ABI holds within one major version only.
void check_loaded_version() {
  const std::size_t loaded = cudnnGetVersion();
  const auto version = [](std::size_t v) {
    return std::to_string(v / 10000) + "." + std::to_string(v / 100 % 100) + "." +
           std::to_string(v % 100);
  };
  EMBER_CHECK(loaded >= kMinCudnnVersion && loaded / 10000 == CUDNN_MAJOR,
              "ember (CUDA backend): the cuDNN library loaded is version ", version(loaded),
              ", but Ember's convolutions need cuDNN ", version(kMinCudnnVersion),
              " or later within major version ", CUDNN_MAJOR, " (Ember was built with cuDNN ",
              version(CUDNN_VERSION), "'s headers): install cuDNN ", CUDNN_MAJOR,
              " for your CUDA version, or point LD_LIBRARY_PATH at it");
}

}  // namespace

cudnnHandle_t cudnn_handle(const DeviceContext& ctx) {
  Handles& h = handles();
  std::atomic<cudnnHandle_t>& slot = h.per_device[static_cast<std::size_t>(ctx.device)];
  cudnnHandle_t handle = slot.load(std::memory_order_acquire);
  if (handle == nullptr) [[unlikely]] {
    std::lock_guard lock(h.mutex);
    handle = slot.load(std::memory_order_acquire);
    if (handle == nullptr) {
      check_loaded_version();
      EMBER_CUDA_CHECK(cudnnCreate(&handle));
      const cudnnStatus_t bound = cudnnSetStream(handle, ctx.stream());
      if (bound != CUDNN_STATUS_SUCCESS) {
        (void)cudnnDestroy(handle);  // not shared yet: safe to destroy
        throw_status(bound, "cudnnSetStream(handle, ctx.stream())", __FILE__, __LINE__);
      }
      slot.store(handle, std::memory_order_release);
      static const HandleDestroyer destroyer;  // registered after the libraries cudnnCreate loaded
      logging::debug("CUDA: cuDNN {} (built with {}, for CUDA runtime {}) ready on cuda:{}",
                     cudnnGetVersion(), CUDNN_VERSION, cudnnGetCudartVersion(), ctx.device);
    }
  }
  ctx.drain();
  return handle;
}

}  // namespace ember::kernels::cuda_impl
