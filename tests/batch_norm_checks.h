// batch_norm, nn::BatchNorm1d and nn::BatchNorm2d: the same checks on each device, against loops in
// double (two passes over each channel, not the kernels' shifted sums), finite differences and
// PyTorch (tests/data/batch_norm.txt). Included by batch_norm_test.cpp (CPU) and
// cuda_batch_norm_test.cpp (CUDA).
#pragma once

#include <cmath>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "catch.h"
#include "gradcheck_support.h"
#include "reference_data.h"
#include "temp_dir.h"
#include <ember/ember.h>

namespace batch_norm_checks {

using namespace ember;
using Catch::Matchers::ContainsSubstring;

inline TensorOptions f64(Device d) { return TensorOptions(kFloat64).device(d); }
inline std::vector<double> values(const Tensor& t) { return t.defined() ? t.to_vector<double>() : std::vector<double>{}; }

// batch_norm computed here, in double, from the tensors' values. Training updates `running_mean`
// and `running_var` (the vectors passed in) as PyTorch does; evaluation reads them.
struct Loop {
  std::vector<double> out;
  std::vector<double> running_mean, running_var;
};
inline Loop loop_batch_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, Loop state, bool training,
                            double momentum, double eps) {
  const std::vector<double> xv = values(x), w = values(weight), b = values(bias);
  const std::int64_t n = x.shape()[0], c = x.shape()[1], s = x.numel() / std::max<std::int64_t>(n * c, 1);
  const auto at = [&](std::int64_t i, std::int64_t ch, std::int64_t k) { return (i * c + ch) * s + k; };
  state.out.assign(xv.size(), 0.0);
  for (std::int64_t ch = 0; ch < c; ++ch) {
    const auto m = static_cast<double>(n * s);
    double sum = 0.0, sq = 0.0;
    for (std::int64_t i = 0; i < n; ++i)
      for (std::int64_t k = 0; k < s; ++k) sum += xv[static_cast<std::size_t>(at(i, ch, k))];
    const double batch_mean = sum / m;
    for (std::int64_t i = 0; i < n; ++i)
      for (std::int64_t k = 0; k < s; ++k) {
        const double dv = xv[static_cast<std::size_t>(at(i, ch, k))] - batch_mean;
        sq += dv * dv;
      }
    const auto u = static_cast<std::size_t>(ch);
    double mean = batch_mean, var = sq / m;
    if (!training) {
      mean = state.running_mean[u];
      var = state.running_var[u];
    } else if (!state.running_mean.empty()) {
      state.running_mean[u] = (1 - momentum) * state.running_mean[u] + momentum * batch_mean;
      state.running_var[u] = (1 - momentum) * state.running_var[u] + momentum * sq / (m - 1);
    }
    const double wc = w.empty() ? 1.0 : w[u], bc = b.empty() ? 0.0 : b[u];
    for (std::int64_t i = 0; i < n; ++i)
      for (std::int64_t k = 0; k < s; ++k) {
        const auto e = static_cast<std::size_t>(at(i, ch, k));
        state.out[e] = (xv[e] - mean) / std::sqrt(var + eps) * wc + bc;
      }
  }
  return state;
}

// |a - b| <= atol + rtol * |b| everywhere (and the same length).
inline bool close(const std::vector<double>& a, const std::vector<double>& b, double rtol, double atol) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (!(std::abs(a[i] - b[i]) <= atol + rtol * std::abs(b[i]))) return false;
  }
  return true;
}

using test::check_grad;

