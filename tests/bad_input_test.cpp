// Bad input, table-driven: each row is a call and the substrings its ember::Error message must
// contain (op name, shapes, dtypes, devices), so that messages stay actionable. Also tables of what
// must WORK at the edges: empty tensors, non-contiguous views (same results as contiguous copies),
// NaN and Inf flowing through ops, losses and backward.
#include <cmath>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "catch.h"
#include <ember/ember.h>

using namespace ember;

namespace {

struct BadCall {
  const char* what;
  std::function<void()> call;
  std::vector<std::string> expected;  // substrings of the ember::Error message
};

// A call whose result is discarded; mutable so that in-place members work on the captured copy
// (a Tensor is a handle: the copy refers to the same data).
#define CALL(expr) [=]() mutable { (void)(expr); }

void check_bad_calls(const std::vector<BadCall>& table) {
  for (const BadCall& row : table) {
    INFO("call: " << row.what);
    std::string message;
    bool threw_error = false;
    try {
      row.call();
    } catch (const Error& e) {
      threw_error = true;
      message = e.what();
    } catch (const std::exception& e) {
      FAIL_CHECK("threw a " << typeid(e).name() << " that is not an ember::Error: " << e.what());
      continue;
    }
    CHECK(threw_error);
    INFO("message: " << message);
    for (const std::string& part : row.expected) {
      INFO("expected substring: " << part);
      CHECK(message.find(part) != std::string::npos);
    }
  }
}

std::vector<double> values(const Tensor& t) { return t.to_vector<double>(); }

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

}  // namespace

TEST_CASE("binary ops reject non-broadcastable shapes, mixed dtypes and undefined tensors", "[bad-input]") {
  const Tensor a = ones({2, 3}), b = ones({4}), d = ones({2, 3}, kFloat64), u;
  const Tensor a3 = ones({3});
  check_bad_calls({
      // Mismatched shapes: the op and both shapes.
      {"add shapes", CALL(add(a, b)), {"add", "[2, 3]", "[4]", "cannot be broadcast"}},
      {"sub shapes", CALL(sub(a, b)), {"sub", "[2, 3]", "[4]"}},
      {"mul shapes", CALL(mul(a, b)), {"mul", "[2, 3]", "[4]"}},
      {"div shapes", CALL(div(a, b)), {"div", "[2, 3]", "[4]"}},
      {"pow shapes", CALL(pow(a, b)), {"pow", "[2, 3]", "[4]"}},
      {"maximum shapes", CALL(maximum(a, b)), {"maximum", "[2, 3]", "[4]"}},
      {"minimum shapes", CALL(minimum(a, b)), {"minimum", "[2, 3]", "[4]"}},
      {"operator+ shapes", CALL(a + ones({3, 2})), {"add", "[2, 3]", "[3, 2]"}},
      {"matmul shapes", CALL(matmul(a, ones({2, 3}))), {"matmul", "[2, 3]", "cannot be multiplied"}},
      {"matmul 1-D shapes", CALL(matmul(ones({3}), ones({4}))), {"matmul", "[3]", "[4]"}},
      {"matmul matrix-vector shapes", CALL(matmul(a, ones({2}))), {"matmul", "[2, 3]", "[2]"}},
      {"matmul batch dims", CALL(matmul(ones({2, 3, 4}), ones({3, 4, 5}))),
       {"matmul", "[2, 3, 4]", "[3, 4, 5]"}},
      {"matmul 0-d", CALL(matmul(scalar_tensor(1.0), a)), {"matmul", "at least 1 dim"}},
      {"linear shapes", CALL(linear(a, ones({4, 5}))), {"linear", "[2, 3]", "[4, 5]"}},
      {"linear 1-D weight", CALL(linear(a, a3)), {"linear", "[2, 3]", "[3]"}},
      {"linear bias shape", CALL(linear(a, ones({4, 3}), ones({5}))), {"linear", "bias", "[5]", "[4, 3]"}},
      {"mse_loss shapes", CALL(mse_loss(a, a3)), {"mse_loss", "[2, 3]", "[3]"}},
      {"mse_loss shapes, sum", CALL(mse_loss(a, a3, Reduction::Sum)), {"mse_loss", "[2, 3]", "[3]"}},
      {"mse_loss shapes, none", CALL(mse_loss(a, a3, Reduction::None)), {"mse_loss", "[2, 3]", "[3]"}},
      {"copy_ shapes", CALL(zeros({3}).copy_(ones({2, 3}))), {"copy_", "[2, 3]", "[3]"}},

      // Mismatched dtypes: the op and both dtypes.
      {"add dtypes", CALL(add(a, d)), {"add", "float32", "float64"}},
      {"sub dtypes", CALL(sub(a, d)), {"sub", "float32", "float64"}},
      {"mul dtypes", CALL(mul(a, d)), {"mul", "float32", "float64"}},
      {"div dtypes", CALL(div(a, d)), {"div", "float32", "float64"}},
      {"pow dtypes", CALL(pow(a, d)), {"pow", "float32", "float64"}},
      {"maximum dtypes", CALL(maximum(a, d)), {"maximum", "float32", "float64"}},
      {"minimum dtypes", CALL(minimum(a, d)), {"minimum", "float32", "float64"}},
      {"matmul dtypes", CALL(matmul(a, ones({3, 2}, kFloat64))), {"matmul", "float32", "float64"}},
      {"matmul 1-D dtypes", CALL(matmul(a3, ones({3}, kFloat64))), {"matmul", "float32", "float64"}},
      {"linear weight dtype", CALL(linear(a, ones({4, 3}, kFloat64))), {"linear", "float32", "float64"}},
      {"linear bias dtype", CALL(linear(a, ones({4, 3}), ones({4}, kFloat64))), {"linear", "float32", "float64"}},
      {"mse_loss dtypes", CALL(mse_loss(a, d)), {"mse_loss", "float32", "float64"}},
      {"mse_loss dtypes, none", CALL(mse_loss(a, d, Reduction::None)), {"mse_loss", "float32", "float64"}},

      // Undefined operands.
      {"add undefined", CALL(add(a, u)), {"add", "undefined"}},
      {"sub undefined", CALL(sub(u, a)), {"sub", "undefined"}},
      {"mul undefined", CALL(mul(a, u)), {"mul", "undefined"}},
      {"div undefined", CALL(div(u, a)), {"div", "undefined"}},
      {"pow undefined", CALL(pow(a, u)), {"pow", "undefined"}},
      {"maximum undefined", CALL(maximum(u, a)), {"maximum", "undefined"}},
      {"minimum undefined", CALL(minimum(a, u)), {"minimum", "undefined"}},
      {"matmul undefined", CALL(matmul(a, u)), {"matmul", "undefined"}},
      {"linear undefined input", CALL(linear(u, ones({4, 3}))), {"linear", "undefined"}},
      {"linear undefined weight", CALL(linear(a, u)), {"linear", "undefined"}},
      {"mse_loss undefined", CALL(mse_loss(a, u)), {"mse_loss", "undefined"}},
      {"mse_loss undefined, none", CALL(mse_loss(u, a, Reduction::None)), {"mse_loss", "undefined"}},
      {"copy_ from undefined", CALL(zeros({2}).copy_(u)), {"copy_", "undefined"}},
      {"unary on undefined", CALL(exp(u)), {"undefined"}},
      {"sum of undefined", CALL(u.sum()), {"undefined"}},
  });
}

