// Autograd: gradcheck (finite differences in float64) for every differentiable op, broadcasting
// included, plus accumulation, detach, NoGradGuard, retain_graph and in-place detection.
#include <functional>

#include "catch.h"
#include "gradcheck_support.h"
#include <ember/ember.h>

using namespace ember;
using Catch::Matchers::ContainsSubstring;
using Fn = std::function<Tensor(const std::vector<Tensor>&)>;

namespace {
Tensor input(const Shape& shape, double low = -1.0, double high = 1.0) {
  return uniform(shape, low, high, kFloat64).requires_grad_();
}

using test::check_grad;
}  // namespace

TEST_CASE("gradcheck: element-wise arithmetic with broadcasting", "[autograd]") {
  manual_seed(1);
  const Tensor a = input({3, 4}), b = input({4}), c = input({3, 1});
  const Tensor positive = input({3, 4}, 0.5, 2.0), positive_b = input({1, 4}, 0.5, 2.0);
  check_grad([](auto& x) { return x[0] + x[1]; }, {a, b});
  check_grad([](auto& x) { return x[0] - x[1]; }, {a, c});
  check_grad([](auto& x) { return x[0] * x[1]; }, {a, b});
  check_grad([](auto& x) { return x[0] / x[1]; }, {a, positive_b});
  check_grad([](auto& x) { return pow(x[0], x[1]); }, {positive, c});
  check_grad([](auto& x) { return pow(x[0], 3.0); }, {a});
  check_grad([](auto& x) { return pow(x[0], -1.5); }, {positive});
  check_grad([](auto& x) { return maximum(x[0], x[1]); }, {a, b});
  check_grad([](auto& x) { return minimum(x[0], x[1]); }, {a, c});
  check_grad([](auto& x) { return x[0] * x[0]; }, {a});  // one tensor used twice
}

TEST_CASE("gradcheck: scalar operands", "[autograd]") {
  manual_seed(2);
  const Tensor a = input({2, 3}, 0.5, 2.0);
  check_grad([](auto& x) { return x[0] + 2.0; }, {a});
  check_grad([](auto& x) { return 2.0 - x[0]; }, {a});
  check_grad([](auto& x) { return x[0] - 2.0; }, {a});
  check_grad([](auto& x) { return x[0] * 3.0; }, {a});
  check_grad([](auto& x) { return 3.0 * x[0]; }, {a});
  check_grad([](auto& x) { return x[0] / 4.0; }, {a});
  check_grad([](auto& x) { return 4.0 / x[0]; }, {a});
  check_grad([](auto& x) { return -x[0]; }, {a});
}

TEST_CASE("gradcheck: element-wise functions", "[autograd]") {
  manual_seed(3);
  const Tensor a = input({3, 5}, -2.0, 2.0), positive = input({3, 5}, 0.5, 3.0);
  check_grad([](auto& x) { return exp(x[0]); }, {a});
  check_grad([](auto& x) { return log(x[0]); }, {positive});
  check_grad([](auto& x) { return sqrt(x[0]); }, {positive});
  check_grad([](auto& x) { return abs(x[0]); }, {a});
  check_grad([](auto& x) { return relu(x[0]); }, {a});
  check_grad([](auto& x) { return tanh(x[0]); }, {a});
  check_grad([](auto& x) { return sigmoid(x[0]); }, {a});
}

TEST_CASE("gradcheck: reductions", "[autograd]") {
  manual_seed(4);
  const Tensor a = input({3, 4, 2});
  check_grad([](auto& x) { return x[0].sum(); }, {a});
  check_grad([](auto& x) { return x[0].sum(1); }, {a});
  check_grad([](auto& x) { return x[0].sum(-1, true); }, {a});
  check_grad([](auto& x) { return x[0].mean(); }, {a});
  check_grad([](auto& x) { return x[0].mean(0); }, {a});
  check_grad([](auto& x) { return x[0].max(); }, {a});
  check_grad([](auto& x) { return x[0].max(1); }, {a});
  check_grad([](auto& x) { return x[0].max(2, true); }, {a});
}