// Training over three batches and evaluation, for [N, C], [N, C, L] and [N, C, H, W], in float64
// (1e-12) and float32 (1e-5), with the running statistics after every step.
inline void training_and_eval_values(Device d) {
  manual_seed(3);
  for (const Shape& shape : {Shape{8, 3}, Shape{4, 3, 5}, Shape{2, 3, 4, 4}}) {
    for (DType dtype : {kFloat64, kFloat32}) {
      INFO("shape " << shape << " " << dtype << " on " << d);
      const double tol = dtype == kFloat64 ? 1e-12 : 1e-5;
      const TensorOptions o = TensorOptions(dtype).device(d);
      const Tensor w = uniform({3}, 0.5, 1.5, o), b = uniform({3}, -1, 1, o);
      Tensor rm = uniform({3}, -0.2, 0.2, o), rv = uniform({3}, 0.5, 1.5, o);
      Loop state{{}, values(rm), values(rv)};
      for (int step = 0; step < 3; ++step) {
        const Tensor x = (randn(shape, f64(d)) * 2.0 + 1.0).to(dtype);
        state = loop_batch_norm(x, w, b, state, true, 0.1, 1e-5);
        const Tensor y = batch_norm(x, rm, rv, w, b, {.training = true});
        CHECK(y.shape() == shape);
        CHECK(y.dtype() == dtype);
        CHECK(close(values(y), state.out, tol, tol));
        CHECK(close(values(rm), state.running_mean, tol, tol));
        CHECK(close(values(rv), state.running_var, tol, tol));
      }
      const Tensor x = randn(shape, o);
      const Loop eval = loop_batch_norm(x, w, b, state, false, 0.1, 1e-3);
      const std::vector<double> rm_before = values(rm), rv_before = values(rv);
      CHECK(close(values(batch_norm(x, rm, rv, w, b, {.eps = 1e-3})), eval.out, tol, tol));
      CHECK(values(rm) == rm_before);  // evaluation reads the running statistics only
      CHECK(values(rv) == rv_before);
    }
  }
  // A channels-last (permuted) input gives the contiguous input's values.
  const Tensor nhwc = randn({2, 4, 5, 3}, f64(d));
  const Tensor x = nhwc.permute({0, 3, 1, 2});
  CHECK(!x.is_contiguous());
  CHECK(allclose(batch_norm(x, {}, {}, {}, {}, {.training = true}),
                 batch_norm(x.contiguous(), {}, {}, {}, {}, {.training = true}), 0, 0));
}

// Larger shapes that take every path of the CUDA kernels (columns and rows, split or not), against
// the loops: float32 within 1e-5, float64 within 1e-12.
inline void large_shapes(Device d) {
  manual_seed(17);
  for (const Shape& shape : {Shape{256, 64}, Shape{4096, 3}, Shape{3, 5, 7}, Shape{8, 16, 33, 33}, Shape{2, 3, 100000},
                             Shape{3, 2, 40}}) {
    for (DType dtype : {kFloat32, kFloat64}) {
      INFO("shape " << shape << " " << dtype << " on " << d);
      const double tol = dtype == kFloat64 ? 1e-12 : 1e-5;
      const TensorOptions o = TensorOptions(dtype).device(d);
      const std::int64_t c = shape[1];
      const Tensor x = (randn(shape, f64(d)) * 3.0 + 5.0).to(dtype);
      const Tensor w = uniform({c}, 0.5, 1.5, o), b = uniform({c}, -1, 1, o);
      Tensor rm = zeros({c}, o), rv = ones({c}, o);
      const Loop want = loop_batch_norm(x, w, b, {{}, values(rm), values(rv)}, true, 0.1, 1e-5);
      const Tensor xg = x.detach().requires_grad_();
      const Tensor y = batch_norm(xg, rm, rv, w, b, {.training = true});
      CHECK(close(values(y), want.out, tol, tol));
      CHECK(close(values(rm), want.running_mean, tol, tol));
      CHECK(close(values(rv), want.running_var, tol, tol));
      // The input gradient of sum(y * y) / 2 is the backward of g = y: check it against the float64
      // op (whose gradient gradcheck verifies on small shapes).
      (y * y).sum().backward();
      const Tensor x64 = x.to(kFloat64).detach().requires_grad_();
      const Tensor y64 = batch_norm(x64, {}, {}, w.to(kFloat64), b.to(kFloat64), {.training = true});
      (y64 * y64).sum().backward();
      CHECK(close(values(xg.grad()), values(x64.grad()), dtype == kFloat64 ? 1e-10 : 1e-3, dtype == kFloat64 ? 1e-10 : 1e-3));
    }
  }
}

