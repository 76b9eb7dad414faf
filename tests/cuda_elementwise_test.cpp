// The element-wise functors of kernels/elementwise_math.h on the GPU against the same functors on
// the CPU: every op of kernels/op_list.h (values, and unary backward formulas), float32 and float64,
// over a sweep that includes zeros, subnormals, the overflow edges, infinities and NaN. The two
// devices must agree within 2 ulp (NaN with NaN). Plus gradcheck on CUDA for every unary op.
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "catch.h"
#include "ulp.h"
#include <ember/core/ops.h>
#include <ember/ember.h>
#include <ember/kernels/elementwise_math.h>

using namespace ember;
using kernels::BinaryOp;
using kernels::UnaryOp;
using testing::ulp_distance;

namespace {

constexpr std::int64_t kMaxUlp = 2;

// Every value an element-wise op should be tried on in dtype T.
template <typename T> std::vector<double> sweep() {
  using L = std::numeric_limits<T>;
  std::vector<double> v = {0.0,
                           static_cast<double>(L::denorm_min()),
                           static_cast<double>(L::min()),
                           1e-30,
                           1e-7,
                           0.5,
                           1.0,
                           2.0,
                           3.0,
                           7.9,
                           20.0,
                           88.7,   // expf's overflow edge
                           89.0,
                           709.7,  // exp's overflow edge (float64)
                           1e10,
                           static_cast<double>(L::max()),
                           L::infinity()};
  for (double m = -12.0; m <= 12.0; m += 0.37) v.push_back(m);
  for (double e = -38; e <= 38; e += 1.7) v.push_back(std::pow(10.0, e));
  const std::size_t n = v.size();
  for (std::size_t i = 0; i < n; ++i) v.push_back(-v[i]);
  v.push_back(L::quiet_NaN());
  return v;
}

template <typename T> std::int64_t worst_distance(const Tensor& gpu, const Tensor& cpu) {
  const auto g = gpu.to(Device::cpu()).to_vector<T>(), c = cpu.to_vector<T>();
  REQUIRE(g.size() == c.size());
  std::int64_t worst = 0;
  for (std::size_t i = 0; i < g.size(); ++i) {
    const std::int64_t d = ulp_distance(g[i], c[i]);
    if (d > worst) {
      worst = d;
      UNSCOPED_INFO("element " << i << ": cuda " << g[i] << ", cpu " << c[i]);
    }
  }
  return worst;
}

template <typename T> void check_unary_ops(DType dtype) {
  const std::vector<double> values = sweep<T>();
  const Tensor x = from_vector(values, {}, dtype);
  const Tensor x_gpu = x.to(Device::cuda());
  // Upstream gradients for the backward formulas: a few magnitudes, both signs, and the extremes.
  std::vector<double> grads;
  for (std::size_t i = 0; i < values.size(); ++i) grads.push_back(i % 7 == 0 ? values[i] : (i % 2 ? 1.5 : -0.25));
  const Tensor g = from_vector(grads, {}, dtype);
  const Tensor g_gpu = g.to(Device::cuda());
  for (int k = 0; k < kernels::kUnaryOpCount; ++k) {
    const auto op = static_cast<UnaryOp>(k);
    INFO(kernels::op_name(op) << " in " << dtype);
    const Tensor y = ops::unary(op, x), y_gpu = ops::unary(op, x_gpu);
    // The one exception: gelu in float64 calls each device's erfc, and CUDA's and glibc's were
    // measured up to 3 ulp apart in the lower tail (4 in the backward, which also calls exp).
    // A shared erfc would make this 2; float32 gelu is computed in float64 and rounded.
    const std::int64_t max_ulp = op == UnaryOp::Gelu && dtype == kFloat64 ? 4 : kMaxUlp;
    CHECK(worst_distance<T>(y_gpu, y) <= max_ulp);
    // The backward reads the input or the output, as autograd feeds it; both devices get the CPU's,
    // so that what is compared is the backward formula, not the forward's last bit again.
    const Tensor saved = kernels::math::saves(op) == kernels::math::Saves::Output ? y : x;
    const Tensor dx = ops::unary_backward(op, g, saved);
    const Tensor dx_gpu = ops::unary_backward(op, g_gpu, saved.to(Device::cuda()));
    INFO("backward");
    CHECK(worst_distance<T>(dx_gpu, dx) <= max_ulp);
  }
}

template <typename T> void check_binary_ops(DType dtype) {
  // Every pair from a shorter sweep: a as rows, b as columns, broadcast to the full table.
  std::vector<double> values;
  const std::vector<double> all = sweep<T>();
  for (std::size_t i = 0; i < all.size(); i += 3) values.push_back(all[i]);
  values.push_back(std::numeric_limits<T>::quiet_NaN());
  const auto n = static_cast<std::int64_t>(values.size());
  const Tensor a = from_vector(values, {n, 1}, dtype), b = from_vector(values, {1, n}, dtype);
  const Tensor a_gpu = a.to(Device::cuda()), b_gpu = b.to(Device::cuda());
  for (int k = 0; k < kernels::kBinaryOpCount; ++k) {
    const auto op = static_cast<BinaryOp>(k);
    INFO(kernels::op_name(op) << " in " << dtype);
    CHECK(worst_distance<T>(ops::binary(op, a_gpu, b_gpu, "test"), ops::binary(op, a, b, "test")) <= kMaxUlp);
    CHECK(worst_distance<T>(ops::binary_scalar(op, a_gpu, 2.5, false, "test"), ops::binary_scalar(op, a, 2.5, false, "test")) <=
          kMaxUlp);
    CHECK(worst_distance<T>(ops::binary_scalar(op, a_gpu, -0.75, true, "test"), ops::binary_scalar(op, a, -0.75, true, "test")) <=
          kMaxUlp);
  }
  // pow's exact special cases take the same path on both devices.
  for (double e : {2.0, 3.0, 0.5, -1.0}) {
    INFO("pow " << e);
    CHECK(worst_distance<T>(ops::binary_scalar(BinaryOp::Pow, a_gpu, e, false, "pow"),
                            ops::binary_scalar(BinaryOp::Pow, a, e, false, "pow")) == 0);
  }
}

}  // namespace

