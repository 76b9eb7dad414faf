// softmax, log_softmax, argmax, nll_loss and cross_entropy: the same checks on each device, with
// values computed here independently (loops in double) and gradients against finite differences.
// Included by classification_test.cpp (CPU) and cuda_classification_test.cpp (CUDA).
#pragma once

#include <cmath>
#include <limits>
#include <vector>

#include "catch.h"
#include "gradcheck_support.h"
#include "reference_data.h"
#include <ember/ember.h>

namespace classification_checks {

using namespace ember;
using Catch::Matchers::ContainsSubstring;

inline TensorOptions f64(Device d) { return TensorOptions(kFloat64).device(d); }
inline TensorOptions i64(Device d) { return TensorOptions(kInt64).device(d); }
inline Tensor classes(std::initializer_list<double> v, const Shape& shape, Device d) {
  return tensor(v, shape, f64(d)).to(kInt64);
}

using test::check_grad;

// log_softmax of one row, in double.
inline std::vector<double> log_softmax_row(const std::vector<double>& x) {
  double max = -std::numeric_limits<double>::infinity(), sum = 0.0;
  for (double v : x) max = std::max(max, v);
  for (double v : x) sum += std::exp(v - max);
  std::vector<double> out;
  for (double v : x) out.push_back(v - max - std::log(sum));
  return out;
}

inline void softmax_values(Device d) {
  const Tensor x = tensor({1, 2, 3}, {}, f64(d));
  const std::vector<double> s = x.softmax(0).to_vector<double>(), l = x.log_softmax(0).to_vector<double>();
  const std::vector<double> want_s = {0.09003057317038046, 0.24472847105479764, 0.6652409557748219};
  const std::vector<double> want_l = {-2.4076059644443806, -1.4076059644443804, -0.4076059644443803};
  for (int i = 0; i < 3; ++i) {
    CHECK_THAT(s[i], Catch::Matchers::WithinRel(want_s[i], 1e-14));
    CHECK_THAT(l[i], Catch::Matchers::WithinRel(want_l[i], 1e-14));
  }
  // Stable for large inputs, and over any dim: dim 0 of x is dim 1 of x^T.
  CHECK(tensor({1000, 1000}, {}, f64(d)).softmax(0).to_vector<double>() == std::vector<double>{0.5, 0.5});
  manual_seed(5);
  const Tensor m = randn({4, 5, 3}, f64(d));
  CHECK(allclose(m.softmax(0), m.transpose(0, 2).softmax(2).transpose(0, 2), 1e-14, 0));
  CHECK(allclose(m.log_softmax(1).sum(), m.softmax(1).log().sum(), 1e-12, 1e-12));
  CHECK(allclose(m.softmax(-1).sum(-1), ones({4, 5}, f64(d)), 1e-14, 1e-14));
  // float32 and bfloat16 against float64.
  CHECK(allclose(m.to(kFloat32).softmax(1).to(kFloat64), m.softmax(1), 1e-5, 1e-7));
  CHECK(allclose(m.to(kBFloat16).log_softmax(1).to(kFloat64), m.to(kBFloat16).to(kFloat64).log_softmax(1), 1e-2, 1e-2));
}

inline void argmax_values(Device d) {
  const double nan = std::nan("");
  const Tensor x = tensor({1, 5, 5, 7, 2, nan}, {2, 3}, f64(d));
  CHECK(x.argmax(1).to_vector<std::int64_t>() == std::vector<std::int64_t>{1, 2});  // first max; NaN wins
  CHECK(x.argmax(0).to_vector<std::int64_t>() == std::vector<std::int64_t>{1, 0, 1});
  CHECK(x.argmax().item<std::int64_t>() == 5);
  CHECK(x.argmax(1, true).shape() == Shape{2, 1});
  CHECK(x.argmax(1).dtype() == kInt64);
  CHECK(tensor({3, 9, 4}, {}, f64(d)).to(kFloat32).argmax().item<std::int64_t>() == 1);
  CHECK_THROWS_WITH(zeros({0}, f64(d)).argmax(), ContainsSubstring("argmax") && ContainsSubstring("empty"));
}

inline void nll_values(Device d) {
  const Tensor logp = tensor({-1, -2, -3, -0.5, -1.5, -2.5}, {2, 3}, f64(d));
  const Tensor t = classes({2, 0}, {2}, d);
  CHECK(nll_loss(logp, t).item<double>() == 1.75);
  CHECK(nll_loss(logp, t, {.reduction = Reduction::Sum}).item<double>() == 3.5);
  CHECK(nll_loss(logp, t, {.reduction = Reduction::None}).to_vector<double>() == std::vector<double>{3, 0.5});
  const Tensor w = tensor({1, 2, 3}, {}, f64(d));
  CHECK(nll_loss(logp, t, {.weight = w}).item<double>() == 9.5 / 4.0);  // divided by the weights' sum
  CHECK(nll_loss(logp, t, {.ignore_index = 2}).item<double>() == 0.5);
  CHECK(nll_loss(logp, t, {.ignore_index = 2, .reduction = Reduction::None}).to_vector<double>() ==
        std::vector<double>{0, 0.5});
  CHECK(nll_loss(logp.select(0, 0), t.select(0, 0)).item<double>() == 3.0);  // unbatched: [C], []
  // Spatial: [N, C, L] with target [N, L].
  const Tensor spatial = logp.reshape({1, 2, 3});
  CHECK(nll_loss(spatial, classes({0, 1, 1}, {1, 3}, d), {.reduction = Reduction::None}).to_vector<double>() ==
        std::vector<double>{1, 1.5, 2.5});
  CHECK_THROWS_WITH(nll_loss(logp, classes({2}, {1}, d)), ContainsSubstring("target of shape [2]"));
  CHECK_THROWS_WITH(nll_loss(logp, t.to(kFloat64)), ContainsSubstring("int64"));
}

inline void cross_entropy_values(Device d) {
  const std::vector<double> row0 = {1, 2, 3}, row1 = {1, 0, -1};
  const Tensor x = tensor({1, 2, 3, 1, 0, -1}, {2, 3}, f64(d));
  const Tensor t = classes({2, 0}, {2}, d);
  const std::vector<double> l0 = log_softmax_row(row0), l1 = log_softmax_row(row1);
  CHECK_THAT(cross_entropy(x, t).item<double>(), Catch::Matchers::WithinRel(-(l0[2] + l1[0]) / 2, 1e-14));
  // Label smoothing 0.1, weights [1, 2, 3]: (1 - eps) nll + eps / C * smooth, both over the
  // targets' weights (PyTorch's formula).
  const double eps = 0.1, w[3] = {1, 2, 3};
  const double nll = (-w[2] * l0[2] - w[0] * l1[0]) / (w[2] + w[0]);
  double smooth = 0;
  for (int c = 0; c < 3; ++c) smooth -= w[c] * (l0[c] + l1[c]);
  const double want = (1 - eps) * nll + eps / 3 * smooth / (w[2] + w[0]);
  const Tensor wt = tensor({1, 2, 3}, {}, f64(d));
  CHECK_THAT(cross_entropy(x, t, {.weight = wt, .label_smoothing = eps}).item<double>(),
             Catch::Matchers::WithinRel(want, 1e-13));
  // Probabilities as target: -sum_c q_c log p_c, mean over examples.
  const Tensor q = tensor({0.2, 0.3, 0.5, 1, 0, 0}, {2, 3}, f64(d));
  const double want_q = -((0.2 * l0[0] + 0.3 * l0[1] + 0.5 * l0[2]) + l1[0]) / 2;
  CHECK_THAT(cross_entropy(x, q).item<double>(), Catch::Matchers::WithinRel(want_q, 1e-14));
  CHECK_THROWS_WITH(cross_entropy(x, q.slice(1, 0, 2)), ContainsSubstring("probabilities"));
  CHECK_THROWS_WITH(cross_entropy(x, t, {.label_smoothing = 1.5}), ContainsSubstring("label_smoothing"));
}

inline void gradients(Device d) {
  manual_seed(11);
  const Tensor x = uniform({3, 4, 2}, -2, 2, f64(d)).requires_grad_();
  check_grad([](const std::vector<Tensor>& in) { return in[0].softmax(1); }, {x});
  check_grad([](const std::vector<Tensor>& in) { return in[0].log_softmax(-1); }, {x});
  check_grad([](const std::vector<Tensor>& in) { return in[0].transpose(0, 2).softmax(0); }, {x});
  const Tensor logits = uniform({5, 4}, -2, 2, f64(d)).requires_grad_();
  const Tensor t = classes({0, 3, 1, 3, 2}, {5}, d), w = tensor({0.5, 1, 2, 3}, {}, f64(d));
  for (Reduction r : {Reduction::Mean, Reduction::Sum, Reduction::None}) {
    check_grad([&](const std::vector<Tensor>& in) { return nll_loss(in[0].log_softmax(1), t, {.weight = w, .ignore_index = 1, .reduction = r}); }, {logits});
    check_grad([&](const std::vector<Tensor>& in) {
      return cross_entropy(in[0], t, {.weight = w, .ignore_index = 3, .reduction = r, .label_smoothing = 0.2});
    }, {logits});
  }
  const Tensor q = uniform({5, 4}, 0, 1, f64(d));
  check_grad([&](const std::vector<Tensor>& in) { return cross_entropy(in[0], q / q.sum(1, true), {.label_smoothing = 0.1}); }, {logits});
  // Spatial targets: [N, C, H, W] against [N, H, W].
  const Tensor image = uniform({2, 3, 2, 2}, -1, 1, f64(d)).requires_grad_();
  const Tensor pixels = classes({0, 1, 2, 1, 2, 2, 0, 1}, {2, 2, 2}, d);
  check_grad([&](const std::vector<Tensor>& in) { return cross_entropy(in[0], pixels); }, {image});
}

// Against PyTorch (tests/reference/make_reference.py, tests/data/classification.txt): every
// option of cross_entropy and nll_loss, loss and gradient, in float64.
inline void against_pytorch(Device d) {
  const auto ref = test::load_reference("classification.txt", kFloat64);
  auto at = [&](const std::string& name) { return ref.at(name).to(d); };
  const Tensor t = at("t").to(kInt64), w = at("w"), q = at("q"), pixels = at("pixels").to(kInt64);
  const std::vector<std::pair<std::string, std::function<Tensor(const Tensor&)>>> cases = {
      {"mean", [&](const Tensor& x) { return cross_entropy(x, t); }},
      {"sum", [&](const Tensor& x) { return cross_entropy(x, t, {.reduction = Reduction::Sum}); }},
      {"none", [&](const Tensor& x) { return cross_entropy(x, t, {.reduction = Reduction::None}); }},
      {"weighted", [&](const Tensor& x) { return cross_entropy(x, t, {.weight = w}); }},
      {"ignore", [&](const Tensor& x) { return cross_entropy(x, t, {.weight = w, .ignore_index = 2}); }},
      {"smooth", [&](const Tensor& x) { return cross_entropy(x, t, {.weight = w, .ignore_index = 2, .label_smoothing = 0.15}); }},
      {"smooth_sum", [&](const Tensor& x) { return cross_entropy(x, t, {.reduction = Reduction::Sum, .label_smoothing = 0.15}); }},
      {"smooth_none", [&](const Tensor& x) {
         return cross_entropy(x, t, {.ignore_index = 4, .reduction = Reduction::None, .label_smoothing = 0.15});
       }},
      {"probs", [&](const Tensor& x) { return cross_entropy(x, q, {.weight = w, .label_smoothing = 0.1}); }},
      {"nll", [&](const Tensor& x) { return nll_loss(x.log_softmax(1), t, {.weight = w, .ignore_index = 1}); }},
  };
  for (const auto& [name, fn] : cases) {
    INFO(name << " on " << d);
    const Tensor x = at("x").clone().requires_grad_();  // a fresh leaf per case: grads accumulate
    const Tensor loss = fn(x);
    loss.backward(ones_like(loss));
    CHECK(test::max_rel_error(loss, ref.at(name + ".loss"), 1e-12) < 1e-12);
    CHECK(test::max_rel_error(x.grad(), ref.at(name + ".grad"), 1e-12) < 1e-11);
  }
  const Tensor image = at("image").clone().requires_grad_();
  const Tensor loss = cross_entropy(image, pixels, {.label_smoothing = 0.05});
  loss.backward();
  CHECK(test::max_rel_error(loss, ref.at("spatial.loss"), 1e-12) < 1e-12);
  CHECK(test::max_rel_error(image.grad(), ref.at("spatial.grad"), 1e-12) < 1e-11);
  CHECK(test::max_rel_error(image.detach().softmax(1), ref.at("softmax1"), 1e-12) < 1e-13);
  CHECK(test::max_rel_error(image.detach().log_softmax(2), ref.at("log_softmax2"), 1e-12) < 1e-13);
}

// Dropout (a classifier's regulariser): the drop rate, the scaling, the gradient and eval mode.
inline void dropout_values(Device d) {
  manual_seed(42);
  const Tensor x = ones({100000}, f64(d)).requires_grad_();
  const Tensor y = dropout(x, 0.3, true);
  const std::vector<double> v = y.to_vector<double>();
  std::size_t zeros_seen = 0;
  bool scaled = true;
  for (double e : v) {
    if (e == 0.0) ++zeros_seen;
    else scaled = scaled && e == 1.0 / 0.7;
  }
  CHECK(scaled);
  // The dropped fraction: 0.3 within 7 standard deviations (sqrt(0.3 * 0.7 / 1e5) = 0.00145).
  CHECK(std::abs(static_cast<double>(zeros_seen) / 1e5 - 0.3) < 0.01);
  y.sum().backward();
  CHECK(x.grad().to_vector<double>() == v);  // d(x * mask)/dx = mask, and x is 1
  CHECK(dropout(x, 0.3, false).is_same(x));
  CHECK(dropout(x, 1.0).sum().item<double>() == 0.0);
  nn::Dropout module(0.5);
  module->eval();
  CHECK(module(x).is_same(x));
  module->train();
  CHECK(module(x).eq(zeros_like(x)).to(kFloat64).sum().item<double>() > 0);
  CHECK_THROWS_WITH(dropout(x, 1.5), ContainsSubstring("dropout") && ContainsSubstring("1.5"));
  CHECK(nn::Flatten()(zeros({2, 3, 4, 5}, f64(d))).shape() == Shape{2, 60});
  CHECK(nn::Flatten(nn::FlattenOptions{.start_dim = 0, .end_dim = 1})(zeros({2, 3, 4}, f64(d))).shape() == Shape{6, 4});
}

}  // namespace classification_checks
