// The CUDA backend's process-wide state: the caching allocator and, per device, a context created
// on first use: one non-blocking stream that all of the device's work is queued on, cuBLAS and
// cuBLASLt handles bound to it, pinned staging for host-to-device copies.
//
// Lifetime: everything is owned by one function-local static (runtime.cpp) and released at process
// exit in dependency order (contexts, then the allocator). Tensors kept in static storage may be
// destroyed after that; runtime_alive() lets their deallocation become a no-op (the driver reclaims
// the memory at exit) instead of touching destroyed state.
#pragma once

#include <cstdint>

#include "ember/kernels/cuda/caching_allocator.h"
#include "ember/kernels/cuda/handles.h"
#include "ember/kernels/cuda/pinned_staging.h"

namespace ember::kernels::cuda_impl {

// cuBLAS / cuBLASLt workspace per device. NVIDIA recommends 32 MiB on Hopper. We provide it
// ourselves (from the caching allocator) rather than letting cuBLAS cudaMalloc it lazily, so that
// a later CUDA graph capture of a GEMM finds it already there.
inline constexpr std::size_t kCublasWorkspaceBytes = std::size_t{32} << 20;

// The kernels that finish in their last block, each with its own ticket counter.
enum class Ticket : int { kMse, kAdam, kTranspose };
inline constexpr int kTicketCount = 3;

struct DeviceContext {
  // Members are destroyed bottom-up: staging (waits for its copies), cuBLAS handles, their
  // workspace (back to the allocator), and the stream last.
  int device = 0;
  int sm_count = 0;  // streaming multiprocessors, for sizing grids
  int major = 0;  // compute capability, major part (9: Hopper)
  // Programmatic dependent launch (overlapped_launch.cuh) exists from compute capability 9.0.
  bool overlapped_launch = false;
  Stream stream;
  CachedBuffer blas_workspace;
  CachedBuffer tickets;  // kTicketCount counters for last-block kernels (last_block.cuh), all 0
  CublasHandle blas;
  CublasLtHandle blas_lt;
  PinnedStaging staging;

  unsigned* ticket(Ticket which) const { return tickets.as<unsigned>() + static_cast<int>(which); }

  DeviceContext() = default;
  DeviceContext(const DeviceContext&) = delete;
  DeviceContext& operator=(const DeviceContext&) = delete;
  ~DeviceContext();  // makes `device` current so the handles are released on their own device
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

// CUDA-graph capture (graph.cpp): the device this thread is capturing on, -1 when none.
int capturing_device() noexcept;
void set_capturing_device(int device) noexcept;
// Throws ember::Error explaining why `what` cannot be part of a captured step, when this thread
// is capturing on `device` (-1: any device).
void check_not_capturing(int device, const char* what);

}  // namespace ember::kernels::cuda_impl
