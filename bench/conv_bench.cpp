// The two convolutions of the example CNN on the CPU (batch 128 of 1x28x28 images: conv 1->32 3x3
// pad 1, then conv 32->64 3x3 pad 1 on 14x14), float32: the forward, and forward + backward with
// the gradients a training step needs (the first layer's input needs none). Median (and minimum) of
// R runs in ms, after warm-up, on 1 thread and on every hardware thread;
// bench/torch_conv_reference.py times the same with PyTorch.
//
//   conv_bench [--runs R] [--threads N]   (N: one count instead of 1 and all)
#include <ember/ember.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <functional>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

// The process's CPU time (every thread's) in ms: on a machine shared with other work, less noisy
// than the wall clock, and for one thread what the work costs.
double cpu_ms() { return 1e3 * static_cast<double>(std::clock()) / CLOCKS_PER_SEC; }

struct Timing {
  double median, min, cpu_min;
};

Timing time_ms(int runs, const std::function<void()>& fn) {
  for (int i = 0; i < 3; ++i) fn();
  std::vector<double> ms, cpu;
  for (int i = 0; i < runs; ++i) {
    const auto start = Clock::now();
    const double cpu_start = cpu_ms();
    fn();
    cpu.push_back(cpu_ms() - cpu_start);
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
  }
  std::sort(ms.begin(), ms.end());
  return {ms[ms.size() / 2], ms.front(), *std::min_element(cpu.begin(), cpu.end())};
}

}  // namespace

int main(int argc, char** argv) {
  int runs = 20;
  std::vector<int> thread_counts = {
      1, static_cast<int>(std::max(1u, std::thread::hardware_concurrency()))};
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string arg = argv[i];
    if (arg == "--runs")
      runs = std::atoi(argv[i + 1]);
    else if (arg == "--threads")
      thread_counts = {std::atoi(argv[i + 1])};
    else {
      std::fprintf(stderr, "usage: conv_bench [--runs R] [--threads N]\n");
      return 2;
    }
  }
  using namespace ember;
  manual_seed(0);
  const Tensor x1 = randn({128, 1, 28, 28});
  const Tensor w1 = randn({32, 1, 3, 3}).requires_grad_(), b1 = randn({32}).requires_grad_();
  const Tensor x2 = randn({128, 32, 14, 14}).requires_grad_();
  const Tensor w2 = randn({64, 32, 3, 3}).requires_grad_(), b2 = randn({64}).requires_grad_();
  const Tensor g1 = randn({128, 32, 28, 28}), g2 = randn({128, 64, 14, 14});
  const std::vector<std::pair<const char*, std::function<void()>>> cases = {
      {"conv1 fwd",
       [&] {
         NoGradGuard no_grad;
         (void)conv2d(x1, w1, b1, {.padding = 1});
       }},
      {"conv1 fwd+bwd", [&] { conv2d(x1, w1, b1, {.padding = 1}).backward(g1); }},
      {"conv2 fwd",
       [&] {
         NoGradGuard no_grad;
         (void)conv2d(x2, w2, b2, {.padding = 1});
       }},
      {"conv2 fwd+bwd", [&] { conv2d(x2, w2, b2, {.padding = 1}).backward(g2); }},
  };
  for (int threads : thread_counts) {
    set_num_threads(threads);
    for (const auto& [name, fn] : cases) {
      const Timing t = time_ms(runs, fn);
      std::printf("%d thread%s  %-14s median %7.2f ms  min %7.2f ms  cpu min %7.2f ms\n", threads,
                  threads == 1 ? " " : "s", name, t.median, t.min, t.cpu_min);
    }
  }
}
