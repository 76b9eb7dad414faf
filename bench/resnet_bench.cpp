// ResNet-18 (CIFAR form, bench/resnet18.h) training step on CUDA: batch 256 of 3x32x32 random
// images already on the GPU, cross-entropy, SGD lr 0.1 with Nesterov momentum 0.9 and weight decay
// 5e-4. Prints the median time per step over R runs of N steps after W warm-up steps, and the peak
// GPU memory. bench/torch_resnet.py measures PyTorch with the same settings.
//
//   resnet_bench [--device cuda|cpu] [--batch 256] [--steps N] [--runs R] [--warmup W] [--tf32 0|1]
//                [--benchmark 0|1]
//
// --tf32 is torch.backends.cudnn.allow_tf32 and torch.backends.cuda.matmul.allow_tf32 together (the
// "TF32" row of the table); --benchmark is torch.backends.cudnn.benchmark.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "resnet18.h"
#include "step_timing.h"

namespace {

struct Options {
  std::string device = "cuda";
  std::int64_t batch = 256;
  int steps = 20, runs = 5, warmup = 10;
  bool tf32 = true, benchmark = false;
};

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (i + 1 >= argc) {
      std::fprintf(stderr, "resnet_bench: %s needs a value\n", arg.c_str());
      std::exit(2);
    }
    const std::string v = argv[++i];
    if (arg == "--device") o.device = v;
    else if (arg == "--batch") o.batch = std::stoll(v);
    else if (arg == "--steps") o.steps = std::stoi(v);
    else if (arg == "--runs") o.runs = std::stoi(v);
    else if (arg == "--warmup") o.warmup = std::stoi(v);
    else if (arg == "--tf32") o.tf32 = v != "0";
    else if (arg == "--benchmark") o.benchmark = v != "0";
    else {
      std::fprintf(stderr, "usage: resnet_bench [--device cuda|cpu] [--batch B] [--steps N] [--runs R] [--warmup W] "
                           "[--tf32 0|1] [--benchmark 0|1]\n");
      std::exit(2);
    }
  }
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const Options o = parse(argc, argv);
    const ember::Device device = ember::Device::parse(o.device);
    ember::cuda::set_cudnn_allow_tf32(o.tf32);
    ember::cuda::set_allow_tf32(o.tf32);
    ember::cuda::set_cudnn_benchmark(o.benchmark);
    ember::manual_seed(0);
    bench::ResNet18 model;
    model.to(device);
    ember::optim::SGD opt(model.parameters(), {.lr = 0.1, .momentum = 0.9, .weight_decay = 5e-4, .nesterov = true});
    const ember::Tensor x = ember::randn({o.batch, 3, 32, 32}).to(device);
    const ember::Tensor y = bench::class_labels(o.batch, device);
    auto step = [&] {
      opt.zero_grad();
      ember::Tensor loss = ember::cross_entropy(model.forward(x), y);
      loss.backward();
      opt.step();
    };
    const double median = bench::median_step_ms(step, device, o.warmup, o.steps, o.runs, [&] {
      if (device.is_cuda()) ember::cuda::reset_peak_memory_stats(device.index());
    });
    const double peak_gib =
        device.is_cuda() ? static_cast<double>(ember::cuda::memory_stats(device.index()).peak_allocated_bytes) / (1 << 30)
                         : 0.0;
    std::printf("ember resnet18 %s batch %lld tf32 %d benchmark %d: %.3f ms/step (median of %d x %d), peak %.2f GiB\n",
                device.str().c_str(), static_cast<long long>(o.batch), o.tf32 ? 1 : 0, o.benchmark ? 1 : 0,
                median, o.runs, o.steps, peak_gib);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "resnet_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
