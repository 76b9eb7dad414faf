// Convolution on CUDA (the checks: conv_checks.h), and TF32, on by default as in PyTorch.
#include "conv_checks.h"

using ember::Device;
namespace cv = conv_checks;

TEST_CASE("CUDA conv2d values and gradients against direct loops, every option", "[cuda][conv]") {
  cv::values(Device::cuda());
}
TEST_CASE("CUDA conv1d values and gradients", "[cuda][conv]") { cv::conv1d_values(Device::cuda()); }
TEST_CASE("CUDA gradcheck: conv2d and conv1d", "[cuda][conv]") { cv::gradients(Device::cuda()); }
TEST_CASE("CUDA conv2d: channels-last input or weight", "[cuda][conv]") { cv::channels_last_layout(Device::cuda()); }
TEST_CASE("CUDA conv2d in float32, bfloat16 and float16", "[cuda][conv]") { cv::dtypes(Device::cuda()); }
TEST_CASE("CUDA conv2d and conv1d against PyTorch", "[cuda][conv]") { cv::against_pytorch(Device::cuda()); }
TEST_CASE("CUDA conv2d with empty shapes", "[cuda][conv]") { cv::empty_shapes(Device::cuda()); }
TEST_CASE("CUDA conv2d refuses bad calls", "[cuda][conv]") { cv::bad_calls(Device::cuda()); }
TEST_CASE("CUDA nn::Conv2d and nn::Conv1d", "[cuda][conv]") { cv::modules(Device::cuda()); }

TEST_CASE("CUDA conv2d in float32 with TF32 (the default) and without, against the CPU", "[cuda][conv]") {
  using namespace ember;
  manual_seed(10);
  const Tensor x = uniform({4, 16, 12, 12}, -1, 1), w = uniform({32, 16, 3, 3}, -1, 1), b = uniform({32}, -1, 1);
  const Tensor want = conv2d(x.to(kFloat64), w.to(kFloat64), b.to(kFloat64), {.padding = 1});
  const bool tf32 = cuda::cudnn_allow_tf32();
  CHECK(tf32);  // PyTorch's default
  for (const bool allow : {true, false}) {
    INFO("allow_tf32 " << allow);
    cuda::set_cudnn_allow_tf32(allow);
    const Tensor got = conv2d(x.to(Device::cuda()), w.to(Device::cuda()), b.to(Device::cuda()), {.padding = 1});
    // Sums of 144 products of values in [-1, 1]. TF32 keeps 10 bits of each operand's mantissa:
    // the same sums with operands rounded so, in double, err by up to 3.4e-3 (relative to
    // max(|value|, 1)); truncating instead of rounding would double that.
    CHECK(test::max_rel_error(got.to(kFloat64).to(Device::cpu()), want, 1.0) < (allow ? 1.5e-2 : 1e-5));
  }
  cuda::set_cudnn_allow_tf32(tf32);
}
