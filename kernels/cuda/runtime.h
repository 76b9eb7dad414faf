// The CUDA backend's process-wide state: the caching allocator and, per device, a context created
// on first use: one non-blocking stream that all of the device's work is queued on, cuBLAS and
// cuBLASLt handles bound to it, pinned staging for host-to-device copies, and the thread that
// issues Ember's kernel launches (launch_queue.h).
//
// Lifetime: everything is owned by one function-local static (runtime.cpp) and released at process
// exit in dependency order (contexts, then the allocator). Tensors kept in static storage may be
// destroyed after that; runtime_alive() lets their deallocation become a no-op (the driver reclaims
// the memory at exit) instead of touching destroyed state.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "ember/kernels/cuda/caching_allocator.h"
#include "ember/kernels/cuda/handles.h"
#include "ember/kernels/cuda/launch_queue.h"
#include "ember/kernels/cuda/pinned_staging.h"

namespace ember::kernels::cuda_impl {

// cuBLAS / cuBLASLt workspace per device. NVIDIA recommends 32 MiB on Hopper. We provide it
// ourselves (from the caching allocator) rather than letting cuBLAS cudaMalloc it lazily, so that
// a later CUDA graph capture of a GEMM finds it already there.
inline constexpr std::size_t kCublasWorkspaceBytes = std::size_t{32} << 20;

// The kernels that finish in their last block, each with its own ticket counter.
enum class Ticket : int { kMse, kAdam, kTranspose };
inline constexpr int kTicketCount = 3;

// CUDA-graph capture (graph.cpp): the device this thread is capturing on, -1 when none.
int capturing_device() noexcept;

// A device's stream, library handles and buffers. Ember's own kernels are launched through the
// launch queue (launch_queue.h) when it is on; everything else reaches the stream through
// stream(), blas() and blas_lt(), which first wait until every queued launch has been issued, so
// that it lands on the stream in program order.
class DeviceContext {
 public:
  // Creates the stream, the cuBLAS / cuBLASLt handles and workspace, the ticket counters and the
  // launch queue on `device` (the caller has made it current).
  DeviceContext(int device, CachingAllocator& allocator);
  DeviceContext(const DeviceContext&) = delete;
  DeviceContext& operator=(const DeviceContext&) = delete;
  ~DeviceContext();  // makes `device` current so the handles are released on their own device

  const int device;
  int sm_count = 0;  // streaming multiprocessors, for sizing grids
  int major = 0;     // compute capability, major part (9: Hopper)
  // Programmatic dependent launch (overlapped_launch.cuh) exists from compute capability 9.0.
  bool overlapped_launch = false;

  // For work other than Ember's launches: each drains the launch queue first, and throws
  // ember::Error if a queued launch failed.
  cudaStream_t stream() const {
    drain();
    return stream_.get();
  }
  cublasHandle_t blas() const {
    drain();
    return blas_.get();
  }
  cublasLtHandle_t blas_lt() const {
    drain();
    return blas_lt_.get();
  }
  // The stream for destructors: drains without throwing (a failure stays for the next stream()).
  cudaStream_t stream_noexcept() const noexcept {
    if (queue_) queue_->drain_noexcept();
    return stream_.get();
  }
  void drain() const {
    if (queue_) queue_->drain();
  }
  // Where Ember's kernel launches go: the queue, or null to launch directly (queue off, or this
  // thread is capturing a CUDA graph on this device).
  LaunchQueue* launch_queue() const noexcept {
    return queue_ && capturing_device() != device ? queue_.get() : nullptr;
  }

  void* blas_workspace() const { return blas_workspace_.get(); }
  unsigned* ticket(Ticket which) const { return tickets_.as<unsigned>() + static_cast<int>(which); }
  // dst (device) <- src (host) in stream order, through pinned staging; returns once src is read.
  void copy_from_host(void* dst, const void* src, std::size_t bytes) {
    staging_.copy_from_host(dst, src, bytes, stream());
  }

 private:
  // Destroyed bottom-up: the launch queue (it issues what is left), staging (waits for its
  // copies), the cuBLAS handles, their workspace (back to the allocator), and the stream last.
  Stream stream_;
  CachedBuffer blas_workspace_;
  CachedBuffer tickets_;  // kTicketCount counters for last-block kernels (last_block.cuh), all 0
  CublasHandle blas_;
  CublasLtHandle blas_lt_;
  PinnedStaging staging_;
  std::unique_ptr<LaunchQueue> queue_;
};

// The context of `device`, created on first use. Throws ember::Error when there is no such device.
DeviceContext& context(int device);
// The context if it was already created, else null (to synchronize without creating one).
DeviceContext* existing_context(int device);
CachingAllocator& allocator();
// False once the process-wide state has been destroyed at exit.
bool runtime_alive() noexcept;

// Host waits on the device: counted for ember::cuda::host_sync_count().
void count_host_sync() noexcept;
std::uint64_t host_sync_count() noexcept;
// Waits for all work queued on the device's stream; counts as a host sync.
void synchronize_device(int device);
// Returns once every launch queued for `device` has been issued to its stream (no-op when the
// device has no context yet); a failed launch stays to be reported by the next stream() call.
void drain_launches(int device) noexcept;

// (capturing_device() is declared above DeviceContext.)
void set_capturing_device(int device) noexcept;
// Throws ember::Error explaining why `what` cannot be part of a captured step, when this thread
// is capturing on `device` (-1: any device).
void check_not_capturing(int device, const char* what);

}  // namespace ember::kernels::cuda_impl
