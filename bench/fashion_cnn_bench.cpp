// Training-step benchmark of examples/fashion_mnist's CNN (conv 32-bn-relu-pool, conv 64-bn-relu-pool,
// linear 128 with dropout 0.25, linear 10), cross-entropy, Adam lr 1e-3, on random batches already on
// the device: the time per step without data loading, which bench/torch_fashion_cnn.py measures
// for PyTorch with the same settings. Prints the median over R runs of N steps after W warm-up
// steps, and images/s.
//
//   fashion_cnn_bench [--device cuda|cpu] [--batch 128] [--steps N] [--runs R] [--warmup W]
//                     [--threads T] [--tf32 0|1]
//
// --tf32 is torch.backends.cudnn.allow_tf32 (on by default in both frameworks); matmul TF32 stays
// off, PyTorch's default too.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "fashion_mnist/model.h"
#include "step_timing.h"

namespace {

struct Options {
  std::string device = "cuda";
  std::int64_t batch = 128;
  int steps = 100, runs = 5, warmup = 20, threads = 0;
  bool tf32 = true;
};

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (i + 1 >= argc) {
      std::fprintf(stderr, "fashion_cnn_bench: %s needs a value\n", arg.c_str());
      std::exit(2);
    }
    const std::string v = argv[++i];
    if (arg == "--device") o.device = v;
    else if (arg == "--batch") o.batch = std::stoll(v);
    else if (arg == "--steps") o.steps = std::stoi(v);
    else if (arg == "--runs") o.runs = std::stoi(v);
    else if (arg == "--warmup") o.warmup = std::stoi(v);
    else if (arg == "--threads") o.threads = std::stoi(v);
    else if (arg == "--tf32") o.tf32 = v != "0";
    else {
      std::fprintf(stderr, "usage: fashion_cnn_bench [--device cuda|cpu] [--batch B] [--steps N] [--runs R] "
                           "[--warmup W] [--threads T] [--tf32 0|1]\n");
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
    if (o.threads > 0) ember::set_num_threads(o.threads);
    ember::cuda::set_cudnn_allow_tf32(o.tf32);
    ember::manual_seed(0);
    fashion::FashionCnn model;
    model.to(device);
    ember::optim::Adam opt(model.parameters(), {.lr = 1e-3});
    const ember::Tensor x = ember::randn({o.batch, 1, 28, 28}).to(device);
    const ember::Tensor y = bench::class_labels(o.batch, device);
    auto step = [&] {
      opt.zero_grad();
      ember::Tensor loss = ember::cross_entropy(model.forward(x), y);
      loss.backward();
      opt.step();
    };
    const double median = bench::median_step_ms(step, device, o.warmup, o.steps, o.runs);
    std::printf("ember fashion_cnn %s batch %lld threads %d tf32 %d: %.3f ms/step (median of %d x %d), %.0f images/s\n",
                device.str().c_str(), static_cast<long long>(o.batch), ember::get_num_threads(), o.tf32 ? 1 : 0,
                median, o.runs, o.steps, 1000.0 * static_cast<double>(o.batch) / median);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fashion_cnn_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
