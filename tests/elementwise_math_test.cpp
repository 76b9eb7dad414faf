// The element-wise ops of kernels/op_list.h on the CPU: every unary op's gradient against finite
// differences, values against hand-computed ones, float32 against float64 to a stated number of
// ulp, results independent of the layout, and pow's exact special cases.
// tests/cuda_elementwise_test.cpp holds the GPU to the same functors.
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "catch.h"
#include "ulp.h"
#include <ember/ember.h>
#include <ember/kernels/elementwise_math.h>

using namespace ember;
using kernels::UnaryOp;
using testing::ulp_distance;

namespace {

using UnaryFn = Tensor (*)(const Tensor&);

struct UnaryCase {
  UnaryOp op;
  const char* name;
  UnaryFn fn;
};

// Every unary op, from the op list itself: a new op is swept without editing this file.
std::vector<UnaryCase> all_unary_ops() {
  return {
#define EMBER_UNARY_CASE(Name, function) {UnaryOp::Name, #function, &ember::function},
      EMBER_UNARY_OPS(EMBER_UNARY_CASE)
#undef EMBER_UNARY_CASE
  };
}

// Where an op is smooth: log and sqrt need positive inputs, reciprocal keeps away from 0; the rest
// take both signs, away from the kinks of abs, relu and sign at 0.
bool positive_only(UnaryOp op) { return op == UnaryOp::Log || op == UnaryOp::Sqrt; }

// Inputs of magnitude [0.2, 2] with random signs (positive only where the op needs it).
Tensor smooth_inputs(UnaryOp op, const Shape& shape, DType dtype) {
  Tensor magnitude = uniform(shape, 0.2, 2.0, dtype);
  if (positive_only(op)) return magnitude;
  Tensor sign = uniform(shape, -1.0, 1.0, dtype).sign();
  return magnitude * sign;
}

}  // namespace

TEST_CASE("every unary op's gradient matches finite differences (float64, CPU)", "[autograd][elementwise]") {
  manual_seed(11);
  for (const UnaryCase& c : all_unary_ops()) {
    INFO(c.name);
    const Tensor x = smooth_inputs(c.op, {3, 5}, kFloat64).requires_grad_();
    const auto r = autograd::gradcheck([&](const std::vector<Tensor>& in) { return c.fn(in[0]); }, {x});
    INFO(r.message);
    CHECK(r.ok);
  }
}

TEST_CASE("every unary op's gradient on a strided, broadcast input", "[autograd][elementwise]") {
  manual_seed(12);
  for (const UnaryCase& c : all_unary_ops()) {
    INFO(c.name);
    const Tensor x = smooth_inputs(c.op, {4, 3}, kFloat64).requires_grad_();
    const auto r = autograd::gradcheck(
        [&](const std::vector<Tensor>& in) { return c.fn(in[0].t().unsqueeze(0).expand({2, 3, 4})); }, {x});
    INFO(r.message);
    CHECK(r.ok);
  }
}

TEST_CASE("GELU and SiLU values and derivatives against hand-computed ones", "[elementwise]") {
  // gelu(x) = x Phi(x); gelu_tanh(x) = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)));
  // silu(x) = x / (1 + e^-x). Values from the closed forms in float64 (Python's math.erf, math.tanh).
  Tensor x = tensor({-3.0, -1.0, 0.0, 0.5, 1.0, 2.0}, {}, kFloat64).requires_grad_();
  const std::vector<double> gelu = {-0.00404969409489031, -0.15865525393145707, 0.0, 0.34573123063700656,
                                    0.8413447460685429, 1.9544997361036416};
  const std::vector<double> gelu_tanh = {-0.0036373920817729943, -0.15880800939172324, 0.0, 0.34571400982514394,
                                         0.8411919906082768, 1.954597694087775};
  const std::vector<double> silu = {-0.14227761953270035, -0.2689414213699951, 0.0, 0.3112296656009273,
                                    0.7310585786300049, 1.7615941559557646};
  // d/dx: gelu' = Phi(x) + x phi(x); silu' = s (1 + x (1 - s)).
  const std::vector<double> dgelu = {-0.01194564720418392, -0.08331547058768629, 0.5, 0.8674951246561629,
                                     1.0833154705876864, 1.085231801078197};
  const std::vector<double> dsilu = {-0.08810410601516962, 0.07232948812851325, 0.5, 0.7399611873026519,
                                     0.9276705118714869, 1.0907842487848955};
  auto check_all = [](const Tensor& t, const std::vector<double>& expected, double tol) {
    const auto v = t.to_vector<double>();
    REQUIRE(v.size() == expected.size());
    for (std::size_t i = 0; i < v.size(); ++i) CHECK_THAT(v[i], Catch::Matchers::WithinAbs(expected[i], tol));
  };
  check_all(ember::gelu(x), gelu, 1e-13);
  check_all(ember::gelu_tanh(x), gelu_tanh, 1e-13);
  check_all(ember::silu(x), silu, 1e-13);
  ember::gelu(x).sum().backward();
  check_all(x.grad(), dgelu, 1e-10);
  x.set_grad(Tensor());
  ember::silu(x).sum().backward();
  check_all(x.grad(), dsilu, 1e-10);
}

