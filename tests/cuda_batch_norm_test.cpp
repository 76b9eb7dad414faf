// Batch normalisation on CUDA (the checks: batch_norm_checks.h), CUDA against the CPU, and what a
// NaN in a training batch does without anomaly mode (CUDA cannot raise without waiting).
#include "batch_norm_checks.h"

using ember::Device;
namespace bc = batch_norm_checks;

TEST_CASE("CUDA batch_norm: training and evaluation values, running statistics over 3 steps", "[cuda][batch_norm]") {
  bc::training_and_eval_values(Device::cuda());
}
TEST_CASE("CUDA batch_norm: larger shapes against loops in double (every kernel path)", "[cuda][batch_norm]") {
  bc::large_shapes(Device::cuda());
}
TEST_CASE("CUDA batch_norm: momentum = nullopt is a cumulative average", "[cuda][batch_norm]") {
  bc::cumulative_average(Device::cuda());
}
TEST_CASE("CUDA batch_norm: undefined weight, bias and running statistics", "[cuda][batch_norm]") {
  bc::optional_tensors(Device::cuda());
}
TEST_CASE("CUDA batch_norm: gradcheck in training and evaluation", "[cuda][batch_norm][autograd]") {
  bc::gradients(Device::cuda());
}
TEST_CASE("CUDA batch_norm: bfloat16 and float16 are the float32 op rounded once", "[cuda][batch_norm]") {
  bc::half_precision(Device::cuda());
}
TEST_CASE("CUDA batch_norm against PyTorch", "[cuda][batch_norm]") { bc::against_pytorch(Device::cuda()); }
TEST_CASE("CUDA BatchNorm1d and BatchNorm2d: buffers, train and eval, to()", "[cuda][batch_norm]") {
  bc::module_behaviour(Device::cuda());
}
TEST_CASE("CUDA BatchNorm2d: a checkpoint round trip keeps the running statistics", "[cuda][batch_norm]") {
  bc::checkpoint_round_trip(Device::cuda());
}
TEST_CASE("CUDA batch_norm: NaN under anomaly mode is an error that changes nothing", "[cuda][batch_norm]") {
  bc::nan_under_anomaly_mode(Device::cuda());
}

TEST_CASE("CUDA batch_norm: without anomaly mode a NaN batch leaves the running statistics", "[cuda][batch_norm]") {
  using namespace ember;
  const TensorOptions o = TensorOptions(kFloat32).device(Device::cuda());
  Tensor rm = zeros({2}, o), rv = ones({2}, o);
  const Tensor counter = zeros({}, TensorOptions(kInt64).device(Device::cuda()));
  const Tensor x = tensor({1, 2, 3, std::nan(""), 5, 6}, {3, 2}, o);
  const std::vector<float> y = batch_norm(x, rm, rv, {}, {}, {.training = true, .num_batches_tracked = counter})
                                   .to_vector<float>();
  CHECK(std::isnan(y[1]));   // channel 1 carries the NaN
  CHECK(y[0] == -y[4]);      // channel 0 is normalised: -1.22, 0, 1.22
  CHECK(rm.to_vector<float>() == std::vector<float>{0, 0});  // all or nothing: channel 0 is not updated either
  CHECK(rv.to_vector<float>() == std::vector<float>{1, 1});
  CHECK(counter.item<std::int64_t>() == 0);
}

TEST_CASE("CUDA batch_norm agrees with the CPU within an ulp, forward and backward", "[cuda][batch_norm]") {
  using namespace ember;
  manual_seed(12);
  for (const Shape& shape : {Shape{64, 32}, Shape{16, 8, 9}, Shape{4, 16, 28, 28}, Shape{2, 4, 70000}}) {
    for (bool training : {true, false}) {
      INFO("shape " << shape << (training ? " training" : " evaluation"));
      const std::int64_t c = shape[1];
      const Tensor x = randn(shape) * 3.0 + 2.0, g = randn(shape);
      const Tensor w = uniform({c}, 0.5, 1.5), b = uniform({c}, -1, 1);
      const Tensor rm0 = uniform({c}, -0.5, 0.5), rv0 = uniform({c}, 0.5, 2.0);
      std::vector<std::vector<double>> results[2];
      for (int side = 0; side < 2; ++side) {
        const Device d = side == 0 ? Device::cpu() : Device::cuda();
        // detach(): on the CPU to() returns the tensor itself, which must stay a plain leaf for the CUDA side.
        const Tensor xd = x.to(d).detach().requires_grad_(), wd = w.to(d).detach().requires_grad_(),
                     bd = b.to(d).detach().requires_grad_();
        Tensor rm = rm0.to(d).clone(), rv = rv0.to(d).clone();
        const Tensor y = batch_norm(xd, rm, rv, wd, bd, {.training = training});
        y.backward(g.to(d));
        for (const Tensor& t : {y, xd.grad(), wd.grad(), bd.grad(), rm, rv}) results[side].push_back(t.to_vector<double>());
      }
      for (std::size_t k = 0; k < results[0].size(); ++k) {
        INFO("result " << k << " (output, grad input, grad weight, grad bias, running mean, running var)");
        // float32: the sums' order differs (double accumulation), the rest is the same arithmetic;
        // the parameters' gradients are sums of many terms, rounded once.
        CHECK(bc::close(results[1][k], results[0][k], 2.5e-7, 1e-6));
      }
    }
  }
}
