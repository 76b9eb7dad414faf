// Per-op overhead: N (default 10,000) additions `a + b` of two 100-element float32 tensors, in µs
// per addition, on the CPU and (when present) CUDA, where the device is synchronised once at the
// end. Median (and minimum) of R runs (default 5), after 100 warm-up additions. At this size the
// arithmetic is nothing: what is timed is dispatch, allocation of the result and, on CUDA, the
// kernel launch. A second table times the allocation alone: ember::empty({100}) replacing the
// previous tensor (one allocation and one free per op), no kernel.
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

// Microseconds per call of op(), timed over `calls` calls after 100 warm-up calls (allocator
// caches, lazy state); on CUDA the device is synchronised before and after.
template <typename Op> double us_per_call(ember::Device device, int calls, const Op& op) {
  for (int i = 0; i < 100; ++i) op();
  if (device.is_cuda()) ember::cuda::synchronize();
  const auto start = Clock::now();
  for (int i = 0; i < calls; ++i) op();
  if (device.is_cuda()) ember::cuda::synchronize();
  return std::chrono::duration<double, std::micro>(Clock::now() - start).count() / calls;
}

double us_per_add(ember::Device device, int adds) {
  ember::manual_seed(0);
  const auto a = ember::randn({100}).to(device);
  const auto b = ember::randn({100}).to(device);
  ember::Tensor c;
  return us_per_call(device, adds, [&] { c = a + b; });
}

double us_per_empty(ember::Device device, int calls) {
  ember::Tensor c;
  return us_per_call(device, calls, [&] { c = ember::empty({100}, device); });
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
    const auto table = [&](const char* unit, double (*measure)(ember::Device, int)) {
      std::printf("%-8s %12s %12s\n", "device", (std::string("us/") + unit + "(med)").c_str(),
                  (std::string("us/") + unit + "(min)").c_str());
      for (const ember::Device d : devices) {
        std::vector<double> times;
        for (int r = 0; r < runs; ++r) times.push_back(measure(d, adds));
        std::sort(times.begin(), times.end());
        std::printf("%-8s %12.3f %12.3f\n", d.str().c_str(), times[times.size() / 2], times.front());
      }
    };
    table("add", &us_per_add);
    std::printf("ember::empty({100}) replacing the previous tensor (allocate + free), %d per run\n", adds);
    table("tensor", &us_per_empty);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "op_overhead_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
