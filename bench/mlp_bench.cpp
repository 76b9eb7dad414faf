// MLP training-step benchmark on CUDA: Linear(1024, 4096)-ReLU-Linear(4096, 4096)-ReLU-
// Linear(4096, 1024) at batch 4096, MSELoss, Adam lr 1e-3, float32 random data, with TF32 off and
// on. Prints the median time per step over R runs of N steps (after W warm-up steps), the achieved
// TFLOP/s (6 * batch * sum(in * out) per step: forward and backward of the three layers, the
// convention bench/torch_reference.py uses too) and the peak GPU memory of the timed steps. Then
// times one 4096x4096x4096 float32 ember::matmul (cuBLAS) with TF32 off and on, the rate the MLP
// can be held against in the same run.
//
//   mlp_bench [--device cuda|cpu] [--steps N] [--runs R] [--warmup W] [--batch B]
//
// On the CPU a step at batch 4096 takes minutes: --device cpu is there for a quick check with a
// small batch and one step, e.g. mlp_bench --device cpu --batch 64 --steps 1 --runs 1 --warmup 1.
#include <ember/ember.h>

#include "mlp_model.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::string device = "cuda";
  int steps = 20, runs = 5, warmup = 5;
  std::int64_t batch = 4096;
};

struct Result {
  double median_ms = 0, min_ms = 0;
  double peak_mib = -1;  // -1: not measured (CPU)
  double loss = 0;       // after the last timed step: a check that training ran
};

double step_flops(std::int64_t batch) {
  double sum = 0;
  for (const auto& [in, out] : ember::bench::kMlpLayers) sum += static_cast<double>(in) * static_cast<double>(out);
  return 6.0 * static_cast<double>(batch) * sum;
}

Result train(ember::Device device, const Options& o) {
  ember::manual_seed(0);
  ember::nn::Sequential model = ember::bench::make_mlp();
  model->to(device);
  const auto x = ember::randn({o.batch, ember::bench::kMlpIn}).to(device);
  const auto y = ember::randn({o.batch, ember::bench::kMlpOut}).to(device);
  ember::optim::Adam opt(model->parameters(), {.lr = 1e-3});
  ember::nn::MSELoss criterion;
  ember::Tensor loss;
  auto step = [&] {
    opt.zero_grad();
    loss = criterion(model(x), y);
    loss.backward();
    opt.step();
  };
  const bool gpu = device.is_cuda();
  for (int i = 0; i < o.warmup; ++i) step();
  if (gpu) {
    ember::cuda::synchronize();
    ember::cuda::reset_peak_memory_stats(device.index());
  }
  std::vector<double> times;
  for (int r = 0; r < o.runs; ++r) {
    const auto start = Clock::now();
    for (int i = 0; i < o.steps; ++i) step();
    if (gpu) ember::cuda::synchronize();
    times.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count() /
                    o.steps);
  }
  std::sort(times.begin(), times.end());
  Result result{times[times.size() / 2], times.front(), -1, loss.item<double>()};
  if (gpu) {
    result.peak_mib =
        static_cast<double>(ember::cuda::memory_stats(device.index()).peak_allocated_bytes) /
        (1 << 20);
  }
  return result;
}