TEST_CASE("float32 results are within a few ulp of float64 ones rounded to float32", "[elementwise]") {
  // Transcendental functions of float32 are evaluated in float64 and rounded once, so they are
  // within 1 ulp; tanh uses Eigen's rational approximation (at most 5 ulp over this sweep);
  // composites (sigmoid, silu, gelu) add a rounding per step. GELU's tanh form, PyTorch's, cancels
  // for negative x (1 + tanh(...) when tanh is near -1), so it is held to an absolute bound
  // instead: a few float32 epsilons of max(1, |x|).
  std::vector<double> values;
  for (double v = -8.0; v <= 8.0; v += 1.0 / 64) values.push_back(v);
  for (const UnaryCase& c : all_unary_ops()) {
    INFO(c.name);
    std::vector<double> inputs;
    for (double v : values) {
      if (positive_only(c.op) && v <= 0) continue;
      if (c.op == UnaryOp::Reciprocal && v == 0) continue;
      inputs.push_back(v);
    }
    const Tensor x64 = from_vector(inputs, {}, kFloat64);
    const auto got = c.fn(x64.to(kFloat32)).to_vector<float>();
    const auto want = c.fn(x64).to_vector<double>();
    if (c.op == UnaryOp::GeluTanh) {
      double worst = 0;
      for (std::size_t i = 0; i < inputs.size(); ++i) {
        worst = std::max(worst, std::fabs(got[i] - want[i]) / std::max(1.0, std::fabs(inputs[i])));
      }
      INFO("worst error " << worst / std::numeric_limits<float>::epsilon() << " epsilons");
      CHECK(worst <= 4 * std::numeric_limits<float>::epsilon());
      continue;
    }
    const std::int64_t tolerance = c.op == UnaryOp::Tanh                                   ? 5
                                   : c.op == UnaryOp::Silu || c.op == UnaryOp::Sigmoid || c.op == UnaryOp::Gelu ? 3
                                                                                           : 1;
    std::int64_t worst = 0;
    for (std::size_t i = 0; i < inputs.size(); ++i) {
      worst = std::max(worst, ulp_distance(got[i], static_cast<float>(want[i])));
    }
    INFO("worst distance " << worst << " ulp");
    CHECK(worst <= tolerance);
  }
}

TEST_CASE("element-wise results do not depend on the layout", "[elementwise]") {
  // The same values through a contiguous run, a transposed view and a broadcast read.
  manual_seed(13);
  for (const UnaryCase& c : all_unary_ops()) {
    INFO(c.name);
    const Tensor x = smooth_inputs(c.op, {33, 17}, kFloat32);
    const Tensor contiguous = c.fn(x);
    const Tensor transposed = c.fn(x.t().contiguous()).t();
    CHECK(contiguous.to_vector<float>() == transposed.contiguous().to_vector<float>());
    const Tensor row = x.slice(0, 0, 1);
    const Tensor broadcast = c.fn(row.expand({5, 17}));
    for (int r = 0; r < 5; ++r) CHECK(broadcast[r].to_vector<float>() == c.fn(row)[0].to_vector<float>());
  }
}

TEST_CASE("pow with exponents 2, 3, 0.5 and -1 computes x*x, x*x*x, sqrt and 1/x exactly", "[elementwise]") {
  const std::vector<float> v = {0.1f, 1.7f, -2.3f, 3.14159f, 1e-3f, 123.456f};
  const Tensor x = from_vector(v);
  const auto p2 = pow(x, 2.0).to_vector<float>(), p3 = pow(x, 3.0).to_vector<float>();
  const auto ph = pow(x.abs(), 0.5).to_vector<float>(), pm = pow(x, -1.0).to_vector<float>();
  for (std::size_t i = 0; i < v.size(); ++i) {
    CHECK(p2[i] == v[i] * v[i]);
    CHECK(p3[i] == v[i] * v[i] * v[i]);
    CHECK(ph[i] == std::sqrt(std::fabs(v[i])));
    CHECK(pm[i] == 1.0f / v[i]);
  }
}

TEST_CASE("special values: NaN propagates, saturating functions saturate", "[elementwise]") {
  const double inf = std::numeric_limits<double>::infinity(), nan = std::numeric_limits<double>::quiet_NaN();
  for (DType dtype : {kFloat32, kFloat64}) {
    INFO(dtype);
    const Tensor x = tensor({-inf, -100.0, 100.0, inf, nan}, {}, dtype);
    const auto t = x.tanh().to_vector<double>();
    CHECK(t[0] == -1.0);
    CHECK(t[3] == 1.0);
    CHECK(std::isnan(t[4]));
    const auto s = x.sigmoid().to_vector<double>();
    CHECK(s[0] == 0.0);
    CHECK(s[1] == Approx(0.0).margin(1e-40));
    CHECK(s[3] == 1.0);
    CHECK(std::isnan(s[4]));
    const auto r = x.relu().to_vector<double>();
    CHECK(r[0] == 0.0);
    CHECK(r[3] == inf);
    CHECK(std::isnan(r[4]));
    const auto g = x.gelu().to_vector<double>();
    CHECK(g[2] == 100.0);
    CHECK(std::isnan(g[4]));
    const auto si = x.silu().to_vector<double>();
    CHECK(si[2] == 100.0);
    CHECK(si[3] == inf);
  }
}
