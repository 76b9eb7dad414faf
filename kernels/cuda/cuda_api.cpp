// ember::cuda (core/cuda.h) in a build with the CUDA backend.
#include "ember/core/cuda.h"

#include <atomic>
#include <memory>
#include <type_traits>

#include "ember/core/error.h"
#include "ember/kernels/cuda/caching_allocator.h"
#include "ember/kernels/cuda/check.h"
#include "ember/kernels/cuda/device.h"
#include "ember/kernels/cuda/runtime.h"

namespace ember::cuda {

namespace {

namespace impl = ember::kernels::cuda_impl;

std::atomic<bool> g_allow_tf32{false};

void require_device(const char* what, int device) {
  const int count = impl::device_count();
  EMBER_CHECK(count > 0, "ember::cuda::", what, ": no CUDA device is available on this machine");
  EMBER_CHECK(device >= 0 && device < count, "ember::cuda::", what, ": CUDA device ", device,
              " does not exist: this machine has ", count, " CUDA device(s)");
}

}  // namespace

bool is_available() { return impl::device_count() > 0; }

bool is_capturing() { return impl::capturing_device() >= 0; }

int device_count() { return impl::device_count(); }

void synchronize() {
  const int count = impl::device_count();
  if (count == 0) return;  // nothing can be queued
  impl::check_not_capturing(-1, "ember::cuda::synchronize()");
  for (int d = 0; d < count; ++d) {
    if (impl::existing_context(d) == nullptr) continue;  // never used: nothing queued
    const impl::DeviceGuard guard(d);
    EMBER_CUDA_CHECK(cudaDeviceSynchronize());
  }
  impl::count_host_sync();
}

std::uint64_t host_sync_count() { return impl::host_sync_count(); }

double time_ms(const std::function<void()>& fn, int device) {
  require_device("time_ms", device);
  impl::check_not_capturing(-1, "ember::cuda::time_ms");
  impl::DeviceContext& ctx = impl::context(device);
  const impl::DeviceGuard guard(device);
  // Two events owned here for the measurement; destroyed on every path.
  auto make_event = [] {
    cudaEvent_t e = nullptr;
    EMBER_CUDA_CHECK(cudaEventCreate(&e));
    return std::unique_ptr<std::remove_pointer_t<cudaEvent_t>, decltype(&cudaEventDestroy)>(e, &cudaEventDestroy);
  };
  const auto start = make_event(), stop = make_event();
  EMBER_CUDA_CHECK(cudaEventRecord(start.get(), ctx.stream()));
  fn();
  EMBER_CUDA_CHECK(cudaEventRecord(stop.get(), ctx.stream()));
  EMBER_CUDA_CHECK(cudaEventSynchronize(stop.get()));
  impl::count_host_sync();
  float ms = 0.0f;
  EMBER_CUDA_CHECK(cudaEventElapsedTime(&ms, start.get(), stop.get()));
  return ms;
}

std::uint64_t device_malloc_count() { return impl::CachingAllocator::malloc_count(); }

MemoryStats memory_stats(int device) {
  require_device("memory_stats", device);
  return impl::allocator().stats(device);
}

void reset_peak_memory_stats(int device) {
  require_device("reset_peak_memory_stats", device);
  impl::allocator().reset_peak(device);
}

void empty_cache() {
  if (impl::device_count() == 0) return;
  impl::allocator().empty_cache();
}

void set_allow_tf32(bool allow) { g_allow_tf32.store(allow, std::memory_order_relaxed); }

bool allow_tf32() { return g_allow_tf32.load(std::memory_order_relaxed); }

}  // namespace ember::cuda