TEST_CASE("convolution rejects bad shapes, naming them, and nothing changes", "[bad-input]") {
  manual_seed(1);
  nn::Conv2d conv(3, 8, 3, {.padding = 1});
  const std::vector<float> weight_before = conv->weight.to_vector<float>();
  const Tensor w = conv->weight, x = ones({2, 3, 5, 5}), x1 = ones({2, 3, 7});
  const Tensor input = ones({2, 3, 5, 5}).requires_grad_();
  check_bad_calls({
      {"conv2d wrong channel count", CALL(conv(ones({2, 4, 5, 5}))),
       {"conv2d", "expected input with 3 channels", "[2, 4, 5, 5]", "with 4 channels", "[8, 3, 3, 3]"}},
      {"conv2d unbatched wrong channel count", CALL(conv(ones({1, 5, 5}))),
       {"conv2d", "expected input with 3 channels", "[1, 5, 5]", "with 1 channels"}},
      {"conv2d kernel larger than the padded input", CALL(conv2d(ones({2, 3, 2, 2}), w)),
       {"conv2d", "larger than the padded input", "[2, 3, 2, 2]", "[8, 3, 3, 3]"}},
      {"conv2d dilated kernel larger than the padded input", CALL(conv2d(x, w, {}, {.padding = 1, .dilation = 4})),
       {"conv2d", "larger than the padded input", "dilation 4 x 4"}},
      {"conv2d of a 2-D input", CALL(conv(ones({5, 5}))), {"conv2d", "3-D (unbatched) or 4-D (batched)", "[5, 5]"}},
      {"conv2d of a 5-D input", CALL(conv2d(ones({1, 2, 3, 5, 5}), w)), {"conv2d", "4-D", "[1, 2, 3, 5, 5]"}},
      {"conv2d 3-D weight", CALL(conv2d(x, ones({8, 3, 3}))), {"conv2d", "weight must be 4-D", "[8, 3, 3]"}},
      {"conv2d groups not dividing the channels", CALL(conv2d(x, ones({8, 1, 3, 3}), {}, {.groups = 2})),
       {"conv2d", "3 channels", "not divisible by groups=2"}},
      {"conv2d bias shape", CALL(conv2d(x, w, ones({3}))), {"conv2d", "bias must have shape [8]", "[3]"}},
      {"conv2d dtypes", CALL(conv2d(x.to(kFloat64), w)), {"conv2d", "float64", "float32"}},
      {"conv2d bias dtype", CALL(conv2d(x, w, ones({8}, kFloat64))), {"conv2d", "bias", "float64"}},
      {"conv2d int64", CALL(conv2d(x.to(kInt64), w.to(kInt64))), {"conv2d", "int64"}},
      {"conv2d same with stride", CALL(conv2d(x, w, {}, {.stride = 2, .padding = kSame})), {"padding=same", "stride 1"}},
      {"conv2d undefined weight", CALL(conv2d(x, Tensor())), {"conv2d", "defined"}},
      {"conv1d wrong channel count", CALL(conv1d(x1, ones({4, 2, 3}))),
       {"conv1d", "expected input with 2 channels", "[2, 3, 7]"}},
      {"conv1d of a 4-D input", CALL(conv1d(x, ones({4, 3, 3}))), {"conv1d", "2-D (unbatched) or 3-D", "[2, 3, 5, 5]"}},
      {"conv1d kernel larger than the input", CALL(conv1d(x1, ones({4, 3, 9}))), {"conv1d", "larger than the padded input"}},
      {"nn::Conv2d groups", CALL(nn::Conv2d(3, 6, 3, {.groups = 2})), {"Conv2d", "in_channels (3)", "groups (2)"}},
  });
  // Nothing changed: the weights, and no gradient anywhere.
  CHECK(conv->weight.to_vector<float>() == weight_before);
  CHECK_FALSE(conv->weight.grad().defined());
  CHECK_THROWS_AS(conv2d(input, w, {}, {.padding = 5, .dilation = 9}), Error);
  CHECK_FALSE(input.grad().defined());
  CHECK(conv(input).shape() == Shape{2, 8, 5, 5});  // and the module still works
}

TEST_CASE("classification losses reject bad targets, naming them, and nothing changes", "[bad-input]") {
  const Tensor logits = zeros({2, 3}, kFloat64).requires_grad_();
  const Tensor ok = tensor({0, 2}).to(kInt64);
  check_bad_calls({
      {"nll_loss class index out of range", CALL(nll_loss(log_softmax(logits, 1), tensor({0, 3}).to(kInt64))),
       {"nll_loss", "target 3", "0 to 2"}},
      {"cross_entropy class index out of range", CALL(cross_entropy(logits, tensor({-1, 0}).to(kInt64))),
       {"target -1"}},
      {"nll_loss float targets", CALL(nll_loss(log_softmax(logits, 1), tensor({0, 2}))),
       {"nll_loss", "int64", "float32"}},
      {"cross_entropy float targets of the index shape", CALL(cross_entropy(logits, tensor({0, 2}))),
       {"cross_entropy", "[2, 3]", "[2]"}},
      {"nll_loss target shape", CALL(nll_loss(log_softmax(logits, 1), tensor({0, 1, 2}).to(kInt64))),
       {"nll_loss", "[2, 3]", "[2]", "[3]"}},
  });
  CHECK_FALSE(logits.grad().defined());
  CHECK(cross_entropy(logits, ok).item<double>() == Catch::Approx(std::log(3.0)));  // and still works
}

