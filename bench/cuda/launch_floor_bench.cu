// The floor under any framework's per-op time on this machine: raw CUDA launches, no framework.
// Times 10,000 back-to-back launches on one non-blocking stream, host clock around the loop plus
// the final synchronize, median of 5 runs, in us per launch:
//   - an empty kernel: what the driver charges for a launch;
//   - c = a + b on two 100-element float32 arrays (one block): bench/op_overhead_bench's add,
//     without Ember (shapes, allocation, dispatch);
//   - a CUDA graph of 4 empty kernels, replayed: the floor of a captured 4-kernel training step;
//   - an empty kernel launched with programmatic dependent launch (cudaLaunchKernelEx with the
//     programmatic-stream-serialization attribute; the kernel waits with griddepcontrol), as Ember
//     launches a training step's kernels on compute capability 9.0 and later.
// Then the host's side alone: the time to enqueue 500 launches, too few to fill the launch queue,
// without waiting for them, for each way to launch (<<<>>>, the runtime's cudaLaunchKernel and
// cudaLaunchKernelEx, the driver's cuLaunchKernel and cuLaunchKernelEx, the legacy default stream)
// and for cudaGetDevice, which every Ember launch calls. Where it is close to the back-to-back
// time, launches are bound by the host; where it is well below, by the GPU's turnaround.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <vector>

#include <cuda.h>  // types of the driver's cuLaunchKernel, reached through cudaGetDriverEntryPoint
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

__global__ void empty_overlapped_kernel() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm volatile("griddepcontrol.wait;" ::: "memory");
  asm volatile("griddepcontrol.launch_dependents;" ::: "memory");
#endif
}

__global__ void add_kernel(const float* a, const float* b, float* c, int n) {
  const int i = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  if (i < n) c[i] = a[i] + b[i];
}