// momentum = nullopt: the running statistics are the plain average of the batches' (the variance
// unbiased), num_batches_tracked counts the batches.
inline void cumulative_average(Device d) {
  manual_seed(5);
  const Tensor counter = zeros({}, TensorOptions(kInt64).device(d));
  Tensor rm = zeros({2}, f64(d)), rv = ones({2}, f64(d));
  std::vector<double> mean_sum(2, 0.0), var_sum(2, 0.0);
  for (int step = 1; step <= 3; ++step) {
    const Tensor x = randn({5, 2}, f64(d)) + static_cast<double>(step);
    const std::vector<double> xv = values(x);
    for (int ch = 0; ch < 2; ++ch) {
      double m = 0, v = 0;
      for (int i = 0; i < 5; ++i) m += xv[static_cast<std::size_t>(i * 2 + ch)] / 5;
      for (int i = 0; i < 5; ++i) v += std::pow(xv[static_cast<std::size_t>(i * 2 + ch)] - m, 2) / 4;
      mean_sum[static_cast<std::size_t>(ch)] += m;
      var_sum[static_cast<std::size_t>(ch)] += v;
    }
    batch_norm(x, rm, rv, {}, {}, {.training = true, .momentum = std::nullopt, .num_batches_tracked = counter});
    CHECK(counter.item<std::int64_t>() == step);
    CHECK(close(values(rm), {mean_sum[0] / step, mean_sum[1] / step}, 1e-13, 1e-13));
    CHECK(close(values(rv), {var_sum[0] / step, var_sum[1] / step}, 1e-13, 1e-13));
  }
  CHECK(counter.dtype() == kInt64);
  // With a momentum, the counter still counts.
  batch_norm(randn({5, 2}, f64(d)), rm, rv, {}, {}, {.training = true, .num_batches_tracked = counter});
  CHECK(counter.item<std::int64_t>() == 4);
  CHECK_THROWS_WITH(batch_norm(randn({5, 2}, f64(d)), rm, rv, {}, {}, {.training = true, .momentum = std::nullopt}),
                    ContainsSubstring("num_batches_tracked"));
}

// Undefined weight, bias and running statistics; a running statistic that is a strided view.
inline void optional_tensors(Device d) {
  manual_seed(8);
  const Tensor x = randn({6, 3, 2}, f64(d));
  const Tensor plain = batch_norm(x, {}, {}, {}, {}, {.training = true});
  CHECK(allclose(plain, batch_norm(x, {}, {}, ones({3}, f64(d)), zeros({3}, f64(d)), {.training = true}), 0, 0));
  CHECK(close(values(plain), loop_batch_norm(x, {}, {}, {}, true, 0.1, 1e-5).out, 1e-12, 1e-12));
  const Tensor w = uniform({3}, 0.5, 2, f64(d));
  CHECK(allclose(batch_norm(x, {}, {}, w, {}, {.training = true}), plain * w.reshape({3, 1}), 1e-14, 1e-14));
  // Only one running statistic given: it alone is updated.
  Tensor rm = zeros({3}, f64(d));
  batch_norm(x, rm, {}, {}, {}, {.training = true, .momentum = 1.0});
  CHECK(allclose(rm, x.mean(2).mean(0), 1e-14, 1e-14));
  // A strided view of running statistics is updated in place.
  Tensor storage = zeros({3, 2}, f64(d));
  Tensor column = storage.select(1, 1);
  CHECK(!column.is_contiguous());
  batch_norm(x, column, {}, {}, {}, {.training = true, .momentum = 1.0});
  CHECK(allclose(storage.select(1, 1), x.mean(2).mean(0), 1e-14, 1e-14));
  CHECK(values(storage.select(1, 0)) == std::vector<double>(3, 0.0));
  // An empty batch: an empty output, running statistics unchanged.
  Tensor rv = ones({3}, f64(d));
  const Tensor empty_out = batch_norm(zeros({0, 3, 2}, f64(d)), rm, rv, {}, {}, {.training = true});
  CHECK(empty_out.shape() == Shape{0, 3, 2});
  CHECK(values(rv) == std::vector<double>(3, 1.0));
  // Evaluation without running statistics is an error (as PyTorch).
  CHECK_THROWS_WITH(batch_norm(x, {}, {}), ContainsSubstring("evaluation"));
}

