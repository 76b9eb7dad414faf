// Anomaly mode (autograd/anomaly.h): the first op whose forward output or backward gradient holds
// NaN or Inf throws, naming the op; with no guard, nothing is checked.
#include <cmath>
#include <thread>

#include "catch.h"
#include <ember/ember.h>

using namespace ember;
using autograd::AnomalyMode;
using autograd::DetectAnomalyGuard;
using Catch::Matchers::ContainsSubstring;

TEST_CASE("detect_anomaly: a NaN made by log in the forward names LogBackward and its shape",
          "[anomaly]") {
  const Tensor x = tensor({1, 2, 3, 4, 5, 6}, {2, 3}).requires_grad_();
  const Tensor shift = tensor({0, 5, 0});
  {
    DetectAnomalyGuard anomaly;
    const Tensor h = x * 2.0;          // finite: no throw
    const Tensor shifted = h - shift;  // [[2, -1, 6], [8, 5, 12]]: log(-1) is NaN
    CHECK_THROWS_WITH(log(shifted),
                      ContainsSubstring("forward output of 'log' (LogBackward, shape [2, 3]") &&
                          ContainsSubstring("NaN (1 of 6 values, first at flat index 1)") &&
                          ContainsSubstring("its inputs were finite, so this op created it"));
  }
  // Without the guard the same graph runs and yields the NaN.
  const Tensor y = log(x * 2.0 - shift);
  CHECK(std::isnan(y.to_vector<double>()[1]));
}

TEST_CASE("detect_anomaly: an op passing on a NaN it was given says so", "[anomaly]") {
  const Tensor w = tensor({1, 1}).requires_grad_();
  const Tensor data = tensor({1, std::nan("")});  // from outside the graph
  DetectAnomalyGuard anomaly;
  CHECK_THROWS_WITH(w * data, ContainsSubstring("MulBackward") &&
                                  ContainsSubstring("input 1 already held NaN/Inf"));
}

TEST_CASE("detect_anomaly: an infinite gradient of sqrt at 0 names SqrtBackward", "[anomaly]") {
  const Tensor x = tensor({0, 1, 4}).requires_grad_();
  {
    DetectAnomalyGuard anomaly;
    const Tensor loss = (sqrt(x) * 3.0).sum();  // forward finite: sqrt(0) = 0
    CHECK_THROWS_WITH(loss.backward(),
                      ContainsSubstring("backward of SqrtBackward (forward op 'sqrt')") &&
                          ContainsSubstring("gradient for its input 0 (shape [3]") &&
                          ContainsSubstring("Inf (1 of 3 values, first at flat index 0)") &&
                          ContainsSubstring("the gradient it received was finite"));
    CHECK_FALSE(x.grad().defined());  // the error came before anything reached the leaf
  }
  // Off: backward runs and leaves the infinite gradient in .grad.
  (sqrt(x) * 3.0).sum().backward();
  const auto g = x.grad().to_vector<double>();
  CHECK(std::isinf(g[0]));
  CHECK(g[1] == Approx(1.5));
  CHECK(g[2] == Approx(0.75));
}

TEST_CASE("detect_anomaly: a gradient that overflows in DivBackward names it", "[anomaly]") {
  // a / b with b = 1e-30 is 1e30, finite in float32, but b's gradient -a / b^2 overflows to -Inf.
  const Tensor a = tensor({1, 1}).requires_grad_();
  const Tensor b = tensor({1e-30, 1}).requires_grad_();
  DetectAnomalyGuard anomaly;
  const Tensor loss = (a / b).sum();
  CHECK_THROWS_WITH(loss.backward(),
                    ContainsSubstring("backward of DivBackward (forward op 'div')") &&
                        ContainsSubstring("gradient for its input 1 (shape [2]") &&
                        ContainsSubstring("Inf (1 of 2 values"));
}

TEST_CASE("detect_anomaly: a NaN gradient passed to backward() is refused", "[anomaly]") {
  const Tensor x = tensor({1, 2}).requires_grad_();
  DetectAnomalyGuard anomaly;
  const Tensor y = x * 2.0;
  CHECK_THROWS_WITH(y.backward(tensor({1, std::nan("")})),
                    ContainsSubstring("gradient passed to backward()"));
}

TEST_CASE("DetectAnomalyGuard is thread-local, nests and restores the previous mode", "[anomaly]") {
  CHECK_FALSE(AnomalyMode::is_enabled());
  {
    DetectAnomalyGuard on;
    CHECK(AnomalyMode::is_enabled());
    {
      DetectAnomalyGuard off(false);
      CHECK_FALSE(AnomalyMode::is_enabled());
      const Tensor x = tensor({-1}).requires_grad_();
      CHECK_NOTHROW(log(x));  // the inner guard turned checking off
    }
    CHECK(AnomalyMode::is_enabled());
    bool other_thread_enabled = true;
    std::thread([&] { other_thread_enabled = AnomalyMode::is_enabled(); }).join();
    CHECK_FALSE(other_thread_enabled);
  }
  CHECK_FALSE(AnomalyMode::is_enabled());
}
