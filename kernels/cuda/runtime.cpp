// Process-wide CUDA state: device count, the allocator, and the per-device contexts.
#include "ember/kernels/cuda/runtime.h"

#include <atomic>
#include <memory>
#include <mutex>
#include <system_error>

#include "ember/core/error.h"
#include "ember/core/log.h"
#include "ember/kernels/cuda/check.h"
#include "ember/kernels/cuda/device.h"

namespace ember::kernels::cuda_impl {

namespace {

std::atomic<std::uint64_t> g_host_syncs{0};
std::atomic<bool> g_runtime_destroyed{false};  // constant-initialized, never destroyed

// One slot per device; `ready` publishes the context once built, so the common path is a single
// atomic load (context() runs on every op).
struct ContextSlot {
  std::atomic<DeviceContext*> ready{nullptr};
  std::unique_ptr<DeviceContext> owned;
};

struct Runtime {
  // Declaration order is destruction order reversed: contexts give their cuBLAS workspaces back to
  // the allocator, so the allocator must outlive them.
  CachingAllocator allocator{device_count()};
  std::mutex contexts_mutex;
  std::unique_ptr<ContextSlot[]> contexts = std::make_unique<ContextSlot[]>(static_cast<std::size_t>(device_count()));

  Runtime() = default;
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;
  // Runs before the members are destroyed: deallocations from here on are no-ops.
  ~Runtime() { g_runtime_destroyed.store(true); }
};

Runtime& runtime() {
  static Runtime instance;
  return instance;
}

}  // namespace

int device_count() noexcept {
  static const int count = [] {
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess) {
      (void)cudaGetLastError();  // no driver, no device, driver too old: no CUDA devices
      n = 0;
    }
    return n;
  }();
  return count;
}

DeviceContext::DeviceContext(int device_index, CachingAllocator& alloc) : device(device_index) {
  EMBER_CUDA_CHECK(cudaDeviceGetAttribute(&sm_count, cudaDevAttrMultiProcessorCount, device));
  EMBER_CUDA_CHECK(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, device));
  overlapped_launch = major >= 9;

  // Non-blocking: no implicit synchronization with the legacy default stream (stream 0), which
  // other libraries in the process may use.
  cudaStream_t stream = nullptr;
  EMBER_CUDA_CHECK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
  stream_.reset(stream);

  cublasHandle_t blas = nullptr;
  EMBER_CUDA_CHECK(cublasCreate(&blas));
  blas_.reset(blas);
  // cublasSetStream resets the workspace to cuBLAS's own pool, so the stream comes first.
  EMBER_CUDA_CHECK(cublasSetStream(blas, stream));
  blas_workspace_ = CachedBuffer(alloc, kCublasWorkspaceBytes, device, /*counted=*/false);
  EMBER_CUDA_CHECK(cublasSetWorkspace(blas, blas_workspace_.get(), kCublasWorkspaceBytes));

  tickets_ = CachedBuffer(alloc, kTicketCount * sizeof(unsigned), device, /*counted=*/false);
  EMBER_CUDA_CHECK(cudaMemsetAsync(tickets_.get(), 0, kTicketCount * sizeof(unsigned), stream));

  cublasLtHandle_t blas_lt = nullptr;
  EMBER_CUDA_CHECK(cublasLtCreate(&blas_lt));
  blas_lt_.reset(blas_lt);

  if (launch_queue_enabled()) {
    try {
      queue_ = std::make_unique<LaunchQueue>(device, stream, overlapped_launch);
    } catch (const std::system_error& e) {  // no thread to be had: launch from the caller's thread
      logging::warn("CUDA: cuda:{} launches directly: could not start the launch thread ({})", device, e.what());
    }
  }
  logging::debug("CUDA: cuda:{} ready ({} multiprocessors, one stream, cuBLAS workspace {} MiB)", device, sm_count,
                 kCublasWorkspaceBytes >> 20);
}

DeviceContext::~DeviceContext() {
  queue_.reset();  // issues what is still queued while the stream and handles exist
  (void)cudaSetDevice(device);
}

DeviceContext& context(int device) {
  const int count = device_count();
  EMBER_CHECK(count > 0, "ember: no CUDA device is available on this machine");
  EMBER_CHECK(device >= 0 && device < count, "ember: CUDA device ", device,
              " does not exist: this machine has ", count, " CUDA device(s)");
  Runtime& rt = runtime();
  ContextSlot& slot = rt.contexts[static_cast<std::size_t>(device)];
  if (DeviceContext* ctx = slot.ready.load(std::memory_order_acquire)) [[likely]] return *ctx;
  std::lock_guard lock(rt.contexts_mutex);
  if (!slot.owned) {
    const DeviceGuard guard(device);
    slot.owned = std::make_unique<DeviceContext>(device, rt.allocator);
    slot.ready.store(slot.owned.get(), std::memory_order_release);
  }
  return *slot.owned;
}

DeviceContext* existing_context(int device) {
  if (device < 0 || device >= device_count()) return nullptr;
  return runtime().contexts[static_cast<std::size_t>(device)].ready.load(std::memory_order_acquire);
}

CachingAllocator& allocator() { return runtime().allocator; }

bool runtime_alive() noexcept { return !g_runtime_destroyed.load(); }

void count_host_sync() noexcept { g_host_syncs.fetch_add(1, std::memory_order_relaxed); }
std::uint64_t host_sync_count() noexcept { return g_host_syncs.load(std::memory_order_relaxed); }

namespace {
thread_local int t_capturing_device = -1;
}  // namespace

int capturing_device() noexcept { return t_capturing_device; }
void set_capturing_device(int device) noexcept { t_capturing_device = device; }

void check_not_capturing(int device, const char* what) {
  if (t_capturing_device < 0 || (device >= 0 && device != t_capturing_device)) [[likely]] return;
  EMBER_FAIL("ember::cuda::capture: ", what, " cannot be part of a captured step: a CUDA graph "
             "replays GPU work only, so it would happen once, at capture time, and never on "
             "replay. Do it before capture or after replay(); pass new input values to "
             "replay(inputs)");
}

void drain_launches(int device) noexcept {
  if (DeviceContext* ctx = existing_context(device)) (void)ctx->stream_noexcept();
}

void synchronize_device(int device) {
  check_not_capturing(device, "waiting for the device (synchronize)");
  if (DeviceContext* ctx = existing_context(device)) {
    const DeviceGuard guard(device);
    EMBER_CUDA_CHECK(cudaStreamSynchronize(ctx->stream()));
  }
  count_host_sync();
}

}  // namespace ember::kernels::cuda_impl
