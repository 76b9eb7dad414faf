// Classification ops on the CPU (the checks: classification_checks.h), and the CPU's own refusal
// of a target out of range.
#include "classification_checks.h"

using ember::Device;
namespace cc = classification_checks;

TEST_CASE("softmax and log_softmax values, over any dim", "[classification]") { cc::softmax_values(Device::cpu()); }
TEST_CASE("argmax: first maximum, NaN counts as the maximum", "[classification]") { cc::argmax_values(Device::cpu()); }
TEST_CASE("nll_loss values: weights, ignore_index, reductions, spatial", "[classification]") {
  cc::nll_values(Device::cpu());
}
TEST_CASE("cross_entropy values: label smoothing, weights, probabilities", "[classification]") {
  cc::cross_entropy_values(Device::cpu());
}
TEST_CASE("gradcheck: softmax, log_softmax, nll_loss, cross_entropy", "[classification][autograd]") {
  cc::gradients(Device::cpu());
}
TEST_CASE("cross_entropy and nll_loss against PyTorch", "[classification]") { cc::against_pytorch(Device::cpu()); }
TEST_CASE("dropout and Flatten", "[classification]") { cc::dropout_values(Device::cpu()); }
TEST_CASE("nll_loss refuses a target out of range, naming it", "[classification]") {
  using namespace ember;
  const Tensor logp = zeros({2, 3}, kFloat64);
  CHECK_THROWS_WITH(nll_loss(logp, tensor({0, 3}).to(kInt64)),
                    Catch::Matchers::ContainsSubstring("target 3") && Catch::Matchers::ContainsSubstring("0 to 2"));
  CHECK_THROWS_WITH(nll_loss(logp, tensor({-1, 0}).to(kInt64)), Catch::Matchers::ContainsSubstring("target -1"));
  nn::CrossEntropyLoss loss({.label_smoothing = 0.1});
  CHECK(std::isfinite(loss(logp, tensor({0, 2}).to(kInt64)).item<double>()));
}
