// Training on CUDA: SimpleNet reaches the CPU's loss; a steady-state step calls cudaMalloc zero
// times and never waits on the host; modules and optimizers move between devices.
#include "catch.h"
#include <ember/ember.h>

using namespace ember;

namespace {
struct SimpleNet : nn::Module {
  nn::Linear fc;
  SimpleNet() : fc(register_module("fc", nn::Linear(10, 2))) {}
  Tensor forward(const Tensor& x) { return fc(x); }
};

double train(Device device, int steps) {
  manual_seed(0);
  SimpleNet model;
  model.to(device);
  const auto x = randn({100, 10}).to(device), y = randn({100, 2}).to(device);
  optim::Adam opt(model.parameters(), {.lr = 0.01});
  nn::MSELoss criterion;
  Tensor loss;
  for (int i = 0; i < steps; ++i) {
    opt.zero_grad();
    loss = criterion(model.forward(x), y);
    loss.backward();
    opt.step();
  }
  return loss.item<double>();
}
}  // namespace

TEST_CASE("SimpleNet on CUDA reaches the CPU's loss", "[cuda][training]") {
  const double cpu = train(Device::cpu(), 1000), gpu = train(Device::cuda(), 1000);
  CHECK(gpu == Approx(cpu).epsilon(1e-5));
}

TEST_CASE("a steady-state CUDA training step makes no cudaMalloc and no host synchronisation", "[cuda][training]") {
  manual_seed(0);
  SimpleNet model;
  model.to(Device::cuda());
  const auto x = randn({100, 10}).to(Device::cuda()), y = randn({100, 2}).to(Device::cuda());
  optim::Adam opt(model.parameters(), {.lr = 0.01});
  nn::MSELoss criterion;
  auto step = [&] {
    opt.zero_grad();
    criterion(model.forward(x), y).backward();
    opt.step();
  };
  for (int i = 0; i < 3; ++i) step();
  const auto mallocs = cuda::device_malloc_count(), syncs = cuda::host_sync_count();
  for (int i = 0; i < 100; ++i) step();
  CHECK(cuda::device_malloc_count() == mallocs);
  CHECK(cuda::host_sync_count() == syncs);
  const auto stats = cuda::memory_stats();
  CHECK(stats.allocated_bytes > 0);
  CHECK(stats.reserved_bytes >= stats.allocated_bytes);
}

TEST_CASE("modules, gradients and checkpoints move between devices", "[cuda][training]") {
  manual_seed(3);
  SimpleNet model;
  const auto before = model.fc->weight.to_vector<float>();
  model.to(Device::cuda());
  CHECK(model.fc->weight.device() == Device::cuda());
  CHECK(model.fc->weight.to_vector<float>() == before);
  const std::string path = "ember_cuda_checkpoint.bin";
  nn::save(model, path);  // saved from the GPU ...
  SimpleNet cpu_model;
  nn::load(cpu_model, path);  // ... loads on the CPU
  CHECK(cpu_model.fc->weight.to_vector<float>() == before);
  std::remove(path.c_str());
  model.to(Device::cpu());
  CHECK(model.fc->weight.device() == Device::cpu());
}

TEST_CASE("empty_cache returns cached memory", "[cuda]") {
  { const Tensor big = zeros({1 << 24}, Device::cuda()); }
  const auto reserved = cuda::memory_stats().reserved_bytes;
  cuda::empty_cache();
  CHECK(cuda::memory_stats().reserved_bytes < reserved);
}
