// Pooling on CUDA (the checks: pool_checks.h), and CUDA against the CPU: the same bits, forward
// and backward, since both run the math of kernels/pool_math.h in the same order.
#include "pool_checks.h"

using ember::Device;
namespace pc = pool_checks;

TEST_CASE("CUDA max_pool2d values, indices and gradients", "[cuda][pool]") { pc::max_values(Device::cuda()); }
TEST_CASE("CUDA avg_pool2d values and gradients", "[cuda][pool]") { pc::avg_values(Device::cuda()); }
TEST_CASE("CUDA adaptive_avg_pool2d values and gradients", "[cuda][pool]") { pc::adaptive_values(Device::cuda()); }
TEST_CASE("CUDA max_pool2d: NaN propagates, ties go to the first maximum", "[cuda][pool]") {
  pc::nan_and_ties(Device::cuda());
}
TEST_CASE("CUDA pooling shapes: unbatched, empty batch, strided views, 1-D ops, modules", "[cuda][pool]") {
  pc::shapes_and_layouts(Device::cuda());
}
TEST_CASE("CUDA pooling of many planes against loops in double", "[cuda][pool]") { pc::large(Device::cuda()); }
TEST_CASE("CUDA gradcheck: max_pool2d, avg_pool2d, adaptive_avg_pool2d, 1-D pooling", "[cuda][pool]") {
  pc::gradients(Device::cuda());
}
TEST_CASE("CUDA pooling in bfloat16 and float16 is float32 rounded once", "[cuda][pool]") {
  pc::half_precision(Device::cuda());
}
TEST_CASE("CUDA pooling against PyTorch", "[cuda][pool]") { pc::against_pytorch(Device::cuda()); }

TEST_CASE("CUDA pooling gives the CPU's bits, forward and backward, every run", "[cuda][pool]") {
  using namespace ember;
  manual_seed(21);
  for (DType dtype : {kFloat32, kBFloat16}) {
    INFO(dtype);
    const Tensor x = randn({3, 5, 17, 19}, dtype);
    const Tensor g = randn({3, 5, 9, 10}, dtype);  // the 3x3, stride 2, padding 1 windows' output
    const std::vector<std::function<Tensor(const Tensor&)>> ops = {
        [](const Tensor& t) { return max_pool2d(t, 3, {.stride = 2, .padding = 1}); },
        [](const Tensor& t) { return avg_pool2d(t, 3, {.stride = 2, .padding = 1, .count_include_pad = false}); },
        [](const Tensor& t) { return adaptive_avg_pool2d(t, {9, 10}); },
    };
    for (std::size_t k = 0; k < ops.size(); ++k) {
      INFO("op " << k);
      const Tensor on_cpu = x.clone().requires_grad_();
      const Tensor y_cpu = ops[k](on_cpu);
      y_cpu.backward(g);
      for (int run = 0; run < 2; ++run) {
        const Tensor on_gpu = x.to(Device::cuda()).requires_grad_();
        const Tensor y_gpu = ops[k](on_gpu);
        y_gpu.backward(g.to(Device::cuda()));
        CHECK(y_gpu.to(Device::cpu()).to(kFloat32).to_vector<float>() == y_cpu.to(kFloat32).to_vector<float>());
        CHECK(on_gpu.grad().to(Device::cpu()).to(kFloat32).to_vector<float>() ==
              on_cpu.grad().to(kFloat32).to_vector<float>());
      }
    }
  }
}
