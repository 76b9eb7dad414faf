// Per-op overhead: N (default 10,000) additions `a + b` of two 100-element float32 tensors, in µs
// per addition, on the CPU and (when present) CUDA, where the device is synchronised once at the
// end. Median (and minimum) of R runs (default 5), after 100 warm-up additions. At this size the
// arithmetic is nothing: what is timed is dispatch, allocation of the result and, on CUDA, the
// kernel launch.
//
//   op_overhead_bench [--device cpu|cuda|all] [--adds N] [--runs R]
#include <ember/ember.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

double us_per_add(ember::Device device, int adds) {
  ember::manual_seed(0);
  const auto a = ember::randn({100}).to(device);
  const auto b = ember::randn({100}).to(device);
  ember::Tensor c;
  for (int i = 0; i < 100; ++i) c = a + b;  // warm-up: allocator caches, lazy state
  if (device.is_cuda()) ember::cuda::synchronize();
  const auto start = Clock::now();
  for (int i = 0; i < adds; ++i) c = a + b;
  if (device.is_cuda()) ember::cuda::synchronize();
  return std::chrono::duration<double, std::micro>(Clock::now() - start).count() / adds;
}

[[noreturn]] void usage() {
  std::fprintf(stderr, "usage: op_overhead_bench [--device cpu|cuda|all] [--adds N] [--runs R]\n");
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  try {
    std::string which = "all";
    int adds = 10000, runs = 5;
    for (int i = 1; i < argc; ++i) {
      const std::string arg = argv[i];
      if (i + 1 >= argc) usage();
      const std::string value = argv[++i];
      if (arg == "--device")
        which = value;
      else if (arg == "--adds")
        adds = std::stoi(value);
      else if (arg == "--runs")
        runs = std::stoi(value);
      else
        usage();
    }
    if ((which != "cpu" && which != "cuda" && which != "all") || adds < 1 || runs < 1) usage();
    std::vector<ember::Device> devices;
    if (which != "cuda") devices.push_back(ember::Device::cpu());
    if (which != "cpu") {
      if (ember::cuda::is_available())
        devices.push_back(ember::Device::cuda());
      else
        std::printf("(no CUDA device on this machine: CPU only)\n");
    }
    std::printf("a + b, two 100-element float32 tensors, %d additions per run, median of %d runs\n",
                adds, runs);
    std::printf("%-8s %12s %12s\n", "device", "us/add(med)", "us/add(min)");
    for (const ember::Device d : devices) {
      std::vector<double> times;
      for (int r = 0; r < runs; ++r) times.push_back(us_per_add(d, adds));
      std::sort(times.begin(), times.end());
      std::printf("%-8s %12.3f %12.3f\n", d.str().c_str(), times[times.size() / 2], times.front());
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "op_overhead_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
