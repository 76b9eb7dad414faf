// Trains the same model on the CPU and on CUDA for a range of sizes and prints the time per step
// on each, and which device wins: where the GPU starts paying for its launch and copy overhead.
// The first row is SimpleNet (Linear(10, 2)); the others are Linear(w, w)-ReLU-Linear(w, w), all
// at batch 100 with MSELoss and Adam.
//
//   cpu_vs_cuda [--max-width W] [--batch B]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include <ember/ember.h>

namespace {

struct Case {
  std::string name;
  std::int64_t in, hidden, out;  // hidden == 0: a single Linear(in, out)
};

// Mean time per training step in microseconds, over enough steps to take about 0.3 s.
double time_per_step_us(const Case& c, std::int64_t batch, ember::Device device) {
  ember::manual_seed(0);
  ember::nn::Sequential model;
  if (c.hidden == 0) {
    model->push_back(ember::nn::Linear(c.in, c.out).ptr());
  } else {
    model->push_back(ember::nn::Linear(c.in, c.hidden).ptr());
    model->push_back(ember::nn::ReLU().ptr());
    model->push_back(ember::nn::Linear(c.hidden, c.out).ptr());
  }
  model->to(device);
  const auto x = ember::randn({batch, c.in}).to(device);
  const auto y = ember::randn({batch, c.out}).to(device);
  ember::optim::Adam opt(model->parameters(), {.lr = 1e-3});
  ember::nn::MSELoss criterion;
  auto step = [&] {
    opt.zero_grad();
    criterion(model(x), y).backward();
    opt.step();
  };
  using Clock = std::chrono::steady_clock;
  for (int i = 0; i < 3; ++i) step();  // warm-up
  ember::cuda::synchronize();
  int steps = 0;
  const auto start = Clock::now();
  double elapsed = 0;
  while (elapsed < 0.3 && steps < 100000) {
    const int chunk = std::max(1, steps);
    for (int i = 0; i < chunk; ++i) step();
    steps += chunk;
    ember::cuda::synchronize();
    elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  }
  return 1e6 * elapsed / steps;
}

}  // namespace

int main(int argc, char** argv) {
  std::int64_t max_width = 4096, batch = 100;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string arg = argv[i];
    if (arg == "--max-width") max_width = std::stoll(argv[i + 1]);
    else if (arg == "--batch") batch = std::stoll(argv[i + 1]);
  }
  std::vector<Case> cases{{"SimpleNet 10x2", 10, 0, 2}};
  for (std::int64_t w = 64; w <= max_width; w *= 4) {
    cases.push_back({"MLP " + std::to_string(w), w, w, w});
  }
  if (cases.back().in != max_width && max_width >= 64) cases.push_back({"MLP " + std::to_string(max_width), max_width, max_width, max_width});
  const bool gpu = ember::cuda::is_available();
  if (!gpu) std::printf("(no CUDA device on this machine: CPU times only)\n");
  std::printf("%-16s %14s %14s %8s\n", "model", "cpu us/step", "cuda us/step", "winner");
  try {
    for (const Case& c : cases) {
      const double cpu = time_per_step_us(c, batch, ember::Device::cpu());
      if (gpu) {
        const double cuda = time_per_step_us(c, batch, ember::Device::cuda());
        std::printf("%-16s %14.1f %14.1f %8s\n", c.name.c_str(), cpu, cuda, cpu < cuda ? "cpu" : "cuda");
      } else {
        std::printf("%-16s %14.1f %14s %8s\n", c.name.c_str(), cpu, "-", "-");
      }
      std::fflush(stdout);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "cpu_vs_cuda: %s\n", e.what());
    return 1;
  }
  return 0;
}