TEST_CASE("reductions and views reject out-of-range dims, indices and shapes", "[bad-input]") {
  const Tensor a = ones({2, 3});
  check_bad_calls({
      {"sum dim", CALL(a.sum(2)), {"sum", "dim 2", "2 dims", "[-2, 1]"}},
      {"sum negative dim", CALL(a.sum(-3)), {"sum", "dim -3"}},
      {"mean dim", CALL(a.mean(5)), {"mean", "dim 5"}},
      {"max dim", CALL(a.max(-4, true)), {"max", "dim -4"}},
      {"size dim", CALL(a.size(2)), {"size", "dim 2"}},
      {"transpose dim", CALL(a.transpose(0, 2)), {"transpose", "dim 2"}},
      {"t of 3-D", CALL(ones({2, 3, 4}).t()), {"t", "[2, 3, 4]"}},
      {"permute repeated dims", CALL(a.permute({0, 0})), {"permute", "dim 0 appears twice", "[0, 0]"}},
      {"permute repeated negative dims", CALL(a.permute({1, -1})), {"permute", "dim 1 appears twice"}},
      {"permute wrong count", CALL(a.permute({0})), {"permute", "[0]", "2 dims"}},
      {"permute dim", CALL(a.permute({0, 2})), {"permute", "dim 2"}},
      {"unsqueeze dim", CALL(a.unsqueeze(3)), {"unsqueeze", "dim 3", "3 dims"}},
      {"unsqueeze negative dim", CALL(a.unsqueeze(-4)), {"unsqueeze", "dim -4"}},
      {"squeeze dim", CALL(a.squeeze(2)), {"squeeze", "dim 2"}},
      {"select index", CALL(a.select(0, 2)), {"select", "index 2", "size 2", "[2, 3]"}},
      {"select negative index", CALL(a.select(1, -4)), {"select", "index -4", "size 3"}},
      {"select dim", CALL(a.select(2, 0)), {"select", "dim 2"}},
      {"operator[] index", CALL(a[5]), {"select", "index 5"}},
      {"select of 0-d", CALL(scalar_tensor(1.0).select(0, 0)), {"select", "0-d"}},
      {"slice step 0", CALL(a.slice(1, 0, 3, 0)), {"slice", "step", "0"}},
      {"slice negative step", CALL(a.slice(1, 0, 3, -1)), {"slice", "step", "-1"}},
      {"slice dim", CALL(a.slice(2, 0, 1)), {"slice", "dim 2"}},
      {"slice of 0-d", CALL(scalar_tensor(1.0).slice(0, 0, 1)), {"slice", "0-d"}},
      {"reshape numel", CALL(a.reshape({4, 2})), {"reshape", "[4, 2]", "[2, 3]", "6 elements"}},
      {"reshape two -1", CALL(a.reshape({-1, -1})), {"reshape", "only one dim can be -1"}},
      {"reshape -1 that does not divide", CALL(a.reshape({-1, 4})), {"reshape", "[-1, 4]", "[2, 3]"}},
      {"reshape negative size", CALL(a.reshape({-2, -3})), {"reshape", "invalid size -2"}},
      {"view numel", CALL(a.view({7})), {"view", "[7]", "[2, 3]"}},
      {"view of a transposed tensor", CALL(a.t().view({6})),
       {"view", "[3, 2]", "[1, 3]", "cannot be viewed as [6]", "reshape"}},
      {"view of a narrowed slice", CALL(ones({4, 4}).slice(1, 0, 3).view({12})),
       {"view", "[4, 3]", "[4, 1]", "cannot be viewed as [12]"}},
      {"expand incompatible", CALL(a.expand({4, 3})), {"expand", "[2, 3]", "[4, 3]", "dim 0: 2 to 4"}},
      {"expand fewer dims", CALL(a.expand({3})), {"expand", "[2, 3]", "[3]", "fewer dims"}},
      {"expand negative size", CALL(ones({1}).expand({-2})), {"expand", "-2"}},
      {"expand -1 in a new leading dim", CALL(ones({3}).expand({-1, 3})), {"expand", "-1"}},
      {"copy_ to an incompatible shape", CALL(zeros({2}).copy_(ones({3}))), {"copy_", "[2]", "[3]"}},
      {"uniform low > high", CALL(uniform({2}, 1.0, 0.0)), {"uniform", "low"}},
      {"arange step 0", CALL(arange(0, 1, 0)), {"arange", "step=0"}},
      {"arange wrong direction", CALL(arange(0, 5, -1)), {"arange", "away from end"}},
  });
}

