// Op values against hand-computed results: arithmetic with broadcasting, functions, reductions,
// matrix products in every layout, on contiguous and strided inputs, in float32 and float64.
#include <cmath>

#include "catch.h"
#include <ember/ember.h>

using namespace ember;
using V = std::vector<double>;

namespace {
V values(const Tensor& t) { return t.to_vector<double>(); }
void check_close(const V& got, const V& want, double tol = 1e-6) {
  REQUIRE(got.size() == want.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    INFO("element " << i);
    CHECK(got[i] == Approx(want[i]).margin(tol));
  }
}
}  // namespace

TEST_CASE("arithmetic broadcasts like NumPy", "[ops]") {
  const DType dtype = GENERATE(kFloat32, kFloat64);
  const Tensor a = tensor({1, 2, 3, 4, 5, 6}, {2, 3}, dtype);
  const Tensor row = tensor({10, 20, 30}, {3}, dtype);
  const Tensor col = tensor({100, 200}, {2, 1}, dtype);
  check_close(values(a + row), {11, 22, 33, 14, 25, 36});
  check_close(values(a - col), {-99, -98, -97, -196, -195, -194});
  check_close(values(a * row), {10, 40, 90, 40, 100, 180});
  check_close(values(row / a), {10, 10, 10, 2.5, 4, 5});
  check_close(values(col + row), {110, 120, 130, 210, 220, 230});  // [2,1] + [3] -> [2,3]
  check_close(values(pow(a, tensor({2}, {1}, dtype))), {1, 4, 9, 16, 25, 36});
  check_close(values(maximum(a, row / 5.0)), {2, 4, 6, 4, 5, 6});
  check_close(values(minimum(a, col / 50.0)), {1, 2, 2, 4, 4, 4});
  check_close(values(a * 2.0 + 1.0), {3, 5, 7, 9, 11, 13});
  check_close(values(1.0 - a), {0, -1, -2, -3, -4, -5});
  check_close(values(12.0 / a), {12, 6, 4, 3, 2.4, 2});
  check_close(values(-a), {-1, -2, -3, -4, -5, -6});
  // Strided operands: a transposed view and a broadcast view.
  check_close(values(a.t() + tensor({1, 2}, {2}, dtype)), {2, 6, 3, 7, 4, 8});
  check_close(values(a.slice(1, 0, 3, 2) * a.slice(1, 1, 3, 2).expand({2, 2})), {2, 6, 20, 30});
}

TEST_CASE("element-wise functions", "[ops]") {
  const Tensor x = tensor({-2, -0.5, 0, 0.5, 2}, {5}, kFloat64);
  check_close(values(relu(x)), {0, 0, 0, 0.5, 2});
  check_close(values(abs(x)), {2, 0.5, 0, 0.5, 2});
  check_close(values(exp(x)), {std::exp(-2), std::exp(-0.5), 1, std::exp(0.5), std::exp(2)}, 1e-12);
  check_close(values(tanh(x)), {std::tanh(-2), std::tanh(-0.5), 0, std::tanh(0.5), std::tanh(2)}, 1e-12);
  check_close(values(sigmoid(x)), {1 / (1 + std::exp(2)), 1 / (1 + std::exp(0.5)), 0.5,
                                   1 / (1 + std::exp(-0.5)), 1 / (1 + std::exp(-2))}, 1e-12);
  check_close(values(sqrt(tensor({4, 9, 0.25}))), {2, 3, 0.5});
  check_close(values(log(tensor({1, std::exp(1.0)}, {2}, kFloat64))), {0, 1}, 1e-12);
  CHECK(sigmoid(tensor({-1000, 1000})).to_vector<float>() == std::vector<float>{0, 1});
  CHECK(std::isnan(log(tensor({-1})).item<float>()));
  CHECK(std::isnan((tensor({NAN}) + 1.0).item<float>()));
}

TEST_CASE("reductions over all elements and over one dim", "[ops]") {
  const DType dtype = GENERATE(kFloat32, kFloat64);
  const Tensor a = arange(24, dtype).reshape({2, 3, 4});
  CHECK(a.sum().item<double>() == 276.0);
  CHECK(a.mean().item<double>() == Approx(11.5));
  CHECK(a.max().item<double>() == 23.0);
  check_close(values(a.sum(0)), {12, 14, 16, 18, 20, 22, 24, 26, 28, 30, 32, 34});
  check_close(values(a.sum(1)), {12, 15, 18, 21, 48, 51, 54, 57});
  check_close(values(a.sum(-1)), {6, 22, 38, 54, 70, 86});
  CHECK(a.sum(1, true).shape() == Shape{2, 1, 4});
  CHECK(a.sum(1).shape() == Shape{2, 4});
  check_close(values(a.mean(2)), {1.5, 5.5, 9.5, 13.5, 17.5, 21.5});
  check_close(values(a.max(1)), {8, 9, 10, 11, 20, 21, 22, 23});
  check_close(values((-a).max(0)), {0, -1, -2, -3, -4, -5, -6, -7, -8, -9, -10, -11});
  // Over a transposed (strided) view.
  check_close(values(a.transpose(0, 2).sum(2)), {12, 20, 28, 14, 22, 30, 16, 24, 32, 18, 26, 34});
  CHECK(std::isnan(tensor({1, NAN, 3}).max().item<float>()));
  CHECK(zeros({0, 3}).sum().item<float>() == 0.0f);
  // float32 sums are accumulated accurately: one million 0.1s.
  CHECK(full({1000000}, 0.1).sum().item<double>() == Approx(100000.0).epsilon(1e-6));
}

