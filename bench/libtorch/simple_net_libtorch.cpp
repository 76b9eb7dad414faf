// SimpleNet with libtorch's C++ frontend, the same work and protocol as bench/simple_net_bench on
// the CPU: Linear(10, 2), batch 100, MSELoss, Adam lr 0.01; 20 warm-up steps, then the mean time
// per step of 1000 steps, median of 5 runs; one thread.
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

int main() {
  torch::set_num_threads(1);
  std::vector<double> times;
  for (int run = 0; run < 5; ++run) {
    torch::manual_seed(0);
    torch::nn::Linear model(10, 2);
    const auto input = torch::randn({100, 10});
    const auto target = torch::randn({100, 2});
    torch::optim::Adam opt(model->parameters(), torch::optim::AdamOptions(0.01));
    auto step = [&] {
      opt.zero_grad();
      auto loss = torch::mse_loss(model->forward(input), target);
      loss.backward();
      opt.step();
    };
    for (int i = 0; i < 20; ++i) step();
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < 1000; ++i) step();
    times.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count() / 1000);
  }
  std::sort(times.begin(), times.end());
  std::printf("libtorch %s cpu (1 thread): %.2f us/step (median of 5), %.2f (min)\n", TORCH_VERSION,
              times[times.size() / 2], times.front());
  return 0;
}
