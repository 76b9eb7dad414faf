// Convolution on the CPU (the checks: conv_checks.h), and what only the CPU has: the result does not
// depend on the number of threads.
#include "conv_checks.h"

using ember::Device;
namespace cv = conv_checks;

TEST_CASE("conv2d values and gradients against direct loops, every option", "[conv]") { cv::values(Device::cpu()); }
TEST_CASE("conv1d values and gradients against direct loops", "[conv]") { cv::conv1d_values(Device::cpu()); }
TEST_CASE("gradcheck: conv2d and conv1d, strided, padded, dilated, grouped", "[conv][autograd]") {
  cv::gradients(Device::cpu());
}
TEST_CASE("conv2d: channels-last input or weight give the same values, other layouts too", "[conv]") {
  cv::channels_last_layout(Device::cpu());
}
TEST_CASE("conv2d in float32, bfloat16 and float16 against float64", "[conv]") { cv::dtypes(Device::cpu()); }
TEST_CASE("conv2d and conv1d against PyTorch", "[conv]") { cv::against_pytorch(Device::cpu()); }
TEST_CASE("conv2d with empty shapes", "[conv]") { cv::empty_shapes(Device::cpu()); }
TEST_CASE("conv2d and conv1d refuse bad calls, naming shapes", "[conv]") { cv::bad_calls(Device::cpu()); }
TEST_CASE("nn::Conv2d and nn::Conv1d", "[conv][nn]") { cv::modules(Device::cpu()); }

TEST_CASE("conv2d on the CPU: the same results on 1 and 2 threads", "[conv]") {
  using namespace ember;
  manual_seed(9);
  // Enough work per sample to be split (kernels/cpu/thread_pool.h): 64 x 288 x 196 multiply-adds.
  const Tensor x = uniform({8, 32, 14, 14}, -1, 1, kFloat64), w = uniform({64, 32, 3, 3}, -1, 1, kFloat64);
  const Tensor g = uniform({8, 64, 14, 14}, -1, 1, kFloat64);
  const int threads = get_num_threads();
  auto run = [&](int n) {
    set_num_threads(n);
    const Tensor xi = x.clone().requires_grad_(), wi = w.clone().requires_grad_();
    const Tensor y = conv2d(xi, wi, {}, {.padding = 1});
    y.backward(g);
    return std::vector<Tensor>{y, xi.grad(), wi.grad()};
  };
  const std::vector<Tensor> one = run(1), two = run(2);
  set_num_threads(threads);
  // The output and input gradient are per sample, computed alike; the weight gradient sums the
  // threads' partial sums, in another order.
  CHECK(allclose(one[0], two[0], 0, 0));
  CHECK(allclose(one[1], two[1], 0, 0));
  CHECK(allclose(one[2], two[2], 1e-13, 1e-13));
  CHECK_THROWS_WITH(set_num_threads(0), Catch::Matchers::ContainsSubstring("at least 1"));
}