// Gradients against finite differences, in float64: input, weight and bias in training and in
// evaluation, over the three ranks; and only the gradients asked for.
inline void gradients(Device d) {
  manual_seed(21);
  for (const Shape& shape : {Shape{5, 2}, Shape{3, 2, 4}, Shape{2, 2, 3, 3}}) {
    INFO("shape " << shape << " on " << d);
    const Tensor x = (randn(shape, f64(d)) * 2.0 + 0.5).requires_grad_();
    const Tensor w = uniform({2}, 0.5, 1.5, f64(d)).requires_grad_();
    const Tensor b = uniform({2}, -1, 1, f64(d)).requires_grad_();
    const Tensor rm = uniform({2}, -0.5, 0.5, f64(d)), rv = uniform({2}, 0.5, 2, f64(d));
    check_grad([&](const std::vector<Tensor>& in) {
      return batch_norm(in[0], {}, {}, in[1], in[2], {.training = true});
    }, {x, w, b});
    check_grad([&](const std::vector<Tensor>& in) { return batch_norm(in[0], rm, rv, in[1], in[2]); }, {x, w, b});
    check_grad([&](const std::vector<Tensor>& in) {
      return batch_norm(in[0], {}, {}, {}, {}, {.training = true, .eps = 0.1});
    }, {x});
  }
  // Only weight requires grad: the input's gradient is not computed.
  const Tensor x = randn({4, 3}, f64(d));
  const Tensor w = ones({3}, f64(d)).requires_grad_();
  batch_norm(x, {}, {}, w, {}, {.training = true}).sum().backward();
  CHECK(!x.grad().defined());
  CHECK(w.grad().defined());
  CHECK(close(values(w.grad()), {0, 0, 0}, 0, 1e-12));  // the normalised values sum to 0 per channel
}

// bfloat16 and float16 compute in float32: their results are the float32 op's on the same
// (rounded) values, rounded once, bit for bit; against float64 on the same values, within the
// 16-bit type's rounding (2^-8 relative for bfloat16, 2^-11 for float16, plus 1e-5 absolute).
inline void half_precision(Device d) {
  manual_seed(9);
  for (DType half : {kBFloat16, kFloat16}) {
    INFO(half << " on " << d);
    const double rtol = half == kBFloat16 ? std::ldexp(1.0, -8) : std::ldexp(1.0, -11);
    const TensorOptions o = TensorOptions(half).device(d);
    const Tensor x = (randn({4, 3, 6}, f64(d)) * 2.0 + 1.0).to(half).requires_grad_();
    const Tensor w = uniform({3}, 0.5, 1.5, o).requires_grad_(), b = uniform({3}, -1, 1, o).requires_grad_();
    const Tensor g = randn({4, 3, 6}, o);
    Tensor rm = zeros({3}, o), rv = ones({3}, o);
    const Tensor y = batch_norm(x, rm, rv, w, b, {.training = true});
    y.backward(g);
    CHECK(y.dtype() == half);

    const auto f32 = [](const Tensor& t) { return t.detach().to(kFloat32).requires_grad_(); };
    const Tensor x32 = f32(x), w32 = f32(w), b32 = f32(b);
    Tensor rm32 = zeros({3}, TensorOptions(kFloat32).device(d)), rv32 = ones({3}, TensorOptions(kFloat32).device(d));
    const Tensor y32 = batch_norm(x32, rm32, rv32, w32, b32, {.training = true});
    y32.backward(g.to(kFloat32));
    CHECK(values(y) == values(y32.to(half)));
    CHECK(values(x.grad()) == values(x32.grad().to(half)));
    CHECK(values(w.grad()) == values(w32.grad().to(half)));
    CHECK(values(b.grad()) == values(b32.grad().to(half)));
    CHECK(values(rm) == values(rm32.to(half)));
    CHECK(values(rv) == values(rv32.to(half)));
    CHECK(values(batch_norm(x.detach(), rm, rv, w.detach(), b.detach())) ==
          values(batch_norm(x32.detach(), rm.to(kFloat32), rv.to(kFloat32), w32.detach(), b32.detach()).to(half)));

    const Loop want = loop_batch_norm(x.to(kFloat64), w.to(kFloat64), b.to(kFloat64), {}, true, 0.1, 1e-5);
    CHECK(close(values(y), want.out, rtol, 1e-5));
  }
}