TEST_CASE("matmul in every layout", "[ops]") {
  const DType dtype = GENERATE(kFloat32, kFloat64);
  const Tensor a = tensor({1, 2, 3, 4, 5, 6}, {2, 3}, dtype);
  const Tensor b = tensor({7, 8, 9, 10, 11, 12}, {3, 2}, dtype);
  check_close(values(matmul(a, b)), {58, 64, 139, 154});
  check_close(values(matmul(b.t(), a.t())), {58, 139, 64, 154});  // both transposed views
  check_close(values(matmul(a, a.t())), {14, 32, 32, 77});
  check_close(values(matmul(tensor({1, 2, 3}, {3}, dtype), b)), {58, 64});
  check_close(values(matmul(a, tensor({1, 0, -1}, {3}, dtype))), {-2, -2});
  CHECK(matmul(tensor({1, 2}, {2}, dtype), tensor({3, 4}, {2}, dtype)).item<double>() == 11.0);
  // Batched, with the second operand broadcast over the batch.
  const Tensor batch = arange(12, dtype).reshape({2, 2, 3});
  check_close(values(matmul(batch, b)), {31, 34, 112, 124, 193, 214, 274, 304});
  check_close(values(matmul(batch, batch.transpose(1, 2))), {5, 14, 14, 50, 149, 212, 212, 302});
  CHECK(matmul(ones({5, 1, 2, 3}, dtype), ones({4, 3, 2}, dtype)).shape() == Shape{5, 4, 2, 2});
  CHECK(matmul(zeros({2, 0}, dtype), zeros({0, 3}, dtype)).to_vector<double>() == V(6, 0.0));
  // linear = x W^T + b
  check_close(values(linear(a, tensor({1, 1, 1, 0, 1, 0}, {2, 3}, dtype), tensor({0.5, -1}, {2}, dtype))),
              {6.5, 1, 15.5, 4});
}

// The CPU backend routes tiny products (up to 2048 multiply-adds) of two layouts to kernels of
// its own: row-major A with column-major B, and column-major A with row-major B when C has at most
// 16 columns (one kernel per width). Every width from 1 to 17, both layouts and the two others,
// leading dimensions wider than the matrix, with and without a bias, against a double reference.
TEST_CASE("tiny products in every layout and width match a naive reference", "[ops]") {
  const DType dtype = GENERATE(kFloat32, kFloat64);
  const bool a_transposed = GENERATE(false, true), b_transposed = GENERATE(false, true);
  const bool with_bias = GENERATE(false, true);
  const double tol = dtype == kFloat32 ? 1e-5 : 1e-13;
  manual_seed(5);
  for (const auto& [m, k] : {std::pair<std::int64_t, std::int64_t>{3, 7}, {20, 5}, {1, 40}, {5, 0}}) {
    for (std::int64_t n = 1; n <= 17; ++n) {
      INFO("m " << m << " k " << k << " n " << n << " A^T " << a_transposed << " B^T " << b_transposed
                << " bias " << with_bias);
      // Each operand is a slice of a wider matrix, so its leading dimension exceeds its width.
      const Tensor a = a_transposed ? randn({k, m + 3}, dtype).slice(1, 0, m).t()
                                    : randn({m, k + 2}, dtype).slice(1, 0, k);
      const Tensor b = b_transposed ? randn({n, k + 1}, dtype).slice(1, 0, k).t()
                                    : randn({k, n + 5}, dtype).slice(1, 0, n);
      const Tensor bias = randn({n}, dtype);
      // linear computes x @ w^T + bias: pass b^T as the weight.
      const Tensor c = with_bias ? linear(a, b.t(), bias) : matmul(a, b);
      const V va = values(a.contiguous()), vb = values(b.contiguous()), vbias = values(bias);
      V want(static_cast<std::size_t>(m * n));
      for (std::int64_t i = 0; i < m; ++i) {
        for (std::int64_t j = 0; j < n; ++j) {
          double sum = with_bias ? vbias[static_cast<std::size_t>(j)] : 0.0;
          for (std::int64_t q = 0; q < k; ++q) {
            sum += va[static_cast<std::size_t>(i * k + q)] * vb[static_cast<std::size_t>(q * n + j)];
          }
          want[static_cast<std::size_t>(i * n + j)] = sum;
        }
      }
      REQUIRE(c.shape() == Shape{m, n});
      check_close(values(c), want, tol);
    }
  }
}

TEST_CASE("a 200x300x100 float64 product matches a naive reference", "[ops]") {
  manual_seed(11);
  const Tensor a = rand({200, 300}, kFloat64), b = rand({300, 100}, kFloat64);
  const V va = values(a), vb = values(b), vc = values(matmul(a, b));
  double worst = 0;
  for (int i = 0; i < 200; ++i) {
    for (int j = 0; j < 100; ++j) {
      double s = 0;
      for (int k = 0; k < 300; ++k) s += va[static_cast<std::size_t>(i * 300 + k)] * vb[static_cast<std::size_t>(k * 100 + j)];
      worst = std::max(worst, std::abs(s - vc[static_cast<std::size_t>(i * 100 + j)]) / std::abs(s));
    }
  }
  CHECK(worst < 1e-13);
}