TEST_CASE("pooling rejects bad shapes, windows and dtypes, naming them", "[bad-input][pool]") {
  const Tensor x = ones({1, 2, 4, 4}), u;
  check_bad_calls({
      {"max_pool2d 2-D input", CALL(max_pool2d(ones({4, 4}), 2)), {"max_pool2d", "3-D", "4-D", "[4, 4]"}},
      {"max_pool2d 5-D input", CALL(max_pool2d(ones({1, 1, 1, 4, 4}), 2)), {"max_pool2d", "[1, 1, 1, 4, 4]"}},
      {"avg_pool2d 1-D input", CALL(avg_pool2d(ones({4}), 2)), {"avg_pool2d", "3-D", "4-D", "[4]"}},
      {"adaptive 2-D input", CALL(adaptive_avg_pool2d(ones({4, 4}), 2)), {"adaptive_avg_pool2d", "3-D", "[4, 4]"}},
      {"max_pool2d empty channel dim", CALL(max_pool2d(ones({1, 0, 4, 4}), 2)),
       {"max_pool2d", "[1, 0, 4, 4]", "empty dim 1", "only the batch dim"}},
      {"avg_pool2d empty plane", CALL(avg_pool2d(ones({2, 3, 0}), 1)), {"avg_pool2d", "[2, 3, 0]", "empty dim 2"}},
      {"adaptive empty plane", CALL(adaptive_avg_pool2d(ones({1, 1, 0, 4}), 1)), {"adaptive_avg_pool2d", "empty dim 2"}},
      {"kernel larger than the input", CALL(max_pool2d(ones({1, 1, 2, 2}), 3)),
       {"max_pool2d", "[1, 1, 2, 2]", "too small", "kernel_size [3, 3]", "0 x 0"}},
      {"dilated kernel larger than the padded input", CALL(max_pool2d(x, 2, {.padding = 1, .dilation = 6})),
       {"max_pool2d", "too small", "dilation [6, 6]", "padding [1, 1]"}},
      {"avg kernel larger than the input", CALL(avg_pool2d(x, {5, 1})), {"avg_pool2d", "too small", "[5, 1]"}},
      {"padding more than half the kernel", CALL(max_pool2d(x, 3, {.padding = 2})),
       {"max_pool2d", "padding [2, 2]", "half", "kernel_size [3, 3]"}},
      {"avg padding more than half the kernel", CALL(avg_pool2d(x, {2, 4}, {.padding = {0, 3}})),
       {"avg_pool2d", "padding [0, 3]", "[2, 4]"}},
      {"negative padding", CALL(max_pool2d(x, 2, {.padding = -1})), {"max_pool2d", "padding", "not be negative"}},
      {"zero kernel", CALL(max_pool2d(x, 0)), {"max_pool2d", "kernel_size must be positive", "[0, 0]"}},
      {"negative kernel", CALL(avg_pool2d(x, {2, -1})), {"avg_pool2d", "kernel_size", "[2, -1]"}},
      {"zero stride", CALL(max_pool2d(x, 2, {.stride = {1, 0}})), {"max_pool2d", "stride must be positive", "[1, 0]"}},
      {"avg zero stride", CALL(avg_pool2d(x, 2, {.stride = 0})), {"avg_pool2d", "stride", "[0, 0]"}},
      {"zero dilation", CALL(max_pool2d(x, 2, {.dilation = 0})), {"max_pool2d", "dilation must be positive"}},
      {"divisor_override 0", CALL(avg_pool2d(x, 2, {.divisor_override = 0})), {"avg_pool2d", "divisor_override", "0"}},
      {"adaptive negative size", CALL(adaptive_avg_pool2d(x, {-1, 2})), {"adaptive_avg_pool2d", "output_size", "[-1, 2]"}},
      {"max_pool2d int64", CALL(max_pool2d(ones({1, 1, 2, 2}, kInt64), 2)), {"max_pool2d", "int64", "kFloat32"}},
      {"avg_pool2d bool", CALL(avg_pool2d(ones({1, 1, 2, 2}, kBool), 2)), {"avg_pool2d", "bool"}},
      {"adaptive uint8", CALL(adaptive_avg_pool2d(ones({1, 2, 2}, kUInt8), 1)), {"adaptive_avg_pool2d", "uint8"}},
      {"max_pool2d undefined", CALL(max_pool2d(u, 2)), {"max_pool2d", "undefined"}},
      {"adaptive undefined", CALL(adaptive_avg_pool2d(u, 2)), {"adaptive_avg_pool2d", "undefined"}},
      {"max_pool1d 4-D input", CALL(max_pool1d(x, 2)), {"max_pool1d", "2-D", "3-D", "[1, 2, 4, 4]"}},
      {"avg_pool1d kernel too large", CALL(avg_pool1d(ones({2, 3}), 4)), {"avg_pool1d", "too small"}},
      {"module too small an input", CALL(nn::MaxPool2d(3)(ones({1, 1, 2, 2}))), {"max_pool2d", "too small"}},
  });
}

TEST_CASE("empty tensors: ops that must work give the right results", "[bad-input]") {
  const Tensor e = zeros({0, 3}, kFloat64);
  const Tensor sum_all = ones({2, 0}).sum();
  CHECK(sum_all.dim() == 0);
  CHECK(sum_all.item<double>() == 0.0);
  CHECK(values(ones({2, 0}).sum(1)) == std::vector<double>{0, 0});
  CHECK(values(ones({2, 0}).sum(1, true)) == std::vector<double>{0, 0});
  CHECK(ones({2, 0}).sum(0).shape() == Shape{0});

  const Tensor added = e + ones({3}, kFloat64);
  CHECK(added.shape() == Shape{0, 3});
  CHECK(added.numel() == 0);
  CHECK((e * e).shape() == Shape{0, 3});
  CHECK(exp(e).shape() == Shape{0, 3});
  CHECK((e + ones({1, 1}, kFloat64)).shape() == Shape{0, 3});  // broadcasts, stays empty

  // K = 0: the product is all zeros (the kernel must not leave garbage).
  Tensor k0 = matmul(ones({2, 0}, kFloat64), ones({0, 3}, kFloat64));
  CHECK(k0.shape() == Shape{2, 3});
  CHECK(values(k0) == std::vector<double>(6, 0.0));
  CHECK(values(matmul(empty({4, 0}), empty({0, 2}))) == std::vector<double>(8, 0.0));
  CHECK(matmul(e, ones({3, 5}, kFloat64)).shape() == Shape{0, 5});
  CHECK(matmul(ones({0, 2, 3}), ones({3, 4})).shape() == Shape{0, 2, 4});
  // linear with in_features = 0: the output is the bias (or zeros).
  CHECK(values(linear(ones({2, 0}), ones({3, 0}), tensor({1, 2, 3}))) == std::vector<double>{1, 2, 3, 1, 2, 3});
  CHECK(values(linear(ones({2, 0}), ones({3, 0}))) == std::vector<double>(6, 0.0));

  CHECK(e.reshape({3, 0}).shape() == Shape{3, 0});
  CHECK(e.reshape({0}).shape() == Shape{0});
  CHECK(e.view({3, 0, 5}).shape() == Shape{3, 0, 5});
  CHECK(e.transpose(0, 1).reshape({3, 0}).shape() == Shape{3, 0});
  CHECK(mse_loss(e, e, Reduction::Sum).item<double>() == 0.0);
  const Tensor c = e.clone();
  CHECK(c.shape() == Shape{0, 3});
  CHECK_FALSE(c.is_same(e));
  CHECK(values(c).empty());
  CHECK(e.max(1).shape() == Shape{0});  // reduces a non-empty dim: fine
  CHECK(zeros({0}).to(kFloat64).numel() == 0);
  CHECK(from_vector(std::vector<double>{}).shape() == Shape{0});

  // Backward through empty tensors runs and gives empty gradients.
  Tensor x = zeros({0, 3}).requires_grad_();
  (x * 2.0).sum().backward();
  REQUIRE(x.grad().defined());
  CHECK(x.grad().shape() == Shape{0, 3});

  check_bad_calls({
      {"max of empty", CALL(ones({0}).max()), {"max", "empty", "[0]"}},
      {"max over an empty dim", CALL(ones({2, 0}).max(1)), {"max", "[2, 0]"}},
      {"mean of empty", CALL(ones({0, 3}).mean()), {"mean", "empty", "[0, 3]"}},
      {"mean over an empty dim", CALL(ones({2, 0}).mean(1)), {"mean", "[2, 0]"}},
      {"item of empty", CALL(ones({0}).item<float>()), {"item", "[0]", "0 elements"}},
      {"reshape empty with -1 and 0", CALL(e.reshape({-1, 0})), {"reshape", "[-1, 0]", "[0, 3]"}},
  });
}

