// ember::cuda: what a program asks of the CUDA runtime. Every function exists in every build; in a
// build without CUDA, or on a machine without a GPU, is_available() is false, device_count() is 0
// and the functions that need a device throw ember::Error saying so.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>

namespace ember::cuda {

bool is_available();
int device_count();
// True while this thread runs the step given to ember::cuda::capture (core/cuda_graph.h).
bool is_capturing();
// Blocks the host until every queued operation on every device is done.
void synchronize();

// Counts kept for tests and tuning: how often the host waited for a device (item, to_vector,
// to(cpu), printing, synchronize), and how often the caching allocator called cudaMalloc.
std::uint64_t host_sync_count();
std::uint64_t device_malloc_count();

struct MemoryStats {
  std::size_t allocated_bytes = 0;       // in tensors now
  std::size_t reserved_bytes = 0;        // held from the driver (allocated + cached)
  std::size_t peak_allocated_bytes = 0;  // highest allocated_bytes since start or reset
};
MemoryStats memory_stats(int device = 0);
void reset_peak_memory_stats(int device = 0);
// Returns cached, unused blocks to the driver.
void empty_cache();

// Runs fn and returns the milliseconds its work took on `device`'s stream, measured with CUDA
// events recorded before and after it (waits for the end event).
double time_ms(const std::function<void()>& fn, int device = 0);

// Like torch.backends.cuda.matmul.allow_tf32: float32 matrix products may use TF32 tensor cores
// (faster, ~1e-3 relative error). Off by default, as in PyTorch.
void set_allow_tf32(bool allow);
bool allow_tf32();

// Like torch.backends.cudnn: convolutions in float32 may use TF32 tensor cores (on by default, as
// in PyTorch); benchmark times every algorithm once per shape and keeps the fastest (off by
// default: heuristics choose); deterministic uses only algorithms that give the same bits on every
// run (off by default).
void set_cudnn_allow_tf32(bool allow);
bool cudnn_allow_tf32();
void set_cudnn_benchmark(bool on);
bool cudnn_benchmark();
void set_cudnn_deterministic(bool on);
bool cudnn_deterministic();

}  // namespace ember::cuda
