// SimpleNet training-step benchmark: Linear(10, 2), batch 100, MSELoss, Adam lr 0.01.
// Prints the median over 5 runs of the mean time per step of 1000 steps, for each device; on CUDA
// also for the whole step captured once in a CUDA graph (ember::cuda::capture, Adam capturable)
// and replayed, the counterpart of PyTorch's torch.cuda.CUDAGraph row in bench/torch_reference.py.
// The last column is the host's side alone: the time to issue 100 steps without waiting for the
// GPU (too few launches to fill CUDA's launch queue). Where it is close to the step time, the step
// is bound by the host; where it is well below, by the GPU.
//
// --breakdown also prints, per device, the host time of each phase of an eager step (zero_grad,
// forward, loss, backward, optimizer step), issued without waiting for the device: where a step's
// host time goes beside its launches.
//
//   simple_net_bench [--device cpu|cuda|all] [--mode eager|graph|all] [--steps N] [--runs R]
//                    [--breakdown]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <ember/ember.h>

namespace {

struct Timing {
  double us_per_step;
  double host_us_per_step;  // issuing 100 steps without waiting for the device
};

Timing run_once(ember::Device device, int steps, bool captured) {
  ember::manual_seed(0);
  ember::nn::Linear model(10, 2);
  model->to(device);
  const auto input = ember::randn({100, 10}).to(device);
  const auto target = ember::randn({100, 2}).to(device);
  ember::optim::Adam opt(model->parameters(), {.lr = 0.01, .capturable = captured});
  ember::nn::MSELoss criterion;
  ember::Tensor loss;
  auto step = [&] {
    opt.zero_grad();
    loss = criterion(model(input), target);
    loss.backward();
    opt.step();
  };
  for (int i = 0; i < 20; ++i) step();  // warm-up: caches, allocator, lazy state
  std::function<void()> timed = step;
  std::optional<ember::cuda::Graph> graph;
  if (captured) {
    graph.emplace(ember::cuda::capture(step, {input, target}, device));
    for (int i = 0; i < 20; ++i) graph->replay();
    timed = [&] { graph->replay(); };
  }
  using clock = std::chrono::steady_clock;
  constexpr int kHostSteps = 100;
  ember::cuda::synchronize();
  const auto host_start = clock::now();
  for (int i = 0; i < kHostSteps; ++i) timed();
  const double host_us = std::chrono::duration<double, std::micro>(clock::now() - host_start).count();
  ember::cuda::synchronize();
  const auto start = clock::now();
  for (int i = 0; i < steps; ++i) timed();
  ember::cuda::synchronize();
  const double us = std::chrono::duration<double, std::micro>(clock::now() - start).count();
  return {us / steps, host_us / kHostSteps};
}

// Host us per phase of an eager step, each the median over 5 runs of 100 steps issued without
// waiting for the device; the device is drained between runs.
void print_breakdown(ember::Device device) {
  ember::manual_seed(0);
  ember::nn::Linear model(10, 2);
  model->to(device);
  const auto input = ember::randn({100, 10}).to(device);
  const auto target = ember::randn({100, 2}).to(device);
  ember::optim::Adam opt(model->parameters(), {.lr = 0.01});
  ember::nn::MSELoss criterion;
  constexpr int kPhases = 5, kSteps = 100, kRuns = 5;
  const char* names[kPhases] = {"zero_grad", "forward", "loss", "backward", "optimizer step"};
  std::vector<double> totals[kPhases];
  using clock = std::chrono::steady_clock;
  for (int run = 0; run < kRuns + 1; ++run) {  // run 0 warms up
    double us[kPhases] = {};
    ember::cuda::synchronize();
    for (int i = 0; i < kSteps; ++i) {
      auto t0 = clock::now();
      opt.zero_grad();
      auto t1 = clock::now();
      const auto output = model(input);
      auto t2 = clock::now();
      auto loss = criterion(output, target);
      auto t3 = clock::now();
      loss.backward();
      auto t4 = clock::now();
      opt.step();
      auto t5 = clock::now();
      const clock::time_point t[] = {t0, t1, t2, t3, t4, t5};
      for (int p = 0; p < kPhases; ++p) us[p] += std::chrono::duration<double, std::micro>(t[p + 1] - t[p]).count();
    }
    if (run == 0) continue;
    for (int p = 0; p < kPhases; ++p) totals[p].push_back(us[p] / kSteps);
  }
  ember::cuda::synchronize();
  std::printf("host us per phase of an eager step on %s (median of %d runs of %d steps):\n", device.str().c_str(),
              kRuns, kSteps);
  for (int p = 0; p < kPhases; ++p) {
    std::sort(totals[p].begin(), totals[p].end());
    std::printf("  %-16s %8.2f\n", names[p], totals[p][totals[p].size() / 2]);
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::string which = "all", mode = "all";
  int steps = 1000, runs = 5;
  bool breakdown = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--breakdown") {
      breakdown = true;
    } else if (i + 1 < argc) {
      const std::string value = argv[++i];
      if (arg == "--device") which = value;
      else if (arg == "--mode") mode = value;
      else if (arg == "--steps") steps = std::stoi(value);
      else if (arg == "--runs") runs = std::stoi(value);
    }
  }
  std::vector<ember::Device> devices;
  if (which == "cpu" || which == "all") devices.push_back(ember::Device::cpu());
  if ((which == "cuda" || which == "all") && ember::cuda::is_available()) devices.push_back(ember::Device::cuda());
  std::printf("%-16s %14s %14s %14s\n", "device", "us/step(med)", "us/step(min)", "host us/step");
  for (ember::Device d : devices) {
    for (const bool captured : {false, true}) {
      if (captured && (!d.is_cuda() || mode == "eager")) continue;
      if (!captured && d.is_cuda() && mode == "graph") continue;
      std::vector<double> times, host_times;
      for (int r = 0; r < runs; ++r) {
        const Timing t = run_once(d, steps, captured);
        times.push_back(t.us_per_step);
        host_times.push_back(t.host_us_per_step);
      }
      std::sort(times.begin(), times.end());
      std::sort(host_times.begin(), host_times.end());
      const std::string name = d.str() + (captured ? " graph" : "");
      std::printf("%-16s %14.2f %14.2f %14.2f\n", name.c_str(), times[times.size() / 2], times.front(),
                  host_times[host_times.size() / 2]);
    }
  }
  if (breakdown) {
    for (ember::Device d : devices) print_breakdown(d);
  }
  return 0;
}