TEST_CASE("non-contiguous views give the same results as contiguous copies", "[bad-input]") {
  for (DType dtype : {kFloat64, kFloat32}) {
    // Four layouts of one [4, 3] shape, none contiguous; values are small positive integers so
    // that every result is exact whatever the order of accumulation.
    struct Layout {
      const char* name;
      Tensor t;
    };
    const std::vector<Layout> layouts = {
        {"transposed", arange(1, 13, 1, dtype).reshape({3, 4}).t()},
        {"sliced with step", arange(1, 25, 1, dtype).reshape({4, 6}).slice(1, 0, 6, 2)},
        {"expanded", tensor({1, 2, 3}, {1, 3}, dtype).expand({4, 3})},
        {"selected", arange(1, 25, 1, dtype).reshape({4, 3, 2}).select(2, 1)},
        {"offset and negative-dim slice", arange(1, 31, 1, dtype).reshape({5, 6}).slice(0, 1, 5).slice(-1, 1, 6, 2)},
    };
    using Fn = std::function<Tensor(const Tensor&, const Tensor&)>;
    struct Op {
      const char* name;
      Fn fn;
    };
    const std::vector<Op> ops = {
        {"neg", [](auto& x, auto&) { return -x; }},
        {"exp", [](auto& x, auto&) { return exp(x * 0.25); }},
        {"log", [](auto& x, auto&) { return log(x); }},
        {"sqrt", [](auto& x, auto&) { return sqrt(x); }},
        {"abs", [](auto& x, auto&) { return abs(x - 5.0); }},
        {"relu", [](auto& x, auto&) { return relu(x - 5.0); }},
        {"tanh", [](auto& x, auto&) { return tanh(x * 0.1); }},
        {"sigmoid", [](auto& x, auto&) { return sigmoid(x * 0.1 - 1.0); }},
        {"pow scalar", [](auto& x, auto&) { return pow(x, 2.0); }},
        {"scalar ops", [](auto& x, auto&) { return (2.0 - x) * 3.0 + 4.0 / x - x / 4.0; }},
        {"add", [](auto& x, auto& y) { return add(x, y); }},
        {"sub", [](auto& x, auto& y) { return sub(x, y); }},
        {"mul", [](auto& x, auto& y) { return mul(x, y); }},
        {"div", [](auto& x, auto& y) { return div(x, y); }},
        {"pow", [](auto& x, auto& y) { return pow(x, y * 0.25); }},
        {"maximum", [](auto& x, auto& y) { return maximum(x, y); }},
        {"minimum", [](auto& x, auto& y) { return minimum(x, y); }},
        {"add broadcast row", [](auto& x, auto& y) { return x + y.select(0, 1); }},
        {"mul broadcast column", [](auto& x, auto& y) { return x * y.slice(1, 0, 1); }},
        {"sum", [](auto& x, auto&) { return x.sum(); }},
        {"sum dim 0", [](auto& x, auto&) { return x.sum(0); }},
        {"sum dim 1 keepdim", [](auto& x, auto&) { return x.sum(1, true); }},
        {"mean", [](auto& x, auto&) { return x.mean(); }},
        {"mean dim 0", [](auto& x, auto&) { return x.mean(0); }},
        {"max", [](auto& x, auto&) { return x.max(); }},
        {"max dim 0", [](auto& x, auto&) { return x.max(0); }},
        {"max dim 1", [](auto& x, auto&) { return x.max(-1, true); }},
        {"matmul x @ y^T", [](auto& x, auto& y) { return matmul(x, y.t()); }},
        {"matmul x^T @ y", [](auto& x, auto& y) { return matmul(x.t(), y); }},
        {"matmul matrix-vector", [](auto& x, auto& y) { return matmul(x, y.select(0, 2)); }},
        {"matmul vector-matrix", [](auto& x, auto& y) { return matmul(y.select(1, 1), x); }},
        {"matmul batched", [](auto& x, auto& y) { return matmul(x.unsqueeze(0).expand({2, 4, 3}), y.t()); }},
        {"linear", [](auto& x, auto& y) { return linear(x, y, y.select(1, 2)); }},
        {"linear strided weight", [](auto& x, auto& y) { return linear(x, y.slice(0, 0, 4, 2), y.select(0, 3).slice(0, 1, 3)); }},
        {"linear no bias", [](auto& x, auto& y) { return linear(x, y.slice(0, 1, 3)); }},
        {"mse_loss mean", [](auto& x, auto& y) { return mse_loss(x, y); }},
        {"mse_loss sum", [](auto& x, auto& y) { return mse_loss(x, y, Reduction::Sum); }},
        {"mse_loss none", [](auto& x, auto& y) { return mse_loss(x, y, Reduction::None); }},
        {"clone", [](auto& x, auto&) { return x.clone(); }},
        {"reshape", [](auto& x, auto&) { return x.reshape({2, 6}); }},
        {"flatten", [](auto& x, auto&) { return x.flatten(); }},
        {"to other dtype", [](auto& x, auto&) { return x.to(x.dtype() == kFloat32 ? kFloat64 : kFloat32); }},
    };
    for (const Layout& lx : layouts) {
      REQUIRE_FALSE(lx.t.is_contiguous());
      REQUIRE(lx.t.shape() == Shape{4, 3});
      for (const Layout& ly : layouts) {
        const Tensor x = lx.t, y = ly.t;
        const Tensor xc = x.contiguous(), yc = y.contiguous();
        REQUIRE(xc.is_contiguous());
        for (const Op& op : ops) {
          INFO(dtype << ", " << op.name << "(" << lx.name << ", " << ly.name << ")");
          const Tensor got = op.fn(x, y), want = op.fn(xc, yc);
          CHECK(got.shape() == want.shape());
          CHECK(got.dtype() == want.dtype());
          CHECK(values(got) == values(want));
        }
      }
    }
  }
  // A uniformly strided slice can be viewed flat (one stride of 2), without a copy.
  const Tensor stepped = arange(16, kFloat64).reshape({4, 4}).slice(1, 0, 4, 2);
  CHECK(values(stepped.view({8})) == std::vector<double>{0, 2, 4, 6, 8, 10, 12, 14});
  CHECK(values(stepped.view({2, 4})) == values(stepped.contiguous().view({2, 4})));
  // Gradients through non-contiguous inputs match those through contiguous copies, too.
  const Tensor base = arange(1, 13, 1, kFloat64).reshape({3, 4});
  auto grad_of = [](const Tensor& leaf, const std::function<Tensor(const Tensor&)>& view) {
    Tensor w = leaf.detach().requires_grad_();
    mse_loss(linear(view(w), view(w).slice(0, 0, 2)), zeros({4, 2}, kFloat64)).backward();
    return values(w.grad());
  };
  CHECK(grad_of(base, [](const Tensor& w) { return w.t(); }) ==
        grad_of(base, [](const Tensor& w) { return w.t().contiguous(); }));
}