// Median over `runs` runs of the time per launch of `calls` launches, in us, from a drained
// stream. Until the stream drains again when `wait` (the launch rate the GPU sustains), or only
// until the last launch is enqueued (the host's side: keep `calls` below the ~1000 launches that
// CUDA queues before enqueueing blocks).
template <typename Fn> double us_per_launch(cudaStream_t stream, Fn fn, bool wait, int calls, int runs = 5) {
  std::vector<double> times;
  for (int r = 0; r < runs; ++r) {
    CHECK(cudaStreamSynchronize(stream));
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < calls; ++i) fn();
    if (wait) CHECK(cudaStreamSynchronize(stream));
    times.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count() / calls);
  }
  CHECK(cudaStreamSynchronize(stream));
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}
template <typename Fn> double us_per_call(cudaStream_t stream, Fn fn) { return us_per_launch(stream, fn, true, 10000); }

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

  const auto plain_launch = [&] {
    empty_kernel<<<1, 32, 0, stream>>>();
    CHECK(cudaGetLastError());
  };
  const double empty = us_per_call(stream, plain_launch);
  const double add = us_per_call(stream, [&] {
    add_kernel<<<1, 128, 0, stream>>>(a, b, c, n);
    CHECK(cudaGetLastError());
  });

  int device = 0, major = 0;
  CHECK(cudaGetDevice(&device));
  CHECK(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, device));
  cudaLaunchAttribute attribute{};
  attribute.id = cudaLaunchAttributeProgrammaticStreamSerialization;
  attribute.val.programmaticStreamSerializationAllowed = 1;
  cudaLaunchConfig_t config{};
  config.gridDim = dim3(1);
  config.blockDim = dim3(32);
  config.stream = stream;
  config.attrs = major >= 9 ? &attribute : nullptr;
  config.numAttrs = major >= 9 ? 1 : 0;
  const auto overlapped_launch = [&] { CHECK(cudaLaunchKernelEx(&config, empty_overlapped_kernel)); };
  const double overlapped = us_per_call(stream, overlapped_launch);
  // The driver's launch calls, reached through the runtime so that nothing links libcuda.
  using LaunchFn = CUresult (*)(CUfunction, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned,
                                CUstream, void**, void**);
  using LaunchExFn = CUresult (*)(const CUlaunchConfig*, CUfunction, void**, void**);
  const auto driver_entry = [](const char* name) {
    void* entry = nullptr;
    cudaDriverEntryPointQueryResult found{};
    CHECK(cudaGetDriverEntryPointByVersion(name, &entry, 12000, cudaEnableDefault, &found));
    if (found != cudaDriverEntryPointSuccess) {
      std::fprintf(stderr, "%s: not found in the driver\n", name);
      std::exit(1);
    }
    return entry;
  };
  const auto cu_launch = reinterpret_cast<LaunchFn>(driver_entry("cuLaunchKernel"));
  const auto cu_launch_ex = reinterpret_cast<LaunchExFn>(driver_entry("cuLaunchKernelEx"));
  const auto check_driver = [](CUresult r, const char* what) {
    if (r != CUDA_SUCCESS) {
      std::fprintf(stderr, "%s failed: %d\n", what, static_cast<int>(r));
      std::exit(1);
    }
  };
  cudaFunction_t plain_function = nullptr, overlapped_function = nullptr;
  CHECK(cudaGetFuncBySymbol(&plain_function, reinterpret_cast<const void*>(&empty_kernel)));
  CHECK(cudaGetFuncBySymbol(&overlapped_function, reinterpret_cast<const void*>(&empty_overlapped_kernel)));
  CUlaunchAttribute cu_attribute{};
  cu_attribute.id = CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_STREAM_SERIALIZATION;
  cu_attribute.value.programmaticStreamSerializationAllowed = 1;
  CUlaunchConfig cu_config{};
  cu_config.gridDimX = cu_config.gridDimY = cu_config.gridDimZ = 1;
  cu_config.blockDimX = 32;
  cu_config.blockDimY = cu_config.blockDimZ = 1;
  cu_config.hStream = reinterpret_cast<CUstream>(stream);
  cu_config.attrs = major >= 9 ? &cu_attribute : nullptr;
  cu_config.numAttrs = major >= 9 ? 1 : 0;

  // Host launch costs vary from second to second on a shared machine: the variants are measured
  // in turn, round after round, and each reports its median over the rounds.
  struct Variant {
    const char* name;
    std::function<void()> launch;
    std::vector<double> us;
  };
  std::vector<Variant> variants = {
      {"empty kernel <<<>>>", plain_launch, {}},
      {"empty kernel, cudaLaunchKernel",
       [&] { CHECK(cudaLaunchKernel(reinterpret_cast<const void*>(&empty_kernel), dim3(1), dim3(32), nullptr, 0, stream)); },
       {}},
      {"empty kernel, driver cuLaunchKernel",
       [&] {
         check_driver(cu_launch(reinterpret_cast<CUfunction>(plain_function), 1, 1, 1, 32, 1, 1, 0,
                                reinterpret_cast<CUstream>(stream), nullptr, nullptr),
                      "cuLaunchKernel");
       },
       {}},
      {"overlapped (PDL), cudaLaunchKernelEx", overlapped_launch, {}},
      {"overlapped (PDL), driver cuLaunchKernelEx",
       [&] {
         check_driver(cu_launch_ex(&cu_config, reinterpret_cast<CUfunction>(overlapped_function), nullptr, nullptr),
                      "cuLaunchKernelEx");
       },
       {}},
      {"empty kernel <<<>>>, legacy default stream",
       [&] {
         empty_kernel<<<1, 32, 0, cudaStreamLegacy>>>();
         CHECK(cudaGetLastError());
       },
       {}},
      {"cudaGetDevice (no launch)",
       [&] {
         int d = -1;
         CHECK(cudaGetDevice(&d));
       },
       {}},
  };
  constexpr int kRounds = 9;
  for (int round = 0; round < kRounds; ++round) {
    for (Variant& v : variants) v.us.push_back(us_per_launch(stream, v.launch, /*wait=*/false, 500, 1));
  }
  CHECK(cudaDeviceSynchronize());

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
  std::printf("  %-44s %8.3f%s\n", "empty kernel, overlapped launch (PDL)", overlapped,
              major >= 9 ? "" : " (no PDL below compute capability 9.0: a plain cudaLaunchKernelEx)");
  std::printf("host time to enqueue 500 launches, us per launch (median of %d interleaved rounds)\n", kRounds);
  for (Variant& v : variants) {
    std::sort(v.us.begin(), v.us.end());
    std::printf("  %-44s %8.3f\n", v.name, v.us[v.us.size() / 2]);
  }

  CHECK(cudaGraphExecDestroy(exec));
  CHECK(cudaGraphDestroy(graph));
  CHECK(cudaFree(a));
  CHECK(cudaFree(b));
  CHECK(cudaFree(c));
  CHECK(cudaStreamDestroy(stream));
  return 0;
}
