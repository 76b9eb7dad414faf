// conv2d, conv1d, nn::Conv2d and nn::Conv1d: the same checks on each device. Values and all three
// gradients against direct loops in double, gradients against finite differences, layouts,
// dtypes, PyTorch's own values (tests/data/conv.txt) and the modules. Included by conv_test.cpp
// (CPU) and cuda_conv_test.cpp (CUDA).
#pragma once

#include <algorithm>
#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "catch.h"
#include "gradcheck_support.h"
#include "reference_data.h"
#include <ember/core/ops.h>
#include <ember/ember.h>

namespace conv_checks {

using namespace ember;
using Catch::Matchers::ContainsSubstring;

inline TensorOptions f64(Device d) { return TensorOptions(kFloat64).device(d); }

// One convolution: input [n, c, h, w], weight [o, c / groups, kh, kw], the options, with a bias or
// not, batched or not (input [c, h, w]; n must be 1).
struct Dims {
  std::int64_t n, c, h, w, o, kh, kw;
};
inline constexpr bool kNoBias = false, kBias = true, kUnbatched = true;
struct Case {
  const char* name;
  Dims d;
  Conv2dOptions options = {};
  bool bias = true;
  bool unbatched = false;
};

// The padding at the start and end of each spatial dim, from the rules as PyTorch documents them.
struct Pads {
  std::int64_t top, bottom, left, right;
};
inline Pads pads_of(const Case& k) {
  switch (k.options.padding.mode) {
    case ConvPadding::Mode::Sizes: return {k.options.padding.sizes[0], k.options.padding.sizes[0], k.options.padding.sizes[1], k.options.padding.sizes[1]};
    case ConvPadding::Mode::Valid: return {0, 0, 0, 0};
    case ConvPadding::Mode::Same: break;
  }
  const std::int64_t th = k.options.dilation.h * (k.d.kh - 1), tw = k.options.dilation.w * (k.d.kw - 1);
  return {th / 2, th - th / 2, tw / 2, tw - tw / 2};
}

inline std::int64_t out_h(const Case& k) {
  const Pads p = pads_of(k);
  return (k.d.h + p.top + p.bottom - k.options.dilation.h * (k.d.kh - 1) - 1) / k.options.stride.h + 1;
}
inline std::int64_t out_w(const Case& k) {
  const Pads p = pads_of(k);
  return (k.d.w + p.left + p.right - k.options.dilation.w * (k.d.kw - 1) - 1) / k.options.stride.w + 1;
}

// The convolution and its gradients as plain loops in double over contiguous NCHW data: every
// (output position, channel, kernel tap) product, visited once.
struct Direct {
  std::vector<double> out, grad_in, grad_w, grad_b;
};
inline Direct direct(const Case& k, const std::vector<double>& in, const std::vector<double>& w,
                     const std::vector<double>& b, const std::vector<double>& grad_out) {
  const Pads p = pads_of(k);
  const std::int64_t ho = out_h(k), wo = out_w(k), cg = k.d.c / k.options.groups, og = k.d.o / k.options.groups;
  Direct r;
  r.out.assign(static_cast<std::size_t>(k.d.n * k.d.o * ho * wo), 0.0);
  r.grad_in.assign(in.size(), 0.0);
  r.grad_w.assign(w.size(), 0.0);
  r.grad_b.assign(static_cast<std::size_t>(k.d.o), 0.0);
  auto at = [](std::int64_t i) { return static_cast<std::size_t>(i); };
  for (std::int64_t n = 0; n < k.d.n; ++n)
    for (std::int64_t o = 0; o < k.d.o; ++o)
      for (std::int64_t y = 0; y < ho; ++y)
        for (std::int64_t x = 0; x < wo; ++x) {
          const std::int64_t oi = ((n * k.d.o + o) * ho + y) * wo + x;
          double sum = b.empty() ? 0.0 : b[at(o)];
          const double g = grad_out.empty() ? 0.0 : grad_out[at(oi)];
          r.grad_b[at(o)] += g;
          for (std::int64_t c = 0; c < cg; ++c)
            for (std::int64_t i = 0; i < k.d.kh; ++i)
              for (std::int64_t j = 0; j < k.d.kw; ++j) {
                const std::int64_t iy = y * k.options.stride.h - p.top + i * k.options.dilation.h;
                const std::int64_t ix = x * k.options.stride.w - p.left + j * k.options.dilation.w;
                if (iy < 0 || iy >= k.d.h || ix < 0 || ix >= k.d.w) continue;
                const std::int64_t ci = (o / og) * cg + c;
                const std::int64_t ii = ((n * k.d.c + ci) * k.d.h + iy) * k.d.w + ix;
                const std::int64_t wi = ((o * cg + c) * k.d.kh + i) * k.d.kw + j;
                sum += in[at(ii)] * w[at(wi)];
                r.grad_in[at(ii)] += g * w[at(wi)];
                r.grad_w[at(wi)] += g * in[at(ii)];
              }
          r.out[at(oi)] = sum;
        }
  return r;
}

inline Shape input_shape(const Case& k) { return k.unbatched ? Shape{k.d.c, k.d.h, k.d.w} : Shape{k.d.n, k.d.c, k.d.h, k.d.w}; }
inline Shape weight_shape(const Case& k) { return {k.d.o, k.d.c / k.options.groups, k.d.kh, k.d.kw}; }
inline Shape output_shape(const Case& k) {
  return k.unbatched ? Shape{k.d.o, out_h(k), out_w(k)} : Shape{k.d.n, k.d.o, out_h(k), out_w(k)};
}
inline const Conv2dOptions& options_of(const Case& k) { return k.options; }

// max |got - want| / max(|want|, 1) over all elements: values here are O(1) to O(10).
inline double max_error(const Tensor& got, const std::vector<double>& want) {
  const std::vector<double> g = got.to_vector<double>();
  REQUIRE(g.size() == want.size());
  double worst = 0.0;
  for (std::size_t i = 0; i < g.size(); ++i) {
    worst = std::max(worst, std::abs(g[i] - want[i]) / std::max(std::abs(want[i]), 1.0));
  }
  return worst;
}

// Every option, alone and together: stride, padding (sizes, per dim, same with even and odd
// kernels, valid), dilation, groups (depthwise too), bias or not, non-square, unbatched.
inline std::vector<Case> cases() {
  return {
      {"plain 3x3", {2, 3, 6, 5, 4, 3, 3}},
      {"1x1", {2, 5, 4, 3, 3, 1, 1}},
      {"1x1 strided", {2, 5, 5, 4, 3, 1, 1}, {.stride = 2}},
      {"padding 1", {2, 3, 5, 5, 4, 3, 3}, {.padding = 1}},
      {"padding per dim", {1, 2, 5, 6, 3, 3, 2}, {.padding = {2, 1}}},
      {"stride 2", {2, 3, 7, 6, 4, 3, 3}, {.stride = 2, .padding = 1}},
      {"stride per dim", {2, 3, 7, 8, 2, 2, 3}, {.stride = {3, 2}}},
      {"dilation 2", {1, 2, 8, 7, 3, 3, 3}, {.dilation = 2}},
      {"dilation per dim, padded", {2, 2, 7, 8, 3, 3, 2}, {.padding = {1, 2}, .dilation = {2, 3}}},
      {"same, odd kernel", {2, 3, 5, 6, 2, 3, 3}, {.padding = kSame}},
      {"same, even kernel", {2, 3, 5, 6, 2, 4, 2}, {.padding = kSame}},
      {"same, even kernel, dilated", {1, 2, 6, 7, 3, 2, 4}, {.padding = kSame, .dilation = {3, 1}}},
      {"valid", {2, 3, 5, 4, 2, 2, 3}, {.padding = kValid}},
      {"groups 2", {2, 4, 5, 5, 6, 3, 3}, {.padding = 1, .groups = 2}},
      {"groups 3, strided", {1, 6, 7, 6, 3, 3, 2}, {.stride = 2, .padding = {0, 1}, .groups = 3}},
      {"depthwise", {2, 4, 6, 6, 4, 3, 3}, {.padding = 1, .groups = 4}},
      {"depthwise, multiplier 2", {1, 3, 5, 6, 6, 3, 3}, {.stride = 2, .groups = 3}},
      {"no bias", {2, 3, 5, 5, 4, 3, 3}, {.padding = 1}, kNoBias},
      {"kernel the size of the padded input", {1, 2, 3, 2, 2, 5, 4}, {.padding = 1}},
      {"everything", {3, 6, 9, 8, 4, 3, 2}, {.stride = {2, 3}, .padding = {2, 1}, .dilation = {2, 1}, .groups = 2}},
      {"unbatched", {1, 3, 5, 6, 2, 3, 3}, {.padding = 1}, kBias, kUnbatched},
      {"unbatched, same, grouped", {1, 4, 5, 4, 2, 2, 2}, {.padding = kSame, .groups = 2}, kBias, kUnbatched},
  };
}

// The case's tensors: random input, weight, bias (undefined without) and upstream gradient.
struct Operands {
  Tensor input, weight, bias, grad_out;
};
inline Operands operands(const Case& k, TensorOptions options) {
  return {uniform(input_shape(k), -2, 2, options), uniform(weight_shape(k), -1, 1, options),
          k.bias ? uniform({k.d.o}, -1, 1, options) : Tensor(), uniform(output_shape(k), -1, 1, options)};
}

inline std::vector<double> host(const Tensor& t) { return t.defined() ? t.to_vector<double>() : std::vector<double>{}; }

// conv2d's output and its three gradients (for grad_out) against the direct loops, in float64.
inline void values(Device d) {
  manual_seed(3);
  for (const Case& k : cases()) {
    INFO(k.name << " on " << d);
    const Operands a = operands(k, f64(d));
    const Tensor x = a.input.clone().requires_grad_(), w = a.weight.clone().requires_grad_();
    const Tensor b = k.bias ? a.bias.clone().requires_grad_() : Tensor();
    const Tensor y = conv2d(x, w, b, options_of(k));
    REQUIRE(y.shape() == output_shape(k));
    y.backward(a.grad_out);
    const Direct want = direct(k, host(a.input), host(a.weight), host(a.bias), host(a.grad_out));
    CHECK(max_error(y, want.out) < 1e-13);
    CHECK(max_error(x.grad(), want.grad_in) < 1e-13);
    CHECK(max_error(w.grad(), want.grad_w) < 1e-13);
    if (k.bias) CHECK(max_error(b.grad(), want.grad_b) < 1e-13);
    CHECK(x.grad().shape() == x.shape());
  }
}

// conv1d: the 2-D case with H = 1 and a 1-row kernel, given as [N, C, L] (or [C, L]) tensors.
inline void conv1d_values(Device d) {
  struct Case1d {
    const char* name;
    std::int64_t n, c, l, o, k;  // input [n, c, l], weight [o, c / groups, k]
    Conv1dOptions options = {};
    bool bias = true;
    bool unbatched = false;
  };
  const std::vector<Case1d> cases1d = {
      {"plain", 2, 3, 9, 4, 3},
      {"strided, padded, dilated", 2, 3, 11, 4, 3, {.stride = 2, .padding = 2, .dilation = 2}},
      {"same, even kernel", 2, 2, 7, 3, 4, {.padding = kSame}},
      {"same, dilated", 1, 2, 7, 3, 3, {.padding = kSame, .dilation = 3}},
      {"valid", 2, 3, 6, 2, 5, {.padding = kValid}},
      {"grouped, no bias", 2, 4, 8, 6, 3, {.padding = 1, .groups = 2}, kNoBias},
      {"depthwise", 2, 3, 8, 3, 3, {.stride = 3, .groups = 3}},
      {"unbatched", 1, 3, 6, 2, 2, {.padding = 1}, kBias, kUnbatched},
  };
  manual_seed(4);
  for (const Case1d& c1 : cases1d) {
    INFO(c1.name << " on " << d);
    const Conv1dOptions& o1 = c1.options;
    const ConvPadding pad2 = o1.padding.mode == ConvPadding::Mode::Sizes ? ConvPadding(0, o1.padding.sizes[0]) : o1.padding;
    const Case k{c1.name, {c1.n, c1.c, 1, c1.l, c1.o, 1, c1.k},
                 {.stride = {1, o1.stride}, .padding = pad2, .dilation = {1, o1.dilation}, .groups = o1.groups}, c1.bias};
    const Shape in_shape = c1.unbatched ? Shape{c1.c, c1.l} : Shape{c1.n, c1.c, c1.l};
    const Tensor x = uniform(in_shape, -2, 2, f64(d)).requires_grad_();
    const Tensor w = uniform({c1.o, c1.c / o1.groups, c1.k}, -1, 1, f64(d)).requires_grad_();
    const Tensor b = c1.bias ? uniform({c1.o}, -1, 1, f64(d)).requires_grad_() : Tensor();
    const Tensor y = conv1d(x, w, b, o1);
    const Shape want_shape = c1.unbatched ? Shape{c1.o, out_w(k)} : Shape{c1.n, c1.o, out_w(k)};
    REQUIRE(y.shape() == want_shape);
    const Tensor g = uniform(y.shape(), -1, 1, f64(d));
    y.backward(g);
    const Direct want = direct(k, host(x), host(w), host(b), host(g));
    CHECK(max_error(y, want.out) < 1e-13);
    CHECK(max_error(x.grad(), want.grad_in) < 1e-13);
    CHECK(max_error(w.grad(), want.grad_w) < 1e-13);
    if (c1.bias) CHECK(max_error(b.grad(), want.grad_b) < 1e-13);
  }
}

using test::check_grad;

// Finite differences in float64 on strided, padded, dilated and grouped convolutions, and with only
// some inputs requiring grad (each gradient is computed only when asked for).
inline void gradients(Device d) {
  manual_seed(5);
  const std::vector<Case> picked = {
      {"strided, padded", {2, 2, 5, 6, 3, 3, 2}, {.stride = 2, .padding = {1, 2}}},
      {"dilated, same", {1, 2, 5, 5, 2, 2, 3}, {.padding = kSame, .dilation = 2}},
      {"grouped", {2, 4, 4, 5, 4, 3, 3}, {.stride = {1, 2}, .padding = 1, .groups = 2}},
      {"depthwise", {1, 3, 5, 4, 3, 3, 3}, {.padding = 1, .groups = 3}},
      {"unbatched", {1, 2, 4, 4, 2, 2, 2}, {}, kBias, kUnbatched},
  };
  for (const Case& k : picked) {
    INFO(k.name << " on " << d);
    Operands a = operands(k, f64(d));
    const Tensor x = a.input.requires_grad_(), w = a.weight.requires_grad_(), b = a.bias.requires_grad_();
    const Conv2dOptions o = options_of(k);
    check_grad([&](const std::vector<Tensor>& in) { return conv2d(in[0], in[1], in[2], o); }, {x, w, b});
    // Input only, weight only, bias only.
    check_grad([&](const std::vector<Tensor>& in) { return conv2d(in[0], a.weight.detach(), {}, o); }, {x});
    check_grad([&](const std::vector<Tensor>& in) { return conv2d(a.input.detach(), in[0], {}, o); }, {w});
    check_grad([&](const std::vector<Tensor>& in) { return conv2d(a.input.detach(), a.weight.detach(), in[0], o); }, {b});
  }
  // Only the weight requires grad: the input gets none.
  Tensor x = uniform({1, 2, 4, 4}, -1, 1, f64(d));
  Tensor w = uniform({3, 2, 3, 3}, -1, 1, f64(d)).requires_grad_();
  conv2d(x, w).sum().backward();
  CHECK_FALSE(x.grad().defined());
  CHECK(w.grad().defined());
  // conv1d.
  const Tensor x1 = uniform({2, 4, 9}, -1, 1, f64(d)).requires_grad_();
  const Tensor w1 = uniform({2, 2, 3}, -1, 1, f64(d)).requires_grad_();
  const Tensor b1 = uniform({2}, -1, 1, f64(d)).requires_grad_();
  check_grad([](const std::vector<Tensor>& in) {
    return conv1d(in[0], in[1], in[2], {.stride = 2, .padding = 1, .dilation = 2, .groups = 2});
  }, {x1, w1, b1});
  check_grad([](const std::vector<Tensor>& in) { return conv1d(in[0], in[1], in[2], {.padding = kSame}); },
             {x1.detach().slice(1, 0, 2).requires_grad_(), w1, b1});
}

// [N, C, H, W] data laid out NHWC in memory (PyTorch's channels_last).
inline Tensor channels_last(const Tensor& t) { return t.permute({0, 2, 3, 1}).contiguous().permute({0, 3, 1, 2}); }
inline bool has_channels_last_strides(const Tensor& t) {
  const Shape& s = t.shape();
  return t.strides() == Strides{s[1] * s[2] * s[3], 1, s[3] * s[1], s[1]};
}

// A channels-last input (or weight) gives the same values and gradients, and a channels-last
// output and input gradient, as PyTorch's suggest_memory_format.
inline void channels_last_layout(Device d) {
  manual_seed(6);
  for (const Case& k : {Case{"grouped, strided", {2, 4, 7, 6, 6, 3, 2}, {.stride = 2, .padding = 1, .groups = 2}},
                        Case{"1x1", {2, 3, 4, 5, 4, 1, 1}}}) {
    INFO(k.name << " on " << d);
    const Operands a = operands(k, f64(d));
    const Tensor x = a.input.clone().requires_grad_(), w = a.weight.clone().requires_grad_();
    const Tensor xl = channels_last(a.input).requires_grad_(), wl = channels_last(a.weight).requires_grad_();
    REQUIRE(has_channels_last_strides(xl));
    const Tensor want = conv2d(x, w, a.bias, options_of(k));
    want.backward(a.grad_out);
    CHECK(want.is_contiguous());
    for (const auto& [xi, wi] : {std::pair{xl, w.detach().clone().requires_grad_()},
                                 std::pair{x.detach().clone().requires_grad_(), wl}}) {
      const Tensor got = conv2d(xi, wi, a.bias, options_of(k));
      // Channels-last unless the channels-last operand is also contiguous (a 1x1 weight): then, as
      // for PyTorch, contiguous.
      CHECK(has_channels_last_strides(got) == (!xi.is_contiguous() || !wi.is_contiguous()));
      CHECK(allclose(got, want, 1e-13, 1e-13));
      got.backward(a.grad_out);
      CHECK(allclose(xi.grad(), x.grad(), 1e-13, 1e-13));
      CHECK(allclose(wi.grad(), w.grad(), 1e-13, 1e-13));
    }
    // Each gradient in its input's layout, when asked (a leaf's .grad is then stored contiguous by
    // the engine, as any non-contiguous gradient).
    const ops::ConvParams p{.stride = {k.options.stride.h, k.options.stride.w},
                            .pad_begin = k.options.padding.sizes, .pad_end = k.options.padding.sizes,
                            .groups = k.options.groups};
    const Tensor gl = channels_last(a.grad_out);
    const Tensor gx = ops::conv2d_backward_input(gl, w.detach(), x.shape(), p, true);
    const Tensor gw = ops::conv2d_backward_weight(gl, xl.detach(), w.shape(), p, true);
    CHECK(has_channels_last_strides(gx));
    CHECK(has_channels_last_strides(gw));
    CHECK(allclose(gx, x.grad(), 1e-13, 1e-13));
    CHECK(allclose(gw, w.grad(), 1e-13, 1e-13));
    CHECK(ops::conv2d_backward_input(gl, w.detach(), x.shape(), p, false).is_contiguous());
    // The bias gradient from a channels-last upstream gradient.
    const Tensor b = a.bias.clone().requires_grad_(), bl = a.bias.clone().requires_grad_();
    conv2d(x.detach(), w.detach(), b, options_of(k)).backward(a.grad_out);
    conv2d(xl.detach(), w.detach(), bl, options_of(k)).backward(gl);
    CHECK(allclose(bl.grad(), b.grad(), 1e-13, 1e-13));
  }
  // Any other layout (a transposed view, a strided slice) is made contiguous first.
  const Tensor x = uniform({2, 3, 6, 6}, -1, 1, f64(d)), w = uniform({2, 3, 3, 3}, -1, 1, f64(d));
  const Tensor xt = x.transpose(2, 3).contiguous().transpose(2, 3);
  CHECK(allclose(conv2d(xt, w), conv2d(x, w), 1e-13, 1e-13));
  const Tensor wide = uniform({2, 6, 6, 6}, -1, 1, f64(d));
  CHECK(allclose(conv2d(wide.slice(1, 0, 6, 2), w), conv2d(wide.slice(1, 0, 6, 2).contiguous(), w), 1e-13, 1e-13));
  // An upstream gradient with stride 0 (from sum()) is fine.
  const Tensor xg = x.clone().requires_grad_();
  conv2d(xg, w).sum().backward();
  const Direct ones_grad = direct({"", {2, 3, 6, 6, 2, 3, 3}, {}, kNoBias}, host(x), host(w), {},
                                  std::vector<double>(2 * 2 * 4 * 4, 1.0));
  CHECK(max_error(xg.grad(), ones_grad.grad_in) < 1e-13);
}

// float32 against float64 (without TF32: cuDNN's default, checked separately on CUDA), and the
// 16-bit dtypes against float64 on the same (rounded) inputs.
inline void dtypes(Device d) {
  manual_seed(7);
  const Case k{"net layer", {4, 8, 10, 10, 16, 3, 3}, {.padding = 1}};
  const Operands a = operands(k, f64(d));
  const bool tf32 = cuda::cudnn_allow_tf32();
  cuda::set_cudnn_allow_tf32(false);
  struct Want {
    DType dtype;
    double tolerance;  // relative to max(|value|, 1)
  };
  // Sums of 72 products: float32 carries ~1e-7 per term. bfloat16 (8 bits of mantissa) rounds the
  // output once: 2^-8 relative, plus the bias added after; float16: 2^-11.
  for (const Want& want : {Want{kFloat32, 1e-5}, Want{kBFloat16, 1e-2}, Want{kFloat16, 2e-3}}) {
    INFO(dtype_name(want.dtype) << " on " << d);
    const Tensor x = a.input.to(want.dtype).requires_grad_(), w = a.weight.to(want.dtype).requires_grad_();
    const Tensor b = a.bias.to(want.dtype).requires_grad_();
    const Tensor y = conv2d(x, w, b, options_of(k));
    CHECK(y.dtype() == want.dtype);
    y.backward(a.grad_out.to(want.dtype));
    // The reference sees the same rounded inputs, in double.
    const Direct ref = direct(k, host(x), host(w), host(b), host(a.grad_out.to(want.dtype)));
    CHECK(max_error(y, ref.out) < want.tolerance);
    CHECK(max_error(x.grad(), ref.grad_in) < want.tolerance);
    // The weight gradient sums 4 * 100 products: scaled to its size.
    CHECK(max_error(w.grad() / 10.0, [&] {
      std::vector<double> v = ref.grad_w;
      for (double& e : v) e /= 10.0;
      return v;
    }()) < want.tolerance);
    CHECK(max_error(b.grad() / 100.0, [&] {
      std::vector<double> v = ref.grad_b;
      for (double& e : v) e /= 100.0;
      return v;
    }()) < want.tolerance);
  }
  cuda::set_cudnn_allow_tf32(tf32);
  CHECK_THROWS_WITH(conv2d(a.input.to(kInt64), a.weight.to(kInt64)), ContainsSubstring("conv2d") && ContainsSubstring("int64"));
}

// Against PyTorch (tests/reference/make_reference.py, tests/data/conv.txt): output and the three
// gradients for a fixed upstream gradient, in float64.
inline void against_pytorch(Device d) {
  const auto ref = test::load_reference("conv.txt", kFloat64);
  using Fn = std::function<Tensor(const Tensor&, const Tensor&, const Tensor&)>;
  const std::vector<std::pair<std::string, Fn>> cases = {
      {"grouped", [](auto& x, auto& w, auto& b) {
         return conv2d(x, w, b, {.stride = {2, 1}, .padding = {1, 2}, .dilation = {1, 2}, .groups = 2});
       }},
      {"same", [](auto& x, auto& w, auto& b) { return conv2d(x, w, b, {.padding = kSame, .dilation = {1, 2}}); }},
      {"depthwise", [](auto& x, auto& w, auto&) { return conv2d(x, w, {}, {.stride = 2, .padding = 1, .groups = 4}); }},
      {"unbatched", [](auto& x, auto& w, auto& b) { return conv2d(x, w, b, {.padding = kValid}); }},
      {"conv1d", [](auto& x, auto& w, auto& b) {
         return conv1d(x, w, b, {.stride = 2, .padding = 2, .dilation = 2, .groups = 2});
       }},
      {"conv1d_same", [](auto& x, auto& w, auto& b) { return conv1d(x, w, b, {.padding = kSame}); }},
  };
  for (const auto& [name, fn] : cases) {
    INFO(name << " on " << d);
    auto at = [&](const std::string& what) { return ref.at(name + "." + what).to(d); };
    const Tensor x = at("x").requires_grad_(), w = at("w").requires_grad_();
    const bool has_bias = ref.count(name + ".b") > 0;
    const Tensor b = has_bias ? at("b").requires_grad_() : Tensor();
    const Tensor y = fn(x, w, b);
    REQUIRE(y.shape() == ref.at(name + ".out").shape());
    y.backward(at("g"));
    CHECK(test::max_rel_error(y, ref.at(name + ".out"), 1e-6) < 1e-12);
    CHECK(test::max_rel_error(x.grad(), ref.at(name + ".gx"), 1e-6) < 1e-12);
    CHECK(test::max_rel_error(w.grad(), ref.at(name + ".gw"), 1e-6) < 1e-12);
    if (has_bias) CHECK(test::max_rel_error(b.grad(), ref.at(name + ".gb"), 1e-6) < 1e-12);
  }
}

// Zero-size batches, no input channels, an output that reads only padding.
inline void empty_shapes(Device d) {
  const Tensor w = uniform({4, 3, 3, 3}, -1, 1, f64(d)).requires_grad_();
  const Tensor b = tensor({1, 2, 3, 4}, {}, f64(d)).requires_grad_();
  const Tensor x0 = zeros({0, 3, 5, 5}, f64(d)).requires_grad_();
  const Tensor y0 = conv2d(x0, w, b, {.padding = 1});
  CHECK(y0.shape() == Shape{0, 4, 5, 5});
  y0.sum().backward();
  CHECK(x0.grad().shape() == Shape{0, 3, 5, 5});
  CHECK(w.grad().to_vector<double>() == std::vector<double>(4 * 3 * 9, 0.0));
  CHECK(b.grad().to_vector<double>() == std::vector<double>(4, 0.0));
  // No input channels: the output is the bias.
  const Tensor none = conv2d(zeros({2, 0, 3, 3}, f64(d)), zeros({4, 0, 3, 3}, f64(d)), b.detach(), {.padding = 1});
  CHECK(none.shape() == Shape{2, 4, 3, 3});
  CHECK(none.sum().item<double>() == 2 * 9 * (1 + 2 + 3 + 4));
  // An empty spatial dim padded enough: every output reads padding only.
  CHECK(conv2d(zeros({1, 3, 0, 2}, f64(d)), w.detach(), b.detach(), {.padding = 2}).sum().item<double>() ==
        2 * 4 * (1 + 2 + 3 + 4));
}

// What a bad call names: shapes, channels, the kernel against the padded input, dtypes, devices.
inline void bad_calls(Device d) {
  const Tensor x = zeros({2, 3, 5, 5}, f64(d)), w = zeros({4, 3, 3, 3}, f64(d));
  CHECK_THROWS_WITH(conv2d(zeros({3, 5, 5, 1, 1}, f64(d)), w),
                    ContainsSubstring("conv2d") && ContainsSubstring("3-D (unbatched) or 4-D") && ContainsSubstring("[3, 5, 5, 1, 1]"));
  CHECK_THROWS_WITH(conv2d(zeros({2, 4, 5, 5}, f64(d)), w),
                    ContainsSubstring("expected input with 3 channels") && ContainsSubstring("[2, 4, 5, 5]") &&
                        ContainsSubstring("with 4 channels"));
  CHECK_THROWS_WITH(conv2d(zeros({2, 3, 2, 2}, f64(d)), w),
                    ContainsSubstring("larger than the padded input") && ContainsSubstring("[2, 3, 2, 2]"));
  CHECK_THROWS_WITH(conv2d(zeros({2, 3, 2, 2}, f64(d)), w, {}, {.padding = 1, .dilation = 2}),
                    ContainsSubstring("larger than the padded input"));
  CHECK_THROWS_WITH(conv2d(zeros({2, 3, 5, 5}, f64(d)), zeros({4, 1, 3, 3}, f64(d)), {}, {.groups = 2}),
                    ContainsSubstring("not divisible by groups=2"));
  CHECK_THROWS_WITH(conv2d(zeros({2, 4, 5, 5}, f64(d)), zeros({3, 2, 3, 3}, f64(d)), {}, {.groups = 2}),
                    ContainsSubstring("3 output channels") && ContainsSubstring("groups=2"));
  CHECK_THROWS_WITH(conv2d(x, zeros({4, 3, 3}, f64(d))), ContainsSubstring("weight must be 4-D"));
  CHECK_THROWS_WITH(conv2d(x, w, zeros({3}, f64(d))), ContainsSubstring("bias must have shape [4]"));
  CHECK_THROWS_WITH(conv2d(x, w.to(kFloat32)), ContainsSubstring("float64") && ContainsSubstring("float32"));
  CHECK_THROWS_WITH(conv2d(x, w, {}, {.stride = 0}), ContainsSubstring("stride"));
  CHECK_THROWS_WITH(conv2d(x, w, {}, {.padding = -1}), ContainsSubstring("padding must not be negative"));
  CHECK_THROWS_WITH(conv2d(x, w, {}, {.stride = 2, .padding = kSame}), ContainsSubstring("padding=same needs stride 1"));
  CHECK_THROWS_WITH(conv2d(x, w, {}, {.groups = 0}), ContainsSubstring("groups must be at least 1"));
  CHECK_THROWS_WITH(conv1d(x, w), ContainsSubstring("conv1d") && ContainsSubstring("2-D (unbatched) or 3-D"));
  CHECK_THROWS_WITH(conv1d(zeros({2, 3, 5}, f64(d)), zeros({4, 2, 3}, f64(d))),
                    ContainsSubstring("conv1d") && ContainsSubstring("expected input with 2 channels"));
  CHECK_THROWS_WITH(conv1d(zeros({2, 3, 5}, f64(d)), zeros({4, 3, 3}, f64(d)), {}, {.padding = {1, 1}}),
                    ContainsSubstring("conv1d: padding is one size"));
  if (d.is_cuda()) {
    CHECK_THROWS_WITH(conv2d(x, w.to(Device::cpu())), ContainsSubstring("different devices"));
  }
}

// nn::Conv2d and nn::Conv1d: shapes, PyTorch's initialisation bounds, parameter names, options,
// to(device).
inline void modules(Device d) {
  manual_seed(8);
  nn::Conv2d conv(4, 8, 3, {.stride = 2, .padding = 1, .groups = 2});
  CHECK(conv->weight.shape() == Shape{8, 2, 3, 3});
  CHECK(conv->bias.shape() == Shape{8});
  const auto named = conv->named_parameters();
  REQUIRE(named.size() == 2);
  CHECK(named[0].first == "weight");
  CHECK(named[1].first == "bias");
  // Uniform in +-1/sqrt(fan_in), fan_in = 2 * 3 * 3: inside the bound, and filling it.
  const double bound = 1.0 / std::sqrt(18.0);
  for (const Tensor& p : {conv->weight, conv->bias}) {
    const std::vector<double> v = p.to_vector<double>();
    const auto [lo, hi] = std::minmax_element(v.begin(), v.end());
    CHECK(*lo >= -bound);
    CHECK(*hi <= bound);
    CHECK(*hi - *lo > bound);  // spread over the range, not a constant
  }
  conv->to(d);
  CHECK(conv->weight.device() == d);
  const Tensor x = uniform({2, 4, 9, 7}, -1, 1, TensorOptions(kFloat32).device(d));
  const Tensor y = conv(x);
  CHECK(y.shape() == Shape{2, 8, 5, 4});
  CHECK(allclose(y, conv2d(x, conv->weight, conv->bias, {.stride = 2, .padding = 1, .groups = 2}), 1e-6, 1e-6));
  y.sum().backward();
  CHECK(conv->weight.grad().shape() == Shape{8, 2, 3, 3});
  CHECK(conv->bias.grad().device() == d);

  nn::Conv2d rect(3, 2, {1, 3}, {.padding = kSame, .bias = false, .dtype = kFloat64});
  CHECK(rect->named_parameters().size() == 1);
  CHECK(rect->weight.dtype() == kFloat64);
  rect->to(d);
  CHECK(rect(zeros({3, 5, 6}, f64(d))).shape() == Shape{2, 5, 6});  // unbatched

  nn::Conv1d conv1(6, 4, 5, {.padding = 2, .groups = 2});
  CHECK(conv1->weight.shape() == Shape{4, 3, 5});
  const std::vector<double> w1 = conv1->weight.to_vector<double>();
  CHECK(*std::max_element(w1.begin(), w1.end()) <= 1.0 / std::sqrt(15.0));
  conv1->to(d);
  CHECK(conv1(uniform({2, 6, 10}, -1, 1, TensorOptions(kFloat32).device(d))).shape() == Shape{2, 4, 10});

  CHECK_THROWS_WITH(nn::Conv2d(3, 4, 3, {.groups = 2}), ContainsSubstring("in_channels (3) must be divisible by groups (2)"));
  CHECK_THROWS_WITH(nn::Conv2d(4, 3, 3, {.groups = 2}), ContainsSubstring("out_channels (3)"));
  CHECK_THROWS_WITH(nn::Conv2d(4, 4, 3, {.stride = 2, .padding = kSame}), ContainsSubstring("padding=same needs stride 1"));
  CHECK_THROWS_WITH(nn::Conv1d(4, 4, 0), ContainsSubstring("kernel_size"));
}

}  // namespace conv_checks