TEST_CASE("gradcheck: matmul in every shape combination, linear (plain and with relu) and mse_loss", "[autograd]") {
  manual_seed(5);
  check_grad([](auto& x) { return matmul(x[0], x[1]); }, {input({3, 4}), input({4, 2})});
  check_grad([](auto& x) { return matmul(x[0], x[1]); }, {input({4}), input({4})});
  check_grad([](auto& x) { return matmul(x[0], x[1]); }, {input({4}), input({4, 2})});
  check_grad([](auto& x) { return matmul(x[0], x[1]); }, {input({3, 4}), input({4})});
  check_grad([](auto& x) { return matmul(x[0], x[1]); }, {input({2, 3, 4}), input({2, 4, 5})});
  check_grad([](auto& x) { return matmul(x[0], x[1]); }, {input({2, 3, 4}), input({4, 5})});
  check_grad([](auto& x) { return matmul(x[0], x[1]); }, {input({2, 1, 3, 4}), input({3, 4, 2})});
  check_grad([](auto& x) { return matmul(x[0].t(), x[1]); }, {input({4, 3}), input({4, 2})});
  check_grad([](auto& x) { return linear(x[0], x[1], x[2]); }, {input({5, 3}), input({2, 3}), input({2})});
  check_grad([](auto& x) { return linear(x[0], x[1]); }, {input({2, 5, 3}), input({2, 3})});
  check_grad([](auto& x) { return linear(x[0], x[1], x[2]); }, {input({3}), input({2, 3}), input({2})});
  check_grad([](auto& x) { return linear(x[0], x[1], x[2], Activation::Relu); }, {input({5, 3}), input({4, 3}), input({4})});
  check_grad([](auto& x) { return linear(x[0], x[1], Tensor(), Activation::Relu); }, {input({2, 5, 3}), input({4, 3})});
  check_grad([](auto& x) { return mse_loss(x[0], x[1]); }, {input({4, 3}), input({4, 3})});
  check_grad([](auto& x) { return mse_loss(x[0], x[1], Reduction::Sum); }, {input({4, 3}), input({4, 3})});
  check_grad([](auto& x) { return mse_loss(x[0], x[1], Reduction::None); }, {input({4, 3}), input({4, 3})});
}

TEST_CASE("gradcheck: views and copies", "[autograd]") {
  manual_seed(6);
  const Tensor a = input({2, 3, 4});
  check_grad([](auto& x) { return x[0].reshape({6, 4}) * 2.0; }, {a});
  check_grad([](auto& x) { return x[0].view({4, 6}); }, {a});
  check_grad([](auto& x) { return x[0].transpose(0, 2); }, {a});
  check_grad([](auto& x) { return x[0].permute({1, 2, 0}); }, {a});
  check_grad([](auto& x) { return x[0].unsqueeze(1).squeeze(1); }, {a});
  check_grad([](auto& x) { return x[0].slice(2, 1, 4, 2); }, {a});
  check_grad([](auto& x) { return x[0].select(1, -1); }, {a});
  check_grad([](auto& x) { return x[0][1]; }, {a});
  check_grad([](auto& x) { return x[0].transpose(1, 2).contiguous(); }, {a});
  check_grad([](auto& x) { return x[0].clone(); }, {a});
  check_grad([](auto& x) { return x[0].flatten(); }, {a});
  check_grad([](auto& x) { return x[0].sum(0, true).expand({3, 3, 4}); }, {a});
}

TEST_CASE("gradients cross dtype conversions back to the input's dtype", "[autograd]") {
  Tensor x = tensor({1, 2}, {2}, kFloat64).requires_grad_();
  (x.to(kFloat32) * 3.0).sum().backward();
  CHECK(x.grad().dtype() == kFloat64);
  CHECK(x.grad().to_vector<double>() == std::vector<double>{3, 3});
}

TEST_CASE("gradients accumulate across backward calls and flow through shared inputs", "[autograd]") {
  Tensor w = tensor({1, 2, 3}).requires_grad_();
  (w * 2.0).sum().backward();
  CHECK(w.grad().to_vector<float>() == std::vector<float>{2, 2, 2});
  (w * w).sum().backward();  // d/dw sum(w^2) = 2w, added to the previous 2
  CHECK(w.grad().to_vector<float>() == std::vector<float>{4, 6, 8});
  w.set_grad(Tensor());
  const Tensor y = w * 3.0;
  (y + y).sum().backward();  // y reaches the loss twice
  CHECK(w.grad().to_vector<float>() == std::vector<float>{6, 6, 6});
}