TEST_CASE("huge shapes and too many dims are refused", "[bad-input]") {
  check_bad_calls({
      {"zeros numel overflows int64", CALL(zeros({1ll << 40, 1ll << 40})), {"[1099511627776, 1099511627776]", "int64"}},
      {"empty numel overflows int64", CALL(empty({1ll << 32, 1ll << 32, 1ll << 32})), {"int64"}},
      {"ones numel overflows int64 in float64", CALL(ones({1ll << 40, 1ll << 40}, kFloat64)), {"int64"}},
      // Fits int64 elements but not size_t bytes: must not wrap to a small allocation.
      {"zeros bytes overflow size_t", CALL(zeros({(1ll << 62) + 1})), {"[4611686018427387905]", "float32", "bytes"}},
      {"empty bytes overflow size_t, float64", CALL(empty({1ll << 61}, kFloat64)), {"[2305843009213693952]", "float64", "bytes"}},
      {"more memory than exists", CALL(empty({1ll << 50})), {"out of memory", "bytes"}},
      {"negative size", CALL(zeros({2, -3})), {"[2, -3]", "negative"}},
      {"reshape whose known dims overflow", CALL(ones({2}).reshape({-1, 1ll << 32, 1ll << 32})), {"reshape", "[2]"}},
      {"expand numel overflows int64", CALL(ones({1, 1}).expand({1ll << 40, 1ll << 40})), {"expand", "int64"}},
      {"rand numel overflows int64", CALL(rand({1ll << 40, 1ll << 40})), {"int64"}},
      {"9 dims", CALL(Shape({1, 1, 1, 1, 1, 1, 1, 1, 1})), {"at most 8"}},
      {"zeros of 9 dims", CALL(zeros(Shape(std::vector<std::int64_t>(9, 1)))), {"at most 8"}},
      {"unsqueeze an 8-D tensor", CALL(zeros({1, 2, 1, 2, 1, 2, 1, 2}).unsqueeze(0)), {"at most 8"}},
  });
  // 8 dims is fine.
  const Tensor t8 = ones({1, 2, 1, 2, 1, 2, 1, 2});
  CHECK(t8.sum().item<float>() == 16.0f);
  CHECK(t8.permute({7, 6, 5, 4, 3, 2, 1, 0}).contiguous().shape() == Shape{2, 1, 2, 1, 2, 1, 2, 1});
  CHECK(matmul(t8, ones({2, 3})).shape() == Shape{1, 2, 1, 2, 1, 2, 1, 3});
}