// Against PyTorch 2.x (tests/reference/make_reference.py, tests/data/batch_norm.txt), in float64.
inline void against_pytorch(Device d) {
  const auto ref = test::load_reference("batch_norm.txt", kFloat64);
  // A fresh copy on d (a leaf of its own: .to(d) may share the map's tensor on the CPU).
  auto at = [&](const std::string& name) { return ref.at(name).to(d).clone(); };
  // Relative error, absolute below 1: an output near 0 is a cancellation in ((x - mean) * invstd) * w + b,
  // which turns the last-bit differences of a mean summed in another order (CUDA) into large relative ones.
  auto same = [](const Tensor& got, const Tensor& want) { return test::max_rel_error(got, want, 1.0) < 1e-12; };
  const Tensor w0 = at("w"), b0 = at("b"), g = at("g");
  Tensor rm = at("rm0").clone(), rv = at("rv0").clone();
  Tensor x, w, b, y;
  // Names spelled out: GCC 12 warns falsely (-Wrestrict) on "x" + std::to_string(i).
  const char* const inputs[] = {"x0", "x1", "x2"};
  const char* const outputs[] = {"train.out0", "train.out1", "train.out2"};
  const char* const means[] = {"train.running_mean0", "train.running_mean1", "train.running_mean2"};
  const char* const vars[] = {"train.running_var0", "train.running_var1", "train.running_var2"};
  for (int i = 0; i < 3; ++i) {
    INFO("training step " << i << " on " << d);
    x = at(inputs[i]).requires_grad_();
    w = w0.clone().requires_grad_();
    b = b0.clone().requires_grad_();
    y = batch_norm(x, rm, rv, w, b, {.training = true, .momentum = 0.1, .eps = 1e-5});
    CHECK(same(y, ref.at(outputs[i])));
    CHECK(same(rm, ref.at(means[i])));
    CHECK(same(rv, ref.at(vars[i])));
  }
  y.backward(g);
  CHECK(same(x.grad(), ref.at("train.grad_input")));
  CHECK(same(w.grad(), ref.at("train.grad_weight")));
  CHECK(same(b.grad(), ref.at("train.grad_bias")));

  x = at("x0").requires_grad_();
  w = w0.clone().requires_grad_();
  b = b0.clone().requires_grad_();
  y = batch_norm(x, at("rm0"), at("rv0"), w, b);
  y.backward(g);
  CHECK(same(y, ref.at("eval.out")));
  CHECK(same(x.grad(), ref.at("eval.grad_input")));
  CHECK(same(w.grad(), ref.at("eval.grad_weight")));
  CHECK(same(b.grad(), ref.at("eval.grad_bias")));

  nn::BatchNorm1d cma(3, {.momentum = std::nullopt, .dtype = kFloat64});
  cma->to(d);
  for (const char* input : inputs) cma(at(input));
  CHECK(same(cma->running_mean, ref.at("cma.running_mean")));
  CHECK(same(cma->running_var, ref.at("cma.running_var")));
  CHECK(cma->num_batches_tracked.item<std::int64_t>() == 3);

  nn::BatchNorm2d bn2(3, {.eps = 1e-3, .momentum = 0.3, .dtype = kFloat64});
  bn2->to(d);
  {
    NoGradGuard no_grad;
    bn2->weight.copy_(w0);
    bn2->bias.copy_(b0);
  }
  const Tensor image = at("image").requires_grad_();
  y = bn2(image);
  y.backward(at("g2"));
  CHECK(same(y, ref.at("image.out")));
  CHECK(same(image.grad(), ref.at("image.grad_input")));
  CHECK(same(bn2->weight.grad(), ref.at("image.grad_weight")));
  CHECK(same(bn2->bias.grad(), ref.at("image.grad_bias")));
  CHECK(same(bn2->running_mean, ref.at("image.running_mean")));
  CHECK(same(bn2->running_var, ref.at("image.running_var")));
  bn2->eval();
  CHECK(same(bn2(at("image")), ref.at("image.eval_out")));

  nn::BatchNorm1d features(4, {.affine = false, .dtype = kFloat64});
  features->to(d);
  const Tensor f = at("features").requires_grad_();
  y = features(f);
  y.backward(at("g3"));
  CHECK(same(y, ref.at("features.out")));
  CHECK(same(f.grad(), ref.at("features.grad_input")));
  CHECK(same(features->running_mean, ref.at("features.running_mean")));
  CHECK(same(features->running_var, ref.at("features.running_var")));
}

