// torch.backends.cudnn's three settings. They are plain flags, the same in every build (a CPU-only
// build keeps them too, so a program sets them without asking which build it runs on); core reads
// them into each convolution's kernel arguments.
#include <atomic>

#include "ember/core/cuda.h"

namespace ember::cuda {

namespace {
std::atomic<bool> g_cudnn_allow_tf32{true};  // PyTorch's default: torch.backends.cudnn.allow_tf32 = True
std::atomic<bool> g_cudnn_benchmark{false};
std::atomic<bool> g_cudnn_deterministic{false};
}  // namespace

void set_cudnn_allow_tf32(bool allow) { g_cudnn_allow_tf32.store(allow, std::memory_order_relaxed); }
bool cudnn_allow_tf32() { return g_cudnn_allow_tf32.load(std::memory_order_relaxed); }
void set_cudnn_benchmark(bool on) { g_cudnn_benchmark.store(on, std::memory_order_relaxed); }
bool cudnn_benchmark() { return g_cudnn_benchmark.load(std::memory_order_relaxed); }
void set_cudnn_deterministic(bool on) { g_cudnn_deterministic.store(on, std::memory_order_relaxed); }
bool cudnn_deterministic() { return g_cudnn_deterministic.load(std::memory_order_relaxed); }

}  // namespace ember::cuda
