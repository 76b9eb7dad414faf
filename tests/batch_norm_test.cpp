// Batch normalisation on the CPU (the checks: batch_norm_checks.h), and the CPU's own refusal of a
// NaN in a training batch, which needs no anomaly mode there.
#include "batch_norm_checks.h"

using ember::Device;
namespace bc = batch_norm_checks;

TEST_CASE("batch_norm: training and evaluation values, running statistics over 3 steps", "[batch_norm]") {
  bc::training_and_eval_values(Device::cpu());
}
TEST_CASE("batch_norm: larger shapes against loops in double", "[batch_norm]") { bc::large_shapes(Device::cpu()); }
TEST_CASE("batch_norm: momentum = nullopt is a cumulative average", "[batch_norm]") {
  bc::cumulative_average(Device::cpu());
}
TEST_CASE("batch_norm: undefined weight, bias and running statistics", "[batch_norm]") {
  bc::optional_tensors(Device::cpu());
}
TEST_CASE("batch_norm: gradcheck in training and evaluation", "[batch_norm][autograd]") {
  bc::gradients(Device::cpu());
}
TEST_CASE("batch_norm: bfloat16 and float16 are the float32 op rounded once", "[batch_norm]") {
  bc::half_precision(Device::cpu());
}
TEST_CASE("batch_norm against PyTorch: outputs, running statistics, gradients", "[batch_norm]") {
  bc::against_pytorch(Device::cpu());
}
TEST_CASE("BatchNorm1d and BatchNorm2d: buffers, train and eval, to()", "[batch_norm][nn]") {
  bc::module_behaviour(Device::cpu());
}
TEST_CASE("BatchNorm2d: a checkpoint round trip keeps the running statistics", "[batch_norm][nn][serialize]") {
  bc::checkpoint_round_trip(Device::cpu());
}
TEST_CASE("batch_norm: NaN under anomaly mode is an error that changes nothing", "[batch_norm]") {
  bc::nan_under_anomaly_mode(Device::cpu());
}
TEST_CASE("batch_norm on the CPU: NaN or Inf in training is an error that changes nothing", "[batch_norm]") {
  using namespace ember;
  const double inf = std::numeric_limits<double>::infinity();
  Tensor rm = zeros({2}, kFloat64), rv = ones({2}, kFloat64);
  const Tensor counter = zeros({}, kInt64);
  for (double bad : {std::nan(""), inf, -inf}) {
    INFO(bad);
    const Tensor x = tensor({1, 2, 3, bad, 5, 6}, {3, 2}, kFloat64);
    CHECK_THROWS_WITH(batch_norm(x, rm, rv, {}, {}, {.training = true, .num_batches_tracked = counter}),
                      Catch::Matchers::ContainsSubstring("channel 1") &&
                          Catch::Matchers::ContainsSubstring("NaN or Inf"));
    CHECK(rm.to_vector<double>() == std::vector<double>{0, 0});
    CHECK(rv.to_vector<double>() == std::vector<double>{1, 1});
    CHECK(counter.item<std::int64_t>() == 0);
  }
}

TEST_CASE("batch_norm on the CPU gives the same bits on one thread and on several", "[batch_norm]") {
  using namespace ember;
  manual_seed(2);
  const Tensor x = randn({16, 8, 40, 40});
  const Tensor g = randn({16, 8, 40, 40});
  const int threads = get_num_threads();
  std::vector<std::vector<float>> results[2];
  for (int run = 0; run < 2; ++run) {
    set_num_threads(run == 0 ? 1 : 4);
    const Tensor xr = x.detach().requires_grad_(), w = ones({8}).requires_grad_();
    Tensor rm = zeros({8}), rv = ones({8});
    const Tensor y = batch_norm(xr, rm, rv, w, {}, {.training = true});
    y.backward(g);
    for (const Tensor& t : {y, xr.grad(), w.grad(), rm, rv}) results[run].push_back(t.to_vector<float>());
  }
  set_num_threads(threads);
  CHECK(results[0] == results[1]);
}