// The modules: parameters and buffers, train() and eval(), track_running_stats = false, to().
inline void module_behaviour(Device d) {
  manual_seed(4);
  nn::BatchNorm2d bn(3);
  CHECK(bn->name() == "BatchNorm2d");
  CHECK(bn->named_parameters().size() == 2);
  const auto buffers = bn->named_buffers();
  REQUIRE(buffers.size() == 3);
  CHECK(buffers[0].first == "running_mean");
  CHECK(buffers[1].first == "running_var");
  CHECK(buffers[2].first == "num_batches_tracked");
  CHECK(values(bn->weight) == std::vector<double>(3, 1.0));
  CHECK(values(bn->bias) == std::vector<double>(3, 0.0));
  CHECK(values(bn->running_mean) == std::vector<double>(3, 0.0));
  CHECK(values(bn->running_var) == std::vector<double>(3, 1.0));
  CHECK(bn->num_batches_tracked.dtype() == kInt64);
  CHECK(bn->num_batches_tracked.dim() == 0);

  bn->to(kFloat64);  // floating tensors only: the counter stays int64
  CHECK(bn->running_mean.dtype() == kFloat64);
  CHECK(bn->num_batches_tracked.dtype() == kInt64);
  bn->to(d);
  CHECK(bn->running_var.device() == d);
  CHECK(bn->num_batches_tracked.device() == d);

  // Training: batch statistics, running ones updated, the counter incremented.
  Loop state{{}, values(bn->running_mean), values(bn->running_var)};
  for (int step = 1; step <= 3; ++step) {
    const Tensor x = randn({2, 3, 4, 4}, f64(d)) * 2.0;
    state = loop_batch_norm(x, {}, {}, state, true, 0.1, 1e-5);
    CHECK(close(values(bn(x)), state.out, 1e-12, 1e-12));
    CHECK(bn->num_batches_tracked.item<std::int64_t>() == step);
  }
  CHECK(close(values(bn->running_mean), state.running_mean, 1e-12, 1e-12));
  CHECK(close(values(bn->running_var), state.running_var, 1e-12, 1e-12));
  // Evaluation: the running statistics, nothing updated.
  bn->eval();
  const std::vector<double> running_mean = values(bn->running_mean);
  const Tensor x = randn({2, 3, 4, 4}, f64(d));
  CHECK(close(values(bn(x)), loop_batch_norm(x, {}, {}, state, false, 0.1, 1e-5).out, 1e-12, 1e-12));
  CHECK(bn->num_batches_tracked.item<std::int64_t>() == 3);
  CHECK(values(bn->running_mean) == running_mean);
  bn->train();
  CHECK(!close(values(bn(x)), loop_batch_norm(x, {}, {}, state, false, 0.1, 1e-5).out, 1e-6, 1e-6));

  // Without running statistics: no buffers, and batch statistics in both modes.
  nn::BatchNorm1d untracked(3, {.affine = false, .track_running_stats = false, .dtype = kFloat64});
  untracked->to(d);
  CHECK(untracked->named_parameters().empty());
  CHECK(untracked->named_buffers().empty());
  const Tensor f = randn({5, 3}, f64(d));
  const Tensor train_out = untracked(f);
  untracked->eval();
  CHECK(allclose(untracked(f), train_out, 0, 0));
  CHECK(close(values(train_out), loop_batch_norm(f, {}, {}, {}, true, 0.1, 1e-5).out, 1e-12, 1e-12));

  // In a Sequential, with dotted names, [N, C, L] through BatchNorm1d.
  nn::Sequential net(nn::BatchNorm1d(4, {.dtype = kFloat64}), nn::ReLU());
  net->to(d);
  const auto names = nn::state_dict(*net);
  REQUIRE(names.size() == 5);
  CHECK(names[0].first == "0.weight");
  CHECK(names[4].first == "0.num_batches_tracked");
  CHECK(net(randn({3, 4, 7}, f64(d))).shape() == Shape{3, 4, 7});
}