// Median milliseconds of one n x n x n float32 product on cuda:0, CUDA events around each.
double gemm_ms(std::int64_t n, int repeats) {
  ember::manual_seed(0);
  const auto a = ember::rand({n, n}, ember::Device::cuda());
  const auto b = ember::rand({n, n}, ember::Device::cuda());
  ember::Tensor c = ember::matmul(a, b);  // warm-up: cuBLAS handle, heuristics, workspace
  std::vector<double> times;
  for (int i = 0; i < repeats; ++i)
    times.push_back(ember::cuda::time_ms([&] { c = ember::matmul(a, b); }));
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

[[noreturn]] void usage() {
  std::fprintf(
      stderr,
      "usage: mlp_bench [--device cuda|cpu] [--steps N] [--runs R] [--warmup W] [--batch B]\n");
  std::exit(2);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (i + 1 >= argc) usage();
    const std::string value = argv[++i];
    if (arg == "--device")
      o.device = value;
    else if (arg == "--steps")
      o.steps = std::stoi(value);
    else if (arg == "--runs")
      o.runs = std::stoi(value);
    else if (arg == "--warmup")
      o.warmup = std::stoi(value);
    else if (arg == "--batch")
      o.batch = std::stoll(value);
    else
      usage();
  }
  if ((o.device != "cuda" && o.device != "cpu") || o.steps < 1 || o.runs < 1 || o.warmup < 0 ||
      o.batch < 1)
    usage();
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const Options o = parse(argc, argv);
    const bool gpu = o.device == "cuda";
    if (gpu && !ember::cuda::is_available()) {
      std::printf(
          "mlp_bench: no CUDA device on this machine: skipped (--device cpu --batch 64 --steps 1 "
          "--runs 1 times the CPU, slowly)\n");
      return 0;
    }
    const ember::Device device = gpu ? ember::Device::cuda() : ember::Device::cpu();
    const double flops = step_flops(o.batch);
    std::printf(
        "MLP 1024-4096-4096-1024, batch %lld, MSELoss, Adam lr 1e-3, float32 on %s: %.1f GFLOP per "
        "step; median of %d runs of %d steps after %d warm-up steps\n",
        static_cast<long long>(o.batch), device.str().c_str(), flops / 1e9, o.runs, o.steps,
        o.warmup);
    std::printf("  %-16s %12s %12s %9s %10s %12s\n", "matmul precision", "ms/step(med)",
                "ms/step(min)", "TFLOP/s", "peak MiB", "final loss");
    const bool tf32_before = ember::cuda::allow_tf32();
    std::vector<bool> modes{false};
    if (gpu) modes.push_back(true);  // TF32 is a CUDA setting: the CPU runs one mode
    std::array<double, 2> mlp_tflops{};
    for (const bool tf32 : modes) {
      ember::cuda::set_allow_tf32(tf32);
      const Result r = train(device, o);
      mlp_tflops[tf32 ? 1 : 0] = flops / r.median_ms / 1e9;
      char peak[32] = "-";
      if (r.peak_mib >= 0) std::snprintf(peak, sizeof peak, "%.0f", r.peak_mib);
      std::printf("  %-16s %12.3f %12.3f %9.2f %10s %12.6f\n", tf32 ? "TF32" : "float32 (IEEE)",
                  r.median_ms, r.min_ms, mlp_tflops[tf32 ? 1 : 0], peak, r.loss);
      std::fflush(stdout);
    }
    if (gpu) {
      constexpr std::int64_t n = 4096;
      const double gemm_flops =
          2.0 * static_cast<double>(n) * static_cast<double>(n) * static_cast<double>(n);
      std::printf(
          "GEMM %lldx%lldx%lld float32 (ember::matmul, CUDA events, median of 10 after a "
          "warm-up)\n",
          static_cast<long long>(n), static_cast<long long>(n), static_cast<long long>(n));
      std::printf("  %-16s %12s %9s %22s\n", "matmul precision", "ms", "TFLOP/s",
                  "MLP step / GEMM rate");
      for (const bool tf32 : modes) {
        ember::cuda::set_allow_tf32(tf32);
        const double ms = gemm_ms(n, 10);
        const double tflops = gemm_flops / ms / 1e9;
        std::printf("  %-16s %12.3f %9.2f %21.0f%%\n", tf32 ? "TF32" : "float32 (IEEE)", ms, tflops,
                    100.0 * mlp_tflops[tf32 ? 1 : 0] / tflops);
      }
    }
    ember::cuda::set_allow_tf32(tf32_before);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "mlp_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
