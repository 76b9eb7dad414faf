// Ember's kernel launches, issued by one worker thread per device.
//
// Why: on the lent H100 hosts the driver takes 2.9-3.5 us of the calling thread's time per launch
// (bench/cuda/launch_floor_bench), and a small training step such as SimpleNet's is four launches
// with about 1 us of Ember's own work each, so the step is bound by the host thread. Copying a
// launch into this queue costs the calling thread a fraction of that; the worker pays the driver
// meanwhile, and the two threads overlap.
//
// Order: the worker issues launches in the order they were pushed, on the device's one stream.
// Everything else put on that stream (cuBLAS calls, copies, memsets, events, NCCL, waits) is put
// there by the calling thread after drain(): DeviceContext hands out its stream and library handles
// only through accessors that drain first, so such work always lands behind every launch pushed
// before it. A CUDA-graph capture launches directly, on the capturing thread.
//
// Errors: a launch that fails on the worker (the driver refused it) is reported by the next
// drain(), as CUDA reports a kernel's own faults at the next synchronizing call.
//
// The worker polls for about 50 us after its last launch (EMBER_CUDA_LAUNCH_POLL_US), then sleeps
// until the next push.
// EMBER_CUDA_LAUNCH_QUEUE=0 turns the queue off: every launch is then made by the calling thread.
#pragma once

#include <cuda.h>
#include <cuda_runtime.h>

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <type_traits>

namespace ember::kernels::cuda_impl {

// A kernel as both launch paths know it: the driver's context-independent handle (null when the
// runtime could not give one) and the runtime's host stub.
struct KernelRef {
  CUfunction function = nullptr;
  const void* stub = nullptr;
};

// One launch now, from the calling thread: the driver's cuLaunchKernelEx, or the runtime's
// cudaLaunchKernelExC when that fails (no current context on this thread, an old driver).
// `overlapped` asks for programmatic dependent launch (overlapped_launch.cuh). Returns the
// runtime's error, cudaSuccess once launched.
cudaError_t launch_now(const KernelRef& kernel, dim3 grid, dim3 block, cudaStream_t stream, bool overlapped,
                       void** params) noexcept;

class LaunchQueue {
 public:
  static constexpr int kMaxParams = 16;
  static constexpr std::size_t kParamBytes = 1024;  // larger argument lists are launched directly

  // The launches of `stream` on `device`; starts the worker.
  LaunchQueue(int device, cudaStream_t stream, bool overlapped);
  ~LaunchQueue();  // issues what is queued, then stops the worker
  LaunchQueue(const LaunchQueue&) = delete;
  LaunchQueue& operator=(const LaunchQueue&) = delete;

  // Queues Kernel(params...) and returns true; false (nothing queued) when the arguments do not
  // fit a slot. Blocks while the queue is full.
  template <typename... Params>
  bool try_push(const KernelRef& kernel, dim3 grid, dim3 block, const Params&... params) {
    static_assert((std::is_trivially_copyable_v<Params> && ...), "kernel arguments are copied as bytes");
    static_assert(((alignof(Params) <= 16) && ...), "kernel arguments aligned beyond 16 bytes");
    static_assert(sizeof...(Params) <= kMaxParams, "too many kernel arguments for a queue slot");
    constexpr Layout<sizeof...(Params)> layout = layout_of<Params...>();
    if constexpr (layout.bytes > kParamBytes) {
      return false;
    } else {
      push([&](Slot& slot) {
        slot.kernel = kernel;
        slot.grid = grid;
        slot.block = block;
        slot.param_count = static_cast<int>(sizeof...(Params));
        int i = 0;
        ((slot.offsets[static_cast<std::size_t>(i)] = layout.offsets[static_cast<std::size_t>(i)],
          std::memcpy(slot.params.data() + layout.offsets[static_cast<std::size_t>(i)], &params, sizeof(Params)),
          ++i),
         ...);
      });
      return true;
    }
  }

  // Returns once every launch pushed before the call has been issued to the stream. Throws
  // ember::Error if one failed since the last drain.
  void drain() const;
  // The same without throwing (for destructors); a failure stays for the next drain().
  void drain_noexcept() const noexcept;

 private:
  static constexpr std::size_t kSlots = 128;

  struct Slot {
    KernelRef kernel;
    dim3 grid, block;
    int param_count = 0;
    std::array<std::uint16_t, kMaxParams> offsets{};
    alignas(16) std::array<std::byte, kParamBytes> params{};
  };

  template <std::size_t N> struct Layout {
    std::array<std::uint16_t, N> offsets{};
    std::size_t bytes = 0;
  };
  template <typename... Params> static constexpr Layout<sizeof...(Params)> layout_of() {
    Layout<sizeof...(Params)> layout;
    std::size_t i = 0;
    ((layout.bytes = (layout.bytes + alignof(Params) - 1) / alignof(Params) * alignof(Params),
      layout.offsets[i++] = static_cast<std::uint16_t>(layout.bytes), layout.bytes += sizeof(Params)),
     ...);
    return layout;
  }

  template <typename Fill> void push(Fill&& fill) {
    const std::lock_guard lock(producers_);
    const std::uint64_t n = pushed_.load(std::memory_order_relaxed);
    while (n - issued_.load(std::memory_order_acquire) >= kSlots) std::this_thread::yield();  // full
    fill(slots_[n % kSlots]);
    pushed_.store(n + 1, std::memory_order_seq_cst);
    if (sleeping_.load(std::memory_order_seq_cst)) wake();
  }
  void wake() noexcept;
  void run() noexcept;  // the worker
  void issue(Slot& slot) noexcept;
  void wait_issued(std::uint64_t target) const noexcept;

  int device_;
  cudaStream_t stream_;  // not owned
  bool overlapped_;
  std::unique_ptr<Slot[]> slots_;
  std::mutex producers_;
  std::atomic<std::uint64_t> pushed_{0}, issued_{0};
  std::atomic<bool> sleeping_{false}, stopping_{false};
  std::atomic<std::uint32_t> wakeups_{0};  // what the sleeping worker waits on
  mutable std::mutex error_mutex_;
  mutable std::string error_;  // the first failed launch since the last drain, empty if none
  mutable std::atomic<bool> failed_{false};
  std::thread worker_;
};

// Whether Ember's launches go through a LaunchQueue: EMBER_CUDA_LAUNCH_QUEUE unset or not "0".
bool launch_queue_enabled();

}  // namespace ember::kernels::cuda_impl