TEST_CASE("NaN and Inf flow through ops and the loss as IEEE says", "[bad-input]") {
  for (DType dtype : {kFloat32, kFloat64}) {
    INFO(dtype);
    auto t = [dtype](std::initializer_list<double> v) { return tensor(v, {}, dtype); };
    auto first = [](const Tensor& x) { return x.to_vector<double>().at(0); };
    CHECK(first(exp(t({1000}))) == kInf);
    CHECK(first(exp(t({-kInf}))) == 0.0);
    CHECK(std::isnan(first(t({0}) * t({kInf}))));
    CHECK(std::isnan(first(t({kInf}) - t({kInf}))));
    CHECK(std::isnan(first(t({0}) / t({0}))));
    CHECK(first(t({1}) / t({0})) == kInf);
    CHECK(first(t({-1}) / 0.0) == -kInf);
    CHECK(first(log(t({0}))) == -kInf);
    CHECK(std::isnan(first(log(t({-1})))));
    CHECK(std::isnan(first(sqrt(t({-1})))));
    CHECK(std::isnan(first(relu(t({kNaN})))));
    CHECK(first(sigmoid(t({-kInf}))) == 0.0);
    CHECK(first(sigmoid(t({kInf}))) == 1.0);
    CHECK(first(tanh(t({kInf}))) == 1.0);
    CHECK(first(abs(t({-kInf}))) == kInf);
    CHECK(std::isnan(first(pow(t({kNaN}), 2.0))));
    CHECK(first(pow(t({kNaN}), 0.0)) == 1.0);  // IEEE pow(NaN, 0) = 1
    CHECK(std::isnan(first(maximum(t({kNaN}), t({1})))));
    CHECK(std::isnan(first(maximum(t({1}), t({kNaN})))));
    CHECK(std::isnan(first(minimum(t({1}), t({kNaN})))));
    CHECK(std::isnan(t({1, kNaN, 3}).max().item<double>()));
    CHECK(std::isnan(t({kNaN, 1, 3}).max().item<double>()));
    CHECK(t({1, kInf, 3}).max().item<double>() == kInf);
    CHECK(t({1, kInf, 3}).sum().item<double>() == kInf);
    CHECK(std::isnan(t({kInf, -kInf}).sum().item<double>()));
    CHECK(std::isnan(t({1, kNaN}).mean().item<double>()));
    CHECK(std::isnan(first(matmul(t({kInf, 1}), t({0, 1})))));  // inf * 0
    CHECK(first(matmul(t({kInf, 1}), t({1, 1}))) == kInf);
    CHECK(first(linear(t({1, 2}).reshape({1, 2}), t({kInf, 0}).reshape({1, 2}))) == kInf);
    // The loss.
    CHECK(mse_loss(t({kInf, 1}), t({0, 1})).item<double>() == kInf);
    CHECK(mse_loss(t({kInf, 1}), t({0, 1}), Reduction::Sum).item<double>() == kInf);
    CHECK(std::isnan(mse_loss(t({kInf, 1}), t({kInf, 1})).item<double>()));  // inf - inf
    CHECK(std::isnan(mse_loss(t({kNaN, 1}), t({0, 1})).item<double>()));
    const std::vector<double> none = values(mse_loss(t({kInf, 1, kNaN}), t({0, 1, 0}), Reduction::None));
    CHECK(none[0] == kInf);
    CHECK(none[1] == 0.0);
    CHECK(std::isnan(none[2]));
    CHECK(std::isinf(mse_loss(t({1e30, 0}), t({-1e30, 0})).item<double>()) == (dtype == kFloat32));  // overflows float32 only

    // Backward does not crash, and the gradients are what IEEE arithmetic gives.
    Tensor x = t({kInf, 1, kNaN}).requires_grad_();
    mse_loss(x, t({0, 1, 0}), Reduction::Sum).backward();  // d/dx = 2 (x - target)
    std::vector<double> g = values(x.grad());
    CHECK(g[0] == kInf);
    CHECK(g[1] == 0.0);
    CHECK(std::isnan(g[2]));
    x.set_grad(Tensor());
    (exp(x) * 0.0).sum().backward();  // 0 * exp(inf) = NaN in the gradient
    g = values(x.grad());
    CHECK(std::isnan(g[0]));
    CHECK(g[1] == 0.0);
    x.set_grad(Tensor());
    x.max().backward();  // NaN is the max; its position gets the gradient
    g = values(x.grad());
    CHECK(g.size() == 3);
    Tensor w = t({1, 2}).reshape({1, 2}).requires_grad_();
    Tensor in = t({kInf, 0}).reshape({1, 2});
    linear(in, w).sum().backward();
    g = values(w.grad());
    CHECK(g[0] == kInf);
    CHECK(g[1] == 0.0);
    Tensor z = t({0}).requires_grad_();
    sqrt(z).sum().backward();  // 1 / (2 sqrt(0)) = inf
    CHECK(values(z.grad())[0] == kInf);
  }
}

TEST_CASE("autograd misuse throws a clear ember::Error", "[bad-input]") {
  Tensor leaf = tensor({1, 2}).requires_grad_();
  const Tensor freed_loss = (leaf * leaf).sum();
  freed_loss.backward();
  Tensor saved = leaf * 2.0;
  const Tensor uses_saved = (saved * saved).sum();
  saved.fill_(0.0);  // bumps the version of a tensor MulBackward saved
  const Tensor exp_in = tensor({1, 2}).requires_grad_();
  const Tensor exp_out = exp(exp_in);
  const Tensor uses_exp_out = exp_out.sum();
  exp_out.detach().copy_(zeros({2}));  // same storage as the output ExpBackward saved
  Tensor non_leaf = leaf * 3.0;
  const Tensor vector_out = leaf * 3.0;
  check_bad_calls({
      {"backward twice on a freed graph", CALL(freed_loss.backward()),
       {"backward", "second time", "retain_graph"}},
      {"backward on a non-scalar without gradient", CALL(vector_out.backward()),
       {"backward", "scalar", "[2]"}},
      {"backward with a gradient of the wrong shape", CALL(vector_out.backward(ones({3}))),
       {"backward", "gradient of shape [3]", "[2]"}},
      {"backward with a gradient of the wrong dtype", CALL(vector_out.backward(ones({2}, kFloat64))),
       {"backward", "float64", "float32"}},
      {"backward on a tensor that does not require grad", CALL(ones({2}).sum().backward()),
       {"backward", "does not require grad"}},
      {"requires_grad_ on a non-leaf", CALL(non_leaf.requires_grad_()), {"requires_grad_", "leaf", "detach"}},
      {"in-place write to a saved input", CALL(uses_saved.backward()), {"mul", "modified in place", "[2]"}},
      {"in-place write to a saved output", CALL(uses_exp_out.backward()), {"exp", "modified in place"}},
      {"fill_ of a leaf that requires grad", CALL(leaf.fill_(1.0)), {"fill_", "leaf", "NoGradGuard"}},
      {"zero_ of a leaf that requires grad", CALL(leaf.zero_()), {"leaf", "NoGradGuard"}},
      {"copy_ into a leaf that requires grad", CALL(leaf.copy_(zeros({2}))), {"copy_", "leaf"}},
      {"set_grad of the wrong shape", CALL(leaf.set_grad(ones({3}))), {"set_grad", "[3]", "[2]"}},
  });
  // Under NoGradGuard the leaf may be updated in place (what optimizers do).
  {
    NoGradGuard guard;
    Tensor l = leaf;
    l.fill_(5.0);
  }
  CHECK(values(leaf) == std::vector<double>{5, 5});
}

