// SimpleNet training-step benchmark: Linear(10, 2), batch 100, MSELoss, Adam lr 0.01.
// Prints the median over 5 runs of the mean time per step of 1000 steps, for each device; on CUDA
// also for the whole step captured once in a CUDA graph (ember::cuda::capture, Adam capturable)
// and replayed, the counterpart of PyTorch's torch.cuda.CUDAGraph row in bench/torch_reference.py.
//
//   simple_net_bench [--device cpu|cuda|all] [--mode eager|graph|all] [--steps N] [--runs R]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <ember/ember.h>

namespace {

double run_once(ember::Device device, int steps, bool captured) {
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
  ember::cuda::synchronize();
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < steps; ++i) timed();
  ember::cuda::synchronize();
  const double us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count();
  return us / steps;
}

}  // namespace

int main(int argc, char** argv) {
  std::string which = "all", mode = "all";
  int steps = 1000, runs = 5;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string arg = argv[i];
    if (arg == "--device") which = argv[i + 1];
    else if (arg == "--mode") mode = argv[i + 1];
    else if (arg == "--steps") steps = std::stoi(argv[i + 1]);
    else if (arg == "--runs") runs = std::stoi(argv[i + 1]);
  }
  std::vector<ember::Device> devices;
  if (which == "cpu" || which == "all") devices.push_back(ember::Device::cpu());
  if ((which == "cuda" || which == "all") && ember::cuda::is_available()) devices.push_back(ember::Device::cuda());
  std::printf("%-16s %14s %14s\n", "device", "us/step(med)", "us/step(min)");
  for (ember::Device d : devices) {
    for (const bool captured : {false, true}) {
      if (captured && (!d.is_cuda() || mode == "eager")) continue;
      if (!captured && d.is_cuda() && mode == "graph") continue;
      std::vector<double> times;
      for (int r = 0; r < runs; ++r) times.push_back(run_once(d, steps, captured));
      std::sort(times.begin(), times.end());
      const std::string name = d.str() + (captured ? " graph" : "");
      std::printf("%-16s %14.2f %14.2f\n", name.c_str(), times[times.size() / 2], times.front());
    }
  }
  return 0;
}
