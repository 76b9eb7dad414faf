// The matrix product on CPU (Eigen) and GPU (cuBLAS): times the host-to-device copy of the
// operands, the product on the CPU (wall clock) and on the GPU (CUDA events, after a warm-up),
// medians of several runs, and checks that both results agree.
//
//   matmul [--size N] [--dtype float32|float64] [--repeats R]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include <ember/ember.h>

namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// Median wall time of `repeats` calls of fn, each followed by a device synchronisation.
template <typename Fn> double median_ms(int repeats, Fn fn) {
  std::vector<double> times;
  for (int i = 0; i < repeats; ++i) {
    const auto start = Clock::now();
    fn();
    ember::cuda::synchronize();
    times.push_back(ms_since(start));
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  std::int64_t n = 2000;
  std::string dtype_name = "float64";
  int repeats = 5;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string arg = argv[i];
    if (arg == "--size") n = std::stoll(argv[i + 1]);
    else if (arg == "--dtype") dtype_name = argv[i + 1];
    else if (arg == "--repeats") repeats = std::stoi(argv[i + 1]);
    else {
      std::fprintf(stderr, "usage: matmul [--size N] [--dtype float32|float64] [--repeats R]\n");
      return 2;
    }
  }
  try {
    const ember::DType dtype = dtype_name == "float32" ? ember::kFloat32 : ember::kFloat64;
    const double flops = 2.0 * static_cast<double>(n) * static_cast<double>(n) * static_cast<double>(n);
    ember::manual_seed(0);
    const auto a = ember::rand({n, n}, dtype);
    const auto b = ember::rand({n, n}, dtype);
    std::printf("%lldx%lld %s product\n", static_cast<long long>(n), static_cast<long long>(n), dtype_name.c_str());

    ember::Tensor c_cpu;
    const double cpu_ms = median_ms(repeats, [&] { c_cpu = ember::matmul(a, b); });
    std::printf("  cpu  (Eigen):  %9.3f ms  %8.1f GFLOP/s\n", cpu_ms, flops / cpu_ms / 1e6);

    if (!ember::cuda::is_available()) {
      std::printf("  no CUDA device on this machine: GPU run skipped\n");
      return 0;
    }
    const ember::Device gpu = ember::Device::cuda();
    ember::Tensor a_gpu, b_gpu;
    const double copy_ms = median_ms(repeats, [&] {
      a_gpu = a.to(gpu);
      b_gpu = b.to(gpu);
    });
    const double bytes = 2.0 * static_cast<double>(a.numel()) * static_cast<double>(ember::element_size(dtype));
    std::printf("  host->device copy of both operands: %9.3f ms  %6.2f GB/s\n", copy_ms, bytes / copy_ms / 1e6);
    ember::Tensor c_gpu = ember::matmul(a_gpu, b_gpu);  // warm-up: cuBLAS handle and heuristics
    std::vector<double> gpu_times;  // CUDA events around each product
    for (int i = 0; i < repeats; ++i) {
      gpu_times.push_back(ember::cuda::time_ms([&] { c_gpu = ember::matmul(a_gpu, b_gpu); }));
    }
    std::sort(gpu_times.begin(), gpu_times.end());
    const double gpu_ms = gpu_times[gpu_times.size() / 2];
    std::printf("  cuda (cuBLAS): %9.3f ms  %8.1f GFLOP/s\n", gpu_ms, flops / gpu_ms / 1e6);
    const double rtol = dtype == ember::kFloat64 ? 1e-10 : 1e-4;
    const bool same = ember::allclose(c_gpu.to(ember::Device::cpu()), c_cpu, rtol, 1e-6);
    std::printf("  allclose(cuda, cpu, rtol=%g): %s\n", rtol, same ? "true" : "FALSE");
    return same ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "matmul: %s\n", e.what());
    return 1;
  }
}
