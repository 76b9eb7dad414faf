// Classification ops on CUDA (the checks: classification_checks.h).
#include "classification_checks.h"

using ember::Device;
namespace cc = classification_checks;

TEST_CASE("CUDA softmax and log_softmax values, over any dim", "[cuda][classification]") {
  cc::softmax_values(Device::cuda());
}
TEST_CASE("CUDA argmax", "[cuda][classification]") { cc::argmax_values(Device::cuda()); }
TEST_CASE("CUDA nll_loss values", "[cuda][classification]") { cc::nll_values(Device::cuda()); }
TEST_CASE("CUDA cross_entropy values", "[cuda][classification]") { cc::cross_entropy_values(Device::cuda()); }
TEST_CASE("CUDA gradcheck: softmax, log_softmax, nll_loss, cross_entropy", "[cuda][classification]") {
  cc::gradients(Device::cuda());
}
TEST_CASE("CUDA nll_loss: a target out of range gives NaN", "[cuda][classification]") {
  using namespace ember;
  const Tensor logp = zeros({2, 3}, TensorOptions(kFloat32).device(Device::cuda()));
  const Tensor bad = tensor({0, 3}).to(kInt64).to(Device::cuda());
  CHECK(std::isnan(nll_loss(logp, bad).item<float>()));
  CHECK(std::isnan(nll_loss(logp, bad, {.reduction = Reduction::None}).to_vector<float>()[1]));
}
TEST_CASE("CUDA cross_entropy and nll_loss against PyTorch", "[cuda][classification]") { cc::against_pytorch(Device::cuda()); }
TEST_CASE("CUDA dropout and Flatten", "[cuda][classification]") { cc::dropout_values(Device::cuda()); }
TEST_CASE("CUDA dropout draws the CPU's mask for the same seed", "[cuda][classification]") {
  using namespace ember;
  manual_seed(7);
  const Tensor on_cpu = dropout(ones({4097}), 0.25);
  manual_seed(7);
  const Tensor on_gpu = dropout(ones({4097}, Device::cuda()), 0.25);
  CHECK(on_gpu.to(Device::cpu()).to_vector<float>() == on_cpu.to_vector<float>());
}
