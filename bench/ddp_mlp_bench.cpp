// Data-parallel scaling of the MLP of bench/mlp_bench (Linear(1024, 4096)-ReLU-Linear(4096, 4096)-
// ReLU-Linear(4096, 1024), MSELoss, Adam lr 1e-3, float32) under DistributedDataParallel: each rank
// trains at `--batch` samples per step (4096 by default: weak scaling, as data-parallel training is
// used), and rank 0 prints the time per step and the throughput of the whole group. --no-ddp trains
// the plain model (one process), the baseline DDP's overhead is measured against.
//
//   scripts/ember_launch.sh -n 4 build/bench/ddp_mlp_bench [--tf32] [--steps N] [--runs R]
//   mpirun -np 2 build/bench/ddp_mlp_bench --device cpu --batch 64 --steps 2   # a CPU check
//
// bench/torch_ddp_reference.py does the same with PyTorch's DistributedDataParallel (torchrun).
#include <ember/ember.h>

#include "mlp_model.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::string device = "cuda";
  int steps = 20, runs = 3, warmup = 5;
  std::int64_t batch = 4096;
  bool tf32 = false, ddp = true;
};

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&] { return std::string(i + 1 < argc ? argv[++i] : ""); };
    if (a == "--device") o.device = next();
    else if (a == "--steps") o.steps = std::stoi(next());
    else if (a == "--runs") o.runs = std::stoi(next());
    else if (a == "--warmup") o.warmup = std::stoi(next());
    else if (a == "--batch") o.batch = std::stoll(next());
    else if (a == "--tf32") o.tf32 = true;
    else if (a == "--no-ddp") o.ddp = false;
    else throw std::runtime_error("unknown argument " + a);
  }
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace ember;
  try {
    const Options o = parse(argc, argv);
    auto group = distributed::ProcessGroup::init();
    const Device device = o.device == "cuda" ? group->device() : Device::cpu();
    if (o.device == "cuda" && !device.is_cuda()) throw std::runtime_error("no GPU on this rank");
    if (!o.ddp && group->world_size() != 1) throw std::runtime_error("--no-ddp is for one process");
    cuda::set_allow_tf32(o.tf32);

    manual_seed(0);
    nn::Sequential mlp = bench::make_mlp();
    mlp->to(device);
    manual_seed(100 + static_cast<std::uint64_t>(group->rank()));  // each rank its own data
    const Tensor x = randn({o.batch, bench::kMlpIn}).to(device);
    const Tensor y = randn({o.batch, bench::kMlpOut}).to(device);
    std::shared_ptr<nn::UnaryModule> model = mlp.ptr();
    if (o.ddp) model = nn::DistributedDataParallel(mlp, group).ptr();
    optim::Adam opt(model->parameters(), {.lr = 1e-3});
    nn::MSELoss mse;
    auto step = [&] {
      opt.zero_grad();
      mse(model->forward(x), y).backward();
      opt.step();
    };

    for (int i = 0; i < o.warmup; ++i) step();
    std::vector<double> ms;
    for (int r = 0; r < o.runs; ++r) {
      group->barrier();  // also waits for this rank's device
      const auto start = Clock::now();
      for (int i = 0; i < o.steps; ++i) step();
      if (device.is_cuda()) cuda::synchronize();
      group->barrier();  // the group's step ends when its slowest rank's does
      ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count() / o.steps);
    }
    std::sort(ms.begin(), ms.end());
    const double median = ms[ms.size() / 2];
    if (group->rank() == 0) {
      const double samples = static_cast<double>(o.batch) * group->world_size() * 1000.0 / median;
      std::printf("ember %-5s ranks=%d %s batch/rank=%lld  %.3f ms/step  %.0f samples/s  (%s, %d runs of %d steps)\n",
                  o.ddp ? "ddp" : "plain", group->world_size(), o.tf32 ? "tf32" : "fp32",
                  static_cast<long long>(o.batch), median, samples, device.is_cuda() ? "cuda" : "cpu",
                  o.runs, o.steps);
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ddp_mlp_bench: %s\n", e.what());
    return 1;
  }
}