TEST_CASE("backward with an explicit gradient for a non-scalar output", "[autograd]") {
  Tensor x = tensor({1, 2}).requires_grad_();
  (x * x).backward(tensor({1, 10}));
  CHECK(x.grad().to_vector<float>() == std::vector<float>{2, 40});
}

TEST_CASE("detach and NoGradGuard cut the graph", "[autograd]") {
  Tensor x = tensor({1, 2}).requires_grad_();
  CHECK_FALSE(x.detach().requires_grad());
  CHECK((x * 2.0).requires_grad());
  {
    NoGradGuard guard;
    CHECK_FALSE((x * 2.0).requires_grad());
  }
  CHECK((x * 2.0).requires_grad());
  const Tensor y = x.detach() * x;
  y.sum().backward();
  CHECK(x.grad().to_vector<float>() == std::vector<float>{1, 2});  // only the non-detached factor
}

TEST_CASE("a graph is freed after backward unless retain_graph", "[autograd]") {
  Tensor x = tensor({1, 2}).requires_grad_();
  const Tensor loss = (x.exp()).sum();
  loss.backward(Tensor(), /*retain_graph=*/true);
  loss.backward();
  CHECK(x.grad().to_vector<double>()[0] == Approx(2 * std::exp(1.0)));
  CHECK_THROWS_WITH(loss.backward(), ContainsSubstring("second time"));
}

TEST_CASE("modifying a tensor that backward needs is detected", "[autograd][errors]") {
  Tensor x = tensor({1, 2}).requires_grad_();
  Tensor y = x * 2.0;
  const Tensor z = (y * y).sum();
  y.fill_(0.0);
  CHECK_THROWS_WITH(z.backward(), ContainsSubstring("modified in place"));
  CHECK_THROWS_WITH(x.fill_(1.0), ContainsSubstring("leaf"));
}

// linear hands its operands to the GEMM without views: leading dims folded into rows, the weight
// read transposed, a contiguous copy where neither works. Each layout, with finite differences.
TEST_CASE("gradcheck: linear on strided, batched, unfoldable and empty operands", "[autograd]") {
  manual_seed(4);
  const Tensor w = input({3, 4}), b = input({3});
  const auto linear_of = [](std::function<Tensor(const Tensor&)> view_x, std::function<Tensor(const Tensor&)> view_w) {
    return [=](auto& v) { return linear(view_x(v[0]), view_w(v[1]), v[2]); };
  };
  const auto same = [](const Tensor& t) { return t; };
  SECTION("a transposed input (rows with stride 1)") {
    check_grad(linear_of([](const Tensor& x) { return x.t(); }, same), {input({4, 5}), w, b});
  }
  SECTION("a batched input, and one with a size-1 leading dim") {
    check_grad(linear_of(same, same), {input({2, 3, 4}), w, b});
    check_grad(linear_of(same, same), {input({1, 5, 4}), w, b});
  }
  SECTION("leading dims that do not fold into one stride: copied") {
    check_grad(linear_of([](const Tensor& x) { return x.permute({1, 0, 2}); }, same), {input({3, 2, 4}), w, b});
  }
  SECTION("a column slice of a wider input, and a 1-D input") {
    check_grad(linear_of([](const Tensor& x) { return x.slice(1, 1, 5); }, same), {input({5, 7}), w, b});
    check_grad(linear_of(same, same), {input({4}), w, b});
  }
  SECTION("a transposed weight, and one with no unit stride: copied") {
    check_grad(linear_of(same, [](const Tensor& t) { return t.t(); }), {input({5, 4}), input({4, 3}), b});
    check_grad(linear_of(same, [](const Tensor& t) { return t.slice(0, 0, 6, 2).slice(1, 0, 8, 2); }),
                    {input({5, 4}), input({6, 8}), b});
  }
  SECTION("no input features, and no rows") {
    // in = 0: the output is the bias in every row; its gradient sums the rows of g.
    const Tensor x0 = zeros({5, 0}, kFloat64).requires_grad_(), w0 = zeros({3, 0}, kFloat64).requires_grad_();
    const Tensor b0 = tensor({1, 2, 3}, {3}, kFloat64).requires_grad_();
    const Tensor out = linear(x0, w0, b0);
    CHECK(out.to_vector<double>() == std::vector<double>{1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3});
    (out * arange(15, kFloat64).reshape({5, 3})).sum().backward();
    CHECK(b0.grad().to_vector<double>() == std::vector<double>{30, 35, 40});
    CHECK(w0.grad().shape() == Shape{3, 0});
    // No rows: empty output, zero gradients.
    const Tensor w1 = input({3, 4}), b1 = input({3});
    linear(zeros({0, 4}, kFloat64), w1, b1).sum().backward();
    CHECK(w1.grad().to_vector<double>() == std::vector<double>(12, 0.0));
    CHECK(b1.grad().to_vector<double>() == std::vector<double>(3, 0.0));
  }
}

