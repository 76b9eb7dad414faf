// The launch queue's worker and the one function that issues a launch (design in launch_queue.h).
#include "ember/kernels/cuda/launch_queue.h"

#include <chrono>
#include <cstdlib>
#include <string_view>

#include "ember/core/error.h"
#include "ember/core/log.h"

namespace ember::kernels::cuda_impl {

namespace {

using DriverLaunchKernelEx = CUresult (*)(const CUlaunchConfig*, CUfunction, void**, void**);

// The driver's cuLaunchKernelEx, found once through the runtime (Ember does not link libcuda);
// null where the driver lacks it. On the lent H100 hosts it took 3.05 us of host time per launch
// against 3.48 for the runtime's cudaLaunchKernelEx (bench/cuda/launch_floor_bench).
DriverLaunchKernelEx driver_launch_kernel_ex() {
  static const DriverLaunchKernelEx entry_point = [] {
    void* entry = nullptr;
    cudaDriverEntryPointQueryResult found{};
    if (cudaGetDriverEntryPointByVersion("cuLaunchKernelEx", &entry, 12000, cudaEnableDefault, &found) != cudaSuccess ||
        found != cudaDriverEntryPointSuccess) {
      (void)cudaGetLastError();  // no such entry point: launches go through the runtime
      return DriverLaunchKernelEx{nullptr};
    }
    return reinterpret_cast<DriverLaunchKernelEx>(entry);
  }();
  return entry_point;
}

// Polling before the worker sleeps: long enough to span the host work between two launches of a
// training step, short enough not to hold a core once the program stops launching. A sleeping
// worker costs a futex wake (several microseconds) on the next push, which is what the poll saves.
// EMBER_CUDA_LAUNCH_POLL_US overrides the default, to measure it: docs/benchmarks.md has the eager
// SimpleNet step against the poll length (2026-12-03).
std::chrono::microseconds poll_before_sleep() {
  static const std::chrono::microseconds poll = [] {
    const char* value = std::getenv("EMBER_CUDA_LAUNCH_POLL_US");
    const long us = value != nullptr ? std::strtol(value, nullptr, 10) : 50;
    return std::chrono::microseconds(us < 0 ? 0 : us);
  }();
  return poll;
}

inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

}  // namespace

cudaError_t launch_now(const KernelRef& kernel, dim3 grid, dim3 block, cudaStream_t stream, bool overlapped,
                       void** params) noexcept {
  if (const DriverLaunchKernelEx driver = driver_launch_kernel_ex(); driver != nullptr && kernel.function != nullptr) {
    CUlaunchAttribute attribute{};
    attribute.id = CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_STREAM_SERIALIZATION;
    attribute.value.programmaticStreamSerializationAllowed = 1;
    CUlaunchConfig config{};
    config.gridDimX = grid.x;
    config.gridDimY = grid.y;
    config.gridDimZ = grid.z;
    config.blockDimX = block.x;
    config.blockDimY = block.y;
    config.blockDimZ = block.z;
    config.sharedMemBytes = 0;
    config.hStream = reinterpret_cast<CUstream>(stream);
    config.attrs = overlapped ? &attribute : nullptr;
    config.numAttrs = overlapped ? 1 : 0;
    if (driver(&config, kernel.function, params, nullptr) == CUDA_SUCCESS) return cudaSuccess;
  }
  cudaLaunchAttribute attribute{};
  attribute.id = cudaLaunchAttributeProgrammaticStreamSerialization;
  attribute.val.programmaticStreamSerializationAllowed = 1;
  cudaLaunchConfig_t config{};
  config.gridDim = grid;
  config.blockDim = block;
  config.dynamicSmemBytes = 0;
  config.stream = stream;
  config.attrs = overlapped ? &attribute : nullptr;
  config.numAttrs = overlapped ? 1 : 0;
  const cudaError_t status = cudaLaunchKernelExC(&config, kernel.stub, params);
  if (status != cudaSuccess) (void)cudaGetLastError();  // reported by the caller, not left sticky
  return status;
}

bool launch_queue_enabled() {
  static const bool enabled = [] {
    const char* value = std::getenv("EMBER_CUDA_LAUNCH_QUEUE");
    return value == nullptr || std::string_view(value) != "0";
  }();
  return enabled;
}

LaunchQueue::LaunchQueue(int device, cudaStream_t stream, bool overlapped)
    : device_(device), stream_(stream), overlapped_(overlapped), slots_(std::make_unique<Slot[]>(kSlots)) {
  worker_ = std::thread([this] { run(); });
  logging::debug("CUDA: cuda:{} launches through a worker thread (EMBER_CUDA_LAUNCH_QUEUE=0 turns it off)", device);
}

LaunchQueue::~LaunchQueue() {
  stopping_.store(true, std::memory_order_seq_cst);
  wake();
  worker_.join();  // it issues what is queued first
}

void LaunchQueue::wake() noexcept {
  wakeups_.fetch_add(1, std::memory_order_seq_cst);
  wakeups_.notify_one();
}

void LaunchQueue::run() noexcept {
  // The driver launches into the calling thread's current context: the device's primary one.
  if (const cudaError_t status = cudaSetDevice(device_); status != cudaSuccess) {
    (void)cudaGetLastError();
    const std::lock_guard lock(error_mutex_);
    error_ = std::string("cudaSetDevice on the launch thread failed: ") + cudaGetErrorString(status);
    failed_.store(true);
  }
  std::uint64_t next = 0;
  for (;;) {
    if (pushed_.load(std::memory_order_acquire) == next) {
      // Poll for a while, then sleep until a push (or the destructor) wakes us.
      const auto until = std::chrono::steady_clock::now() + poll_before_sleep();
      bool arrived = false;
      while (!arrived && std::chrono::steady_clock::now() < until) {
        for (int i = 0; i < 64 && !arrived; ++i) {
          cpu_relax();
          arrived = pushed_.load(std::memory_order_acquire) != next;
        }
      }
      if (!arrived) {
        const std::uint32_t seen = wakeups_.load(std::memory_order_seq_cst);
        sleeping_.store(true, std::memory_order_seq_cst);
        const bool empty = pushed_.load(std::memory_order_seq_cst) == next;
        if (empty && stopping_.load(std::memory_order_seq_cst)) return;
        if (empty) wakeups_.wait(seen, std::memory_order_seq_cst);
        sleeping_.store(false, std::memory_order_seq_cst);
      }
      continue;
    }
    issue(slots_[next % kSlots]);
    ++next;
    issued_.store(next, std::memory_order_release);
  }
}

void LaunchQueue::issue(Slot& slot) noexcept {
  std::array<void*, kMaxParams> pointers{};
  for (int i = 0; i < slot.param_count; ++i) {
    pointers[static_cast<std::size_t>(i)] = slot.params.data() + slot.offsets[static_cast<std::size_t>(i)];
  }
  const cudaError_t status = launch_now(slot.kernel, slot.grid, slot.block, stream_, overlapped_, pointers.data());
  if (status == cudaSuccess) [[likely]] return;
  const std::lock_guard lock(error_mutex_);
  if (error_.empty()) {
    error_ = std::string("a kernel launch on cuda:") + std::to_string(device_) + " failed: " +
             cudaGetErrorName(status) + " (" + cudaGetErrorString(status) + ")";
  }
  failed_.store(true, std::memory_order_release);
}

void LaunchQueue::wait_issued(std::uint64_t target) const noexcept {
  for (int spins = 0; issued_.load(std::memory_order_acquire) < target; ++spins) {
    if (spins < 4096) cpu_relax();
    else std::this_thread::yield();
  }
}

void LaunchQueue::drain_noexcept() const noexcept { wait_issued(pushed_.load(std::memory_order_acquire)); }

void LaunchQueue::drain() const {
  drain_noexcept();
  if (!failed_.load(std::memory_order_acquire)) [[likely]] return;
  std::string message;
  {
    const std::lock_guard lock(error_mutex_);
    message.swap(error_);
    failed_.store(false);
  }
  EMBER_FAIL("ember (CUDA backend): ", message, " (launched from Ember's launch thread, reported at the next "
             "operation that waits for it)");
}

}  // namespace ember::kernels::cuda_impl
