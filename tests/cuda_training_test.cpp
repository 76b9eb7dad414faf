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

TEST_CASE("small freed blocks are reused as they are, and rejoin the pool when memory is needed", "[cuda]") {
  { const Tensor warm = zeros({1}, Device::cuda()); }  // the device's context and its buffers exist
  cuda::empty_cache();
  const auto base = cuda::memory_stats();

  // A freed small block waits for the next request of its size and is handed out unchanged.
  const void* first = nullptr;
  {
    const Tensor a = empty({100}, Device::cuda());  // 400 bytes: a 512-byte block
    first = a.raw_data();
  }
  CHECK(cuda::memory_stats().allocated_bytes == base.allocated_bytes);
  {
    const Tensor b = empty({128}, Device::cuda());  // 512 bytes: the same size
    CHECK(b.raw_data() == first);
  }

  // 32 blocks of every size from 512 B to 64 KiB, each size freed before the next: 135 MB if the
  // waiting blocks never rejoined the pool. They must, whenever a request finds no free block.
  for (std::int64_t size = 1; size <= 128; ++size) {
    std::vector<Tensor> blocks;
    for (int i = 0; i < 32; ++i) blocks.push_back(empty({size * 128}, Device::cuda()));
    CHECK(cuda::memory_stats().allocated_bytes == base.allocated_bytes + 32 * size * 512);
  }
  CHECK(cuda::memory_stats().allocated_bytes == base.allocated_bytes);
  CHECK(cuda::memory_stats().reserved_bytes <= base.reserved_bytes + (8 << 20));
  // And empty_cache returns every segment this test added, waiting blocks included.
  cuda::empty_cache();
  CHECK(cuda::memory_stats().reserved_bytes == base.reserved_bytes);
}

TEST_CASE("out of GPU memory is a clear error and the allocator works afterwards", "[cuda][training][oom]") {
  const auto before = cuda::memory_stats().allocated_bytes;
  // 1 TiB: more than any current card holds.
  CHECK_THROWS_WITH(empty({std::int64_t{1} << 38}, Device::cuda()),
                    Catch::Matchers::ContainsSubstring("out of memory") &&
                        Catch::Matchers::ContainsSubstring("tried to allocate"));
  CHECK(cuda::memory_stats().allocated_bytes == before);  // nothing leaked
  CHECK(train(Device::cuda(), 50) == Approx(train(Device::cpu(), 50)).epsilon(1e-5));
}

TEST_CASE("a checkpoint saved on the GPU resumes on the CPU", "[cuda][training]") {
  manual_seed(21);
  const auto x = randn({100, 10}), y = randn({100, 2});
  auto run = [&](SimpleNet& model, optim::Adam& opt, Device device, int steps) {
    const auto xd = x.to(device), yd = y.to(device);
    for (int i = 0; i < steps; ++i) {
      opt.zero_grad();
      nn::MSELoss()(model.forward(xd), yd).backward();
      opt.step();
    }
  };
  SimpleNet gpu_model;
  gpu_model.to(Device::cuda());
  optim::Adam gpu_opt(gpu_model.parameters(), {.lr = 0.01});
  run(gpu_model, gpu_opt, Device::cuda(), 20);
  const std::string path = "ember_cuda_resume.ckpt";
  nn::save_checkpoint(path, gpu_model, gpu_opt);

  SimpleNet cpu_model;
  optim::Adam cpu_opt(cpu_model.parameters(), {.lr = 0.01});
  nn::load_checkpoint(path, cpu_model, cpu_opt);
  std::remove(path.c_str());
  CHECK(cpu_model.fc->weight.to_vector<float>() == gpu_model.fc->weight.to_vector<float>());
  run(cpu_model, cpu_opt, Device::cpu(), 20);
  run(gpu_model, gpu_opt, Device::cuda(), 20);
  const auto a = cpu_model.fc->weight.to_vector<double>(), b = gpu_model.fc->weight.to_vector<double>();
  for (std::size_t i = 0; i < a.size(); ++i) CHECK(a[i] == Approx(b[i]).epsilon(1e-4).margin(1e-6));
}