TEST_CASE("linear's bias gradient is summed as accurately as sum() over many rows", "[autograd]") {
  // 100,000 rows of gradient 0.1f: a float32 running sum would drift by ~1e-3 relative; the bias
  // gradient (from the weight-gradient GEMM's row sums) accumulates in double like every sum.
  const Tensor x = ones({100000, 1});
  const Tensor w = ones({1, 1}).requires_grad_();
  const Tensor b = zeros({1}).requires_grad_();
  (linear(x, w, b) * 0.1).sum().backward();
  const double expected = 100000.0 * static_cast<double>(0.1f);
  CHECK(b.grad().item<double>() == Approx(expected).epsilon(1e-7));
}

TEST_CASE("mse_loss gives its gradient from the forward pass, scaled by any upstream gradient", "[autograd]") {
  // Differences 1, 2, 2, 3: sum of squares 18, mean 4.5; d(mean)/dinput = 2/4 (input - target).
  const auto make = [] {
    return std::pair{tensor({1, 2, 3, 4}, {2, 2}, kFloat64).requires_grad_(),
                     tensor({0, 0, 1, 1}, {2, 2}, kFloat64).requires_grad_()};
  };
  const std::vector<double> at_one{0.5, 1.0, 1.0, 1.5};
  SECTION("as the root of backward(): the implicit gradient 1") {
    auto [x, y] = make();
    const Tensor loss = mse_loss(x, y);
    CHECK(loss.item<double>() == 4.5);
    loss.backward();
    CHECK(x.grad().to_vector<double>() == at_one);
    CHECK(y.grad().to_vector<double>() == std::vector<double>{-0.5, -1.0, -1.0, -1.5});
  }
  SECTION("inside a larger expression, and with an explicit gradient") {
    auto [x, y] = make();
    (mse_loss(x, y) * 3.0).backward();
    CHECK(x.grad().to_vector<double>() == std::vector<double>{1.5, 3.0, 3.0, 4.5});
    auto [x2, y2] = make();
    mse_loss(x2, y2).backward(full({}, -2.0, kFloat64));
    CHECK(x2.grad().to_vector<double>() == std::vector<double>{-1.0, -2.0, -2.0, -3.0});
  }
  SECTION("sum reduction, a transposed input and a broadcast target") {
    // x^T = [[1, 3], [2, 4]] against rows of [1, 2]: differences 0, 1, 1, 2.
    const Tensor x = tensor({1, 2, 3, 4}, {2, 2}, kFloat64).requires_grad_();
    const Tensor target = tensor({1, 2}, {1, 2}, kFloat64).expand({2, 2});
    const Tensor loss = mse_loss(x.t(), target, Reduction::Sum);
    CHECK(loss.item<double>() == 6.0);
    loss.backward();
    CHECK(x.grad().to_vector<double>() == std::vector<double>{0.0, 2.0, 2.0, 4.0});  // 2 d, transposed back
  }
  SECTION("the loss can be backpropagated twice with retain_graph") {
    auto [x, y] = make();
    const Tensor loss = mse_loss(x, y);
    loss.backward({}, /*retain_graph=*/true);
    loss.backward();
    CHECK(x.grad().to_vector<double>() == std::vector<double>{1.0, 2.0, 2.0, 3.0});
  }
}
