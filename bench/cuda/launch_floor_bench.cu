// The floor under any framework's per-op time on this machine: raw CUDA launches, no framework.
// Times 10,000 back-to-back launches on one non-blocking stream, host clock around the loop plus
// the final synchronize, median of 5 runs, in us per launch:
//   - an empty kernel: what the driver charges for a launch;
//   - c = a + b on two 100-element float32 arrays (one block): bench/op_overhead_bench's add,
//     without Ember (shapes, allocation, dispatch);
//   - a CUDA graph of 4 empty kernels, replayed: the floor of a captured 4-kernel training step.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include <cuda_runtime.h>

namespace {

void check(cudaError_t e, const char* what) {
  if (e != cudaSuccess) {
    std::fprintf(stderr, "%s: %s\n", what, cudaGetErrorString(e));
    std::exit(1);
  }
}
#define CHECK(call) check((call), #call)

__global__ void empty_kernel() {}

__global__ void add_kernel(const float* a, const float* b, float* c, int n) {
  const int i = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  if (i < n) c[i] = a[i] + b[i];
}

template <typename Fn> double us_per_call(cudaStream_t stream, Fn fn, int calls = 10000, int runs = 5) {
  std::vector<double> times;
  for (int r = 0; r < runs; ++r) {
    CHECK(cudaStreamSynchronize(stream));
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < calls; ++i) fn();
    CHECK(cudaStreamSynchronize(stream));
    times.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count() / calls);
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

}  // namespace

int main() {
  int devices = 0;
  if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) {
    std::printf("no CUDA device: nothing to measure\n");
    return 0;
  }
  cudaStream_t stream = nullptr;
  CHECK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
  constexpr int n = 100;
  float *a = nullptr, *b = nullptr, *c = nullptr;
  CHECK(cudaMalloc(&a, n * sizeof(float)));
  CHECK(cudaMalloc(&b, n * sizeof(float)));
  CHECK(cudaMalloc(&c, n * sizeof(float)));
  CHECK(cudaMemsetAsync(a, 0, n * sizeof(float), stream));
  CHECK(cudaMemsetAsync(b, 0, n * sizeof(float), stream));

  const double empty = us_per_call(stream, [&] {
    empty_kernel<<<1, 32, 0, stream>>>();
    CHECK(cudaGetLastError());
  });
  const double add = us_per_call(stream, [&] {
    add_kernel<<<1, 128, 0, stream>>>(a, b, c, n);
    CHECK(cudaGetLastError());
  });

  cudaGraph_t graph = nullptr;
  cudaGraphExec_t exec = nullptr;
  CHECK(cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal));
  for (int i = 0; i < 4; ++i) empty_kernel<<<1, 32, 0, stream>>>();
  CHECK(cudaStreamEndCapture(stream, &graph));
  CHECK(cudaGraphInstantiate(&exec, graph, 0));
  const double graph_us = us_per_call(stream, [&] { CHECK(cudaGraphLaunch(exec, stream)); });

  std::printf("raw CUDA, us per call (median of 5 runs of 10000 calls)\n");
  std::printf("  %-44s %8.3f\n", "empty kernel launch", empty);
  std::printf("  %-44s %8.3f\n", "a + b, 100 floats, one block (no framework)", add);
  std::printf("  %-44s %8.3f\n", "graph of 4 empty kernels, replayed", graph_us);

  CHECK(cudaGraphExecDestroy(exec));
  CHECK(cudaGraphDestroy(graph));
  CHECK(cudaFree(a));
  CHECK(cudaFree(b));
  CHECK(cudaFree(c));
  CHECK(cudaStreamDestroy(stream));
  return 0;
}