TEST_CASE("item, from_vector, Device::parse and missing devices", "[bad-input]") {
  check_bad_calls({
      {"item of a multi-element tensor", CALL(ones({2, 3}).item<float>()), {"item", "[2, 3]", "6 elements"}},
      {"item<double> of a vector", CALL(ones({2}).item<double>()), {"item", "[2]"}},
      {"from_vector too few values", CALL(from_vector(std::vector<double>{1, 2, 3}, {2, 2})),
       {"from_vector", "3 values", "[2, 2]", "4 elements"}},
      {"from_vector too many values", CALL(from_vector(std::vector<float>{1, 2, 3}, {2})),
       {"from_vector", "3 values", "[2]"}},
      {"tensor() wrong count", CALL(tensor({1, 2, 3}, {2, 2})), {"3 values", "[2, 2]"}},
      {"from_vector into 0-d", CALL(from_vector(std::vector<double>{1, 2}, Shape{1})), {"2 values", "[1]"}},
      {"data_ptr wrong type", CALL(ones({2}).data_ptr<double>()), {"data_ptr", "float32", "float64"}},
      {"parse tpu", CALL(Device::parse("tpu")), {"Device::parse", "'tpu'", "cuda:N"}},
      {"parse empty", CALL(Device::parse("")), {"Device::parse", "''"}},
      {"parse CPU", CALL(Device::parse("CPU")), {"'CPU'"}},
      {"parse cuda:", CALL(Device::parse("cuda:")), {"'cuda:'"}},
      {"parse cuda:-1", CALL(Device::parse("cuda:-1")), {"'cuda:-1'"}},
      {"parse cuda:1x", CALL(Device::parse("cuda:1x")), {"'cuda:1x'"}},
      {"parse cuda:99999999999", CALL(Device::parse("cuda:99999999999")), {"'cuda:99999999999'"}},
      {"parse cuda 0", CALL(Device::parse("cuda 0")), {"'cuda 0'"}},
  });
  CHECK(Device::parse("cuda:7") == Device::cuda(7));
  // A CUDA device that does not exist: without a GPU every cuda:N is missing, and the message
  // must name it. On a GPU machine the GPU tests cover cuda:N beyond the device count.
  if (!cuda::is_available()) {
    check_bad_calls({
        {"to cuda:0", CALL(ones({2}).to(Device::cuda())), {"cuda:0"}},
        {"to cuda:3", CALL(ones({2}).to(Device::cuda(3))), {"cuda:3"}},
        {"zeros on cuda:5", CALL(zeros({2}, Device::cuda(5))), {"cuda:5"}},
        {"to cuda:1 through a device string", CALL(ones({2}).to(Device::parse("cuda:1"))), {"cuda:1"}},
    });
  }
}

TEST_CASE("batch norm refuses wrong channels, dims and batches, and a NaN batch, changing nothing", "[bad-input]") {
  const Tensor x = ones({4, 3, 5}), w3 = ones({3}), w4 = ones({4}), u;
  Tensor rm = zeros({3}), rv = ones({3});
  nn::BatchNorm1d bn1(3);
  nn::BatchNorm2d bn2(3);
  nn::BatchNorm1d bare(3, {.affine = false, .track_running_stats = false});
  const BatchNormFuncOptions train{.training = true};
  check_bad_calls({
      // The module's channel count against the input's dim 1, and the dims each module takes.
      {"BatchNorm1d channels", CALL(bn1(ones({4, 4}))), {"BatchNorm1d(3)", "3 channels", "[4, 4]"}},
      {"BatchNorm1d channels without parameters", CALL(bare(ones({4, 4, 2}))), {"BatchNorm1d(3)", "[4, 4, 2]"}},
      {"BatchNorm2d channels", CALL(bn2(ones({2, 4, 5, 5}))), {"BatchNorm2d(3)", "3 channels", "[2, 4, 5, 5]"}},
      {"BatchNorm1d 4-D", CALL(bn1(ones({2, 3, 4, 4}))), {"BatchNorm1d(3)", "2-D", "3-D", "[2, 3, 4, 4]"}},
      {"BatchNorm1d 1-D", CALL(bn1(ones({3}))), {"BatchNorm1d(3)", "[3]"}},
      {"BatchNorm2d 3-D", CALL(bn2(ones({2, 3, 4}))), {"BatchNorm2d(3)", "4-D", "[2, 3, 4]"}},
      // The functional's per-channel tensors against the input's channels.
      {"weight channels", CALL(batch_norm(x, u, u, w4, u, train)), {"batch_norm", "weight", "[3]", "[4, 3, 5]", "[4]"}},
      {"bias channels", CALL(batch_norm(x, u, u, u, w4, train)), {"batch_norm", "bias", "[3]", "[4]"}},
      {"running_mean channels", CALL(batch_norm(x, ones({4}), rv, u, u, train)), {"batch_norm", "running_mean", "[4]"}},
      {"running_var channels", CALL(batch_norm(x, rm, ones({2}), u, u)), {"batch_norm", "running_var", "[2]"}},
      {"weight dtype", CALL(batch_norm(x, u, u, ones({3}, kFloat64), u, train)), {"batch_norm", "float32", "float64"}},
      {"input 1-D", CALL(batch_norm(ones({3}), u, u, u, u, train)), {"batch_norm", "[N, C]", "[3]"}},
      {"input int64", CALL(batch_norm(ones({4, 3}).to(kInt64), u, u, u, u, train)), {"batch_norm", "int64"}},
      // One value per channel cannot be normalised by its own statistics (PyTorch's message).
      {"one value per channel [1, C]", CALL(batch_norm(ones({1, 3}), rm, rv, u, u, train)),
       {"batch_norm", "more than 1 value per channel when training", "[1, 3]"}},
      {"one value per channel [1, C, 1]", CALL(bn1->forward(ones({1, 3, 1}))), {"more than 1 value per channel", "[1, 3, 1]"}},
      {"evaluation without running statistics", CALL(batch_norm(x, u, u)), {"batch_norm", "running_mean", "evaluation"}},
      {"cumulative average without a counter",
       CALL(batch_norm(x, rm, rv, u, u, {.training = true, .momentum = std::nullopt})),
       {"batch_norm", "num_batches_tracked"}},
      {"counter not int64", CALL(batch_norm(x, rm, rv, u, u, {.training = true, .num_batches_tracked = zeros({})})),
       {"batch_norm", "num_batches_tracked", "int64"}},
      // NaN in a training batch: an error naming the channel (on the CPU always; on CUDA under
      // anomaly mode, tests/batch_norm_checks.h).
      {"NaN in batch norm", CALL(bn1(tensor({1, 2, 3, 4, kNaN, 6}, {2, 3}))),
       {"batch_norm", "channel 1", "NaN or Inf", "[2, 3, 1]", "nothing was changed"}},
  });
  // Nothing changed: the running statistics, the counter, the weight's gradient.
  CHECK(values(bn1->running_mean) == std::vector<double>{0, 0, 0});
  CHECK(values(bn1->running_var) == std::vector<double>{1, 1, 1});
  CHECK(bn1->num_batches_tracked.item<std::int64_t>() == 0);
  CHECK(values(rm) == std::vector<double>{0, 0, 0});
  CHECK(values(rv) == std::vector<double>{1, 1, 1});
  CHECK(!bn1->weight.grad().defined());
}