TEST_CASE("CUDA and CPU element-wise ops agree within 2 ulp, extremes included (float32)", "[cuda][elementwise]") {
  check_unary_ops<float>(kFloat32);
  check_binary_ops<float>(kFloat32);
}

TEST_CASE("CUDA and CPU element-wise ops agree within 2 ulp, extremes included (float64)", "[cuda][elementwise]") {
  check_unary_ops<double>(kFloat64);
  check_binary_ops<double>(kFloat64);
}

TEST_CASE("every unary op's gradient matches finite differences on CUDA (float64)", "[cuda][autograd][elementwise]") {
  manual_seed(21);
  using UnaryFn = Tensor (*)(const Tensor&);
  struct Case {
    UnaryOp op;
    UnaryFn fn;
  };
  const std::vector<Case> cases = {
#define EMBER_UNARY_CASE(Name, function) {UnaryOp::Name, &ember::function},
      EMBER_UNARY_OPS(EMBER_UNARY_CASE)
#undef EMBER_UNARY_CASE
  };
  for (const Case& c : cases) {
    INFO(kernels::op_name(c.op));
    const bool positive = c.op == UnaryOp::Log || c.op == UnaryOp::Sqrt;
    Tensor x = uniform({4, 6}, 0.2, 2.0, kFloat64);
    if (!positive) x = x * uniform({4, 6}, -1.0, 1.0, kFloat64).sign();
    const auto r = autograd::gradcheck([&](const std::vector<Tensor>& in) { return c.fn(in[0]); },
                                       {x.to(Device::cuda()).requires_grad_()});
    INFO(r.message);
    CHECK(r.ok);
  }
}
