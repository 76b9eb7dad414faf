// Data-parallel training with DistributedDataParallel: each rank trains one replica of an MLP on
// its share of a synthetic regression data set (DistributedSampler), the gradients are averaged
// over the ranks during backward, and every replica takes the same Adam step.
//
//   mpirun -np 2 build/examples/ddp_train                         # CPU ranks, MPI
//   scripts/ember_launch.sh -n 4 build/examples/ddp_train --device cuda   # GPU ranks, NCCL
//   build/examples/ddp_train                                      # one process
//
//   --device cpu|cuda|auto  auto: this rank's GPU when there is one and NCCL, else the CPU
//   --epochs N --batch B    B samples per rank per step (the global batch is B x ranks)
//   --samples S             size of the data set
//   --check                 at the end, verify that all replicas hold the same weights bit for bit
#include <ember/ember.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

struct Options {
  std::string device = "auto";
  int epochs = 5;
  std::int64_t batch = 64;
  std::int64_t samples = 8192;
  bool check = false;
};

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::runtime_error(arg + " needs a value");
      return argv[++i];
    };
    if (arg == "--device") o.device = value();
    else if (arg == "--epochs") o.epochs = std::stoi(value());
    else if (arg == "--batch") o.batch = std::stoll(value());
    else if (arg == "--samples") o.samples = std::stoll(value());
    else if (arg == "--check") o.check = true;
    else throw std::runtime_error("unknown argument " + arg + " (see the comment at the top of main.cpp)");
  }
  return o;
}

constexpr std::int64_t kFeatures = 32;

// y = sin(x . a) + 0.1 * (x . b)^2 + noise: smooth, nonlinear, the same on every rank (seeded).
struct DataSet {
  std::vector<float> x, y;
  explicit DataSet(std::int64_t n) {
    ember::manual_seed(2024);
    x = ember::randn({n, kFeatures}).to_vector<float>();
    const auto a = ember::randn({kFeatures}).to_vector<float>();
    const auto b = ember::randn({kFeatures}).to_vector<float>();
    const auto noise = ember::randn({n}).to_vector<float>();
    y.resize(static_cast<std::size_t>(n));
    for (std::int64_t i = 0; i < n; ++i) {
      double xa = 0, xb = 0;
      for (std::int64_t f = 0; f < kFeatures; ++f) {
        xa += x[static_cast<std::size_t>(i * kFeatures + f)] * a[static_cast<std::size_t>(f)] / std::sqrt(kFeatures);
        xb += x[static_cast<std::size_t>(i * kFeatures + f)] * b[static_cast<std::size_t>(f)] / std::sqrt(kFeatures);
      }
      y[static_cast<std::size_t>(i)] = static_cast<float>(std::sin(xa) + 0.1 * xb * xb + 0.05 * noise[static_cast<std::size_t>(i)]);
    }
  }
  // The rows `idx[begin, end)` as (inputs, targets) on `device`.
  std::pair<ember::Tensor, ember::Tensor> batch(const std::vector<std::int64_t>& idx, std::size_t begin,
                                                std::size_t end, ember::Device device) const {
    std::vector<float> bx, by;
    for (std::size_t k = begin; k < end; ++k) {
      const auto row = static_cast<std::size_t>(idx[k]);
      bx.insert(bx.end(), x.begin() + static_cast<std::ptrdiff_t>(row * kFeatures),
                x.begin() + static_cast<std::ptrdiff_t>((row + 1) * kFeatures));
      by.push_back(y[row]);
    }
    const auto n = static_cast<std::int64_t>(end - begin);
    return {ember::from_vector(bx, {n, kFeatures}).to(device), ember::from_vector(by, {n, 1}).to(device)};
  }
};

}  // namespace

int main(int argc, char** argv) {
  using namespace ember;
  try {
    const Options opt = parse(argc, argv);
    auto group = distributed::ProcessGroup::init();
    const bool rank0 = group->rank() == 0;
    Device device = Device::cpu();
    if (opt.device == "cuda" || (opt.device == "auto" && group->backends().nccl)) {
      device = group->device();  // throws, saying why, when this host has fewer GPUs than ranks
      if (!group->backends().nccl) throw std::runtime_error("--device cuda: no GPU or no NCCL on this rank");
    } else if (opt.device != "cpu" && opt.device != "auto") {
      throw std::runtime_error("--device must be cpu, cuda or auto");
    }
    if (rank0) {
      std::printf("ddp_train: %d ranks (%s) on %s, %lld samples, %lld per rank per step\n", group->world_size(),
                  group->launcher().c_str(), device.is_cuda() ? "CUDA" : "CPU",
                  static_cast<long long>(opt.samples), static_cast<long long>(opt.batch));
    }

    const DataSet data(opt.samples);
    manual_seed(static_cast<std::uint64_t>(7 + group->rank()));  // DDP replaces these with rank 0's
    const nn::LinearOptions relu{.activation = Activation::Relu};  // each ReLU fused into its layer
    nn::Sequential mlp(nn::Linear(kFeatures, 128, relu), nn::Linear(128, 128, relu), nn::Linear(128, 1));
    mlp->to(device);
    nn::DistributedDataParallel model(mlp, group);
    optim::Adam optimizer(model->parameters(), {.lr = 1e-3});
    nn::MSELoss mse;
    distributed::DistributedSampler sampler(opt.samples, *group, {.shuffle = true, .seed = 1});

    const auto start = std::chrono::steady_clock::now();
    for (int epoch = 0; epoch < opt.epochs; ++epoch) {
      sampler.set_epoch(static_cast<std::uint64_t>(epoch));
      const auto idx = sampler.indices();
      Tensor loss_sum = zeros({1}, device);
      std::int64_t steps = 0;
      for (std::size_t b = 0; b < idx.size(); b += static_cast<std::size_t>(opt.batch)) {
        const std::size_t e = std::min(idx.size(), b + static_cast<std::size_t>(opt.batch));
        auto [x, y] = data.batch(idx, b, e, device);
        optimizer.zero_grad();
        Tensor loss = mse(model(x), y);
        loss.backward();
        optimizer.step();
        NoGradGuard no_grad;
        loss_sum.copy_(loss_sum + loss.detach());  // on the device: no host sync per step
        ++steps;
      }
      // Mean over this rank's steps, then over the ranks.
      Tensor mean = (loss_sum * (1.0 / static_cast<double>(steps))).contiguous();
      if (device.is_cuda() || group->backends().mpi || group->world_size() == 1) {
        group->all_reduce(mean, distributed::ReduceOp::Avg);
      }
      if (rank0) {
        const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        std::printf("epoch %d: mean loss %.5f  (%.2f s)\n", epoch + 1, mean.item<double>(), secs);
      }
    }

    if (opt.check) {
      // Every replica must be rank 0's, bit for bit.
      double worst = 0;
      for (const Tensor& p : model->parameters()) {
        Tensor theirs = p.detach().clone();
        group->broadcast(theirs, 0);
        NoGradGuard no_grad;
        worst = std::max(worst, (p - theirs).abs().max().item<double>());
      }
      std::printf("rank %d: largest difference from rank 0's weights: %g\n", group->rank(), worst);
      if (worst != 0) return 1;
    }
    group->barrier();
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ddp_train: %s\n", e.what());
    return 1;
  }
}