// A checkpoint holds the running statistics and the counter, and restores them.
inline void checkpoint_round_trip(Device d) {
  manual_seed(6);
  const test::TempDir dir("batch_norm_checkpoint");
  nn::BatchNorm2d trained(2, {.dtype = kFloat64});
  trained->to(d);
  for (int i = 0; i < 3; ++i) trained(randn({3, 2, 2, 2}, f64(d)) + 1.0);
  {
    NoGradGuard no_grad;
    trained->weight.copy_(tensor({0.5, 2}, {}, f64(d)));
  }
  nn::save(*trained, dir / "bn.ember");
  nn::BatchNorm2d restored(2, {.dtype = kFloat64});
  restored->to(d);
  nn::load(*restored, dir / "bn.ember");
  CHECK(values(restored->running_mean) == values(trained->running_mean));
  CHECK(values(restored->running_var) == values(trained->running_var));
  CHECK(values(restored->weight) == values(trained->weight));
  CHECK(restored->num_batches_tracked.item<std::int64_t>() == 3);
  CHECK(restored->num_batches_tracked.dtype() == kInt64);
  trained->eval();
  restored->eval();
  const Tensor x = randn({2, 2, 3, 3}, f64(d));
  CHECK(allclose(restored(x), trained(x), 0, 0));
}

// Under anomaly mode, a NaN in a training batch is an error on every device, and nothing changes:
// neither the running statistics nor the counter.
inline void nan_under_anomaly_mode(Device d) {
  nn::BatchNorm1d bn(3, {.dtype = kFloat64});
  bn->to(d);
  bn(randn({4, 3}, f64(d)));
  const std::vector<double> rm = values(bn->running_mean), rv = values(bn->running_var);
  const Tensor bad = tensor({1, 2, 3, 4, std::nan(""), 6, 7, 8, 9}, {3, 3}, f64(d));
  {
    autograd::DetectAnomalyGuard anomaly;
    CHECK_THROWS_WITH(bn(bad), ContainsSubstring("batch_norm") && ContainsSubstring("channel 1") &&
                                   ContainsSubstring("NaN") && ContainsSubstring("nothing was changed"));
  }
  CHECK(values(bn->running_mean) == rm);
  CHECK(values(bn->running_var) == rv);
  CHECK(bn->num_batches_tracked.item<std::int64_t>() == 1);
  // Evaluation reads no batch statistics: the NaN stays in its element, as through any op.
  bn->eval();
  const std::vector<double> out = values(bn(bad));
  CHECK(std::isnan(out[4]));
  CHECK(std::isfinite(out[3]));
}

}  // namespace batch_norm_checks
