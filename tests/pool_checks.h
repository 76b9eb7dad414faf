// max_pool2d, avg_pool2d, adaptive_avg_pool2d (and the 1-D views): the same checks on each device.
// Values and input gradients against loops in double written here from the definitions (window by
// window, position by position), gradients against finite differences, 16-bit against float32
// rounded once, and PyTorch's outputs and gradients (tests/data/pool.txt).
// Included by pool_test.cpp (CPU) and cuda_pool_test.cpp (CUDA).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "catch.h"
#include "gradcheck_support.h"
#include "reference_data.h"
#include <ember/ember.h>

namespace pool_checks {

using namespace ember;
using Catch::Matchers::ContainsSubstring;

inline TensorOptions f64(Device d) { return TensorOptions(kFloat64).device(d); }

// ---- Reference loops, in double, on host vectors of [N, C, H, W] ---------------------------------

struct Window {
  Size2 kernel = 1;
  OptionalSize2 stride = std::nullopt;  // unset: the kernel
  Size2 padding = 0, dilation = 1;
  bool ceil_mode = false;
  bool count_include_pad = true;
  std::optional<std::int64_t> divisor = std::nullopt;
  Size2 step() const { return stride.value_or(kernel); }
};

// Outputs along one dim, counted window by window: without ceil_mode, the windows that end inside
// the padded input; with it, the windows that start before the padded input's end minus the last
// partial stride, and inside the input or its left padding.
inline std::int64_t out_size(std::int64_t in, std::int64_t k, std::int64_t s, std::int64_t p, std::int64_t d,
                             bool ceil_mode) {
  const std::int64_t span = d * (k - 1) + 1;
  std::int64_t n = 0;
  for (std::int64_t o = 0;; ++o) {
    const std::int64_t start = o * s;  // in padded coordinates
    const bool fits = ceil_mode ? (start + span - 1 < in + 2 * p + s - 1 && start < in + p) : (start + span <= in + 2 * p);
    if (!fits) return n;
    ++n;
  }
}

struct Planes {
  std::int64_t n, c, h, w, oh, ow;
};

inline Planes planes_for(const Shape& s, const Window& win) {
  const std::int64_t h = s[2], w = s[3];
  return {s[0], s[1], h, w,
          out_size(h, win.kernel.h, win.step().h, win.padding.h, win.dilation.h, win.ceil_mode),
          out_size(w, win.kernel.w, win.step().w, win.padding.w, win.dilation.w, win.ceil_mode)};
}

// Calls fn(oh, ow, hh, ww) for every kernel position (hh, ww) of every window, in row-major order,
// inside the input or not.
template <typename Fn> void for_each_position(const Planes& p, const Window& win, Fn&& fn) {
  for (std::int64_t oh = 0; oh < p.oh; ++oh) {
    for (std::int64_t ow = 0; ow < p.ow; ++ow) {
      for (std::int64_t i = 0; i < win.kernel.h; ++i) {
        for (std::int64_t j = 0; j < win.kernel.w; ++j) {
          fn(oh, ow, oh * win.step().h - win.padding.h + i * win.dilation.h,
             ow * win.step().w - win.padding.w + j * win.dilation.w);
        }
      }
    }
  }
}

struct MaxRef {
  std::vector<double> out, grad;  // grad: the input's gradient for the upstream gradient given
  std::vector<std::int64_t> indices;
};

// PyTorch's max: starting from -inf at the window's first element inside the input, an element
// wins when it is larger or NaN (so the first of equal maxima, the last of several NaNs).
inline MaxRef max_ref(const std::vector<double>& x, const Shape& s, const Window& win, const std::vector<double>& g) {
  const Planes p = planes_for(s, win);
  MaxRef r{std::vector<double>(static_cast<std::size_t>(p.n * p.c * p.oh * p.ow), -std::numeric_limits<double>::infinity()),
           std::vector<double>(x.size(), 0.0),
           std::vector<std::int64_t>(static_cast<std::size_t>(p.n * p.c * p.oh * p.ow), -1)};
  for (std::int64_t plane = 0; plane < p.n * p.c; ++plane) {
    for_each_position(p, win, [&](std::int64_t oh, std::int64_t ow, std::int64_t hh, std::int64_t ww) {
      if (hh < 0 || hh >= p.h || ww < 0 || ww >= p.w) return;
      const auto o = static_cast<std::size_t>((plane * p.oh + oh) * p.ow + ow);
      const double v = x[static_cast<std::size_t>((plane * p.h + hh) * p.w + ww)];
      if (r.indices[o] < 0) r.indices[o] = hh * p.w + ww;
      if (v > r.out[o] || std::isnan(v)) {
        r.out[o] = v;
        r.indices[o] = hh * p.w + ww;
      }
    });
    for (std::int64_t o = 0; o < p.oh * p.ow; ++o) {
      const auto e = static_cast<std::size_t>(plane * p.oh * p.ow + o);
      if (r.indices[e] >= 0) r.grad[static_cast<std::size_t>(plane * p.h * p.w + r.indices[e])] += g.empty() ? 0.0 : g[e];
    }
  }
  return r;
}

struct AvgRef {
  std::vector<double> out, grad;
};

inline AvgRef avg_ref(const std::vector<double>& x, const Shape& s, const Window& win, const std::vector<double>& g) {
  const Planes p = planes_for(s, win);
  const auto outputs = static_cast<std::size_t>(p.n * p.c * p.oh * p.ow);
  std::vector<double> sum(outputs, 0.0), inside(outputs, 0.0), padded(outputs, 0.0);
  for (std::int64_t plane = 0; plane < p.n * p.c; ++plane) {
    for_each_position(p, win, [&](std::int64_t oh, std::int64_t ow, std::int64_t hh, std::int64_t ww) {
      const auto o = static_cast<std::size_t>((plane * p.oh + oh) * p.ow + ow);
      if (hh >= -win.padding.h && hh < p.h + win.padding.h && ww >= -win.padding.w && ww < p.w + win.padding.w) {
        padded[o] += 1;
      }
      if (hh < 0 || hh >= p.h || ww < 0 || ww >= p.w) return;
      inside[o] += 1;
      sum[o] += x[static_cast<std::size_t>((plane * p.h + hh) * p.w + ww)];
    });
  }
  AvgRef r{std::vector<double>(outputs, 0.0), std::vector<double>(x.size(), 0.0)};
  std::vector<double> divisor(outputs);
  for (std::size_t o = 0; o < outputs; ++o) {
    divisor[o] = win.divisor ? static_cast<double>(*win.divisor) : win.count_include_pad ? padded[o] : inside[o];
    r.out[o] = inside[o] == 0 ? 0.0 : sum[o] / divisor[o];
  }
  if (g.empty()) return r;
  for (std::int64_t plane = 0; plane < p.n * p.c; ++plane) {
    for_each_position(p, win, [&](std::int64_t oh, std::int64_t ow, std::int64_t hh, std::int64_t ww) {
      if (hh < 0 || hh >= p.h || ww < 0 || ww >= p.w) return;
      const auto o = static_cast<std::size_t>((plane * p.oh + oh) * p.ow + ow);
      r.grad[static_cast<std::size_t>((plane * p.h + hh) * p.w + ww)] += g[o] / divisor[o];
    });
  }
  return r;
}

// Adaptive windows: [floor(i * in / out), ceil((i + 1) * in / out)).
inline AvgRef adaptive_ref(const std::vector<double>& x, const Shape& s, Size2 out, const std::vector<double>& g) {
  const std::int64_t planes = s[0] * s[1], h = s[2], w = s[3];
  AvgRef r{std::vector<double>(static_cast<std::size_t>(planes * out.h * out.w), 0.0),
           std::vector<double>(x.size(), 0.0)};
  for (std::int64_t plane = 0; plane < planes; ++plane) {
    for (std::int64_t oh = 0; oh < out.h; ++oh) {
      const std::int64_t h0 = static_cast<std::int64_t>(std::floor(static_cast<double>(oh * h) / static_cast<double>(out.h)));
      const std::int64_t h1 = static_cast<std::int64_t>(std::ceil(static_cast<double>((oh + 1) * h) / static_cast<double>(out.h)));
      for (std::int64_t ow = 0; ow < out.w; ++ow) {
        const std::int64_t w0 = static_cast<std::int64_t>(std::floor(static_cast<double>(ow * w) / static_cast<double>(out.w)));
        const std::int64_t w1 = static_cast<std::int64_t>(std::ceil(static_cast<double>((ow + 1) * w) / static_cast<double>(out.w)));
        const auto o = static_cast<std::size_t>((plane * out.h + oh) * out.w + ow);
        const double count = static_cast<double>((h1 - h0) * (w1 - w0));
        double sum = 0;
        for (std::int64_t hh = h0; hh < h1; ++hh) {
          for (std::int64_t ww = w0; ww < w1; ++ww) {
            const auto i = static_cast<std::size_t>((plane * h + hh) * w + ww);
            sum += x[i];
            if (!g.empty()) r.grad[i] += g[o] / count;
          }
        }
        r.out[o] = sum / count;
      }
    }
  }
  return r;
}

// ---- Helpers -------------------------------------------------------------------------------------

inline MaxPool2dOptions max_options(const Window& w) {
  return {.stride = w.stride, .padding = w.padding, .dilation = w.dilation, .ceil_mode = w.ceil_mode};
}
inline AvgPool2dOptions avg_options(const Window& w) {
  return {.stride = w.stride,
          .padding = w.padding,
          .ceil_mode = w.ceil_mode,
          .count_include_pad = w.count_include_pad,
          .divisor_override = w.divisor};
}

inline std::vector<double> host(const Tensor& t) { return t.to_vector<double>(); }

// Distinct values (a shuffled ramp, scaled), so that no window has tied maxima and finite
// differences never change which element is the max.
inline Tensor distinct(const Shape& shape, Device d, std::uint64_t seed) {
  manual_seed(seed);
  const Tensor keys = rand({shape.numel()}, f64(d));
  std::vector<std::pair<double, std::int64_t>> order;
  const std::vector<double> k = host(keys);
  for (std::size_t i = 0; i < k.size(); ++i) order.emplace_back(k[i], static_cast<std::int64_t>(i));
  std::sort(order.begin(), order.end());
  std::vector<double> v(k.size());
  for (std::size_t rank = 0; rank < order.size(); ++rank) {
    v[static_cast<std::size_t>(order[rank].second)] = 0.1 * static_cast<double>(rank) - 3.0;
  }
  return from_vector(v, shape, f64(d));
}

inline void check_close(const std::vector<double>& got, const std::vector<double>& want, double tol) {
  REQUIRE(got.size() == want.size());
  double worst = 0;
  for (std::size_t i = 0; i < got.size(); ++i) {
    worst = std::max(worst, std::abs(got[i] - want[i]) / std::max(std::abs(want[i]), 1.0));
  }
  CHECK(worst <= tol);
}

struct Case {
  const char* what;
  Shape shape;
  Window window;
};

// Every option: overlapping windows, stride != kernel, padding, dilation, ceil_mode (with the rule
// that drops a last window starting in the right padding), rectangular kernels.
inline std::vector<Case> cases() {
  return {
      {"2x2 stride 2", {2, 3, 6, 8}, {.kernel = 2}},
      {"3x3 stride 1, overlapping", {1, 2, 5, 7}, {.kernel = 3, .stride = 1}},
      {"3x3 stride 2 padding 1", {2, 2, 7, 9}, {.kernel = 3, .stride = 2, .padding = 1}},
      {"3x2 stride 1x3 padding 1x0", {1, 3, 6, 10}, {.kernel = {3, 2}, .stride = {1, 3}, .padding = {1, 0}}},
      {"ceil_mode, 3x3 stride 2", {1, 2, 8, 8}, {.kernel = 3, .stride = 2, .ceil_mode = true}},
      {"ceil_mode drops a window in the right padding", {1, 1, 5, 9},
       {.kernel = 2, .stride = 2, .padding = 1, .ceil_mode = true}},
      {"ceil_mode with padding, window past the padding", {2, 1, 6, 7},
       {.kernel = 3, .stride = 2, .padding = 1, .ceil_mode = true}},
      {"kernel 1, stride 2", {1, 2, 5, 5}, {.kernel = 1, .stride = 2}},
      {"whole plane", {2, 2, 4, 5}, {.kernel = {4, 5}}},
  };
}

// ---- Checks ---------------------------------------------------------------------------------------

inline void max_values(Device d) {
  std::vector<Case> all = cases();
  all.push_back({"dilation 2x3", {1, 2, 9, 11}, {.kernel = {2, 3}, .stride = {1, 2}, .padding = 1, .dilation = {2, 3}}});
  all.push_back({"dilation with ceil_mode", {1, 1, 10, 10},
                 {.kernel = 3, .stride = 3, .padding = 1, .dilation = 2, .ceil_mode = true}});
  for (const Case& c : all) {
    INFO(c.what << " on " << d);
    const Tensor x = randn(c.shape, f64(d)).requires_grad_();
    const auto [y, indices] = max_pool2d_with_indices(x, c.window.kernel, max_options(c.window));
    const Tensor g = randn(y.shape(), f64(d));
    y.backward(g);
    const MaxRef want = max_ref(host(x), c.shape, c.window, host(g));
    REQUIRE(y.shape() == Shape{c.shape[0], c.shape[1], planes_for(c.shape, c.window).oh, planes_for(c.shape, c.window).ow});
    CHECK(host(y) == want.out);  // a max is exact
    CHECK(indices.to_vector<std::int64_t>() == want.indices);
    CHECK(indices.dtype() == kInt64);
    check_close(host(x.grad()), want.grad, 1e-15);
    CHECK(host(max_pool2d(x.detach(), c.window.kernel, max_options(c.window))) == want.out);
  }
}

inline void avg_values(Device d) {
  std::vector<Case> all = cases();
  all.push_back({"count_include_pad false", {2, 2, 7, 9},
                 {.kernel = 3, .stride = 2, .padding = 1, .count_include_pad = false}});
  all.push_back({"count_include_pad false, ceil_mode", {1, 2, 6, 7},
                 {.kernel = 3, .stride = 2, .padding = 1, .ceil_mode = true, .count_include_pad = false}});
  all.push_back({"divisor_override", {1, 2, 7, 9}, {.kernel = 3, .stride = 2, .padding = 1, .divisor = 5}});
  all.push_back({"negative divisor_override, ceil_mode", {1, 1, 6, 6},
                 {.kernel = 2, .stride = 2, .padding = 1, .ceil_mode = true, .divisor = -3}});
  for (const Case& c : all) {
    INFO(c.what << " on " << d);
    const Tensor x = randn(c.shape, f64(d)).requires_grad_();
    const Tensor y = avg_pool2d(x, c.window.kernel, avg_options(c.window));
    const Tensor g = randn(y.shape(), f64(d));
    y.backward(g);
    const AvgRef want = avg_ref(host(x), c.shape, c.window, host(g));
    REQUIRE(y.shape() == Shape{c.shape[0], c.shape[1], planes_for(c.shape, c.window).oh, planes_for(c.shape, c.window).ow});
    check_close(host(y), want.out, 1e-14);
    check_close(host(x.grad()), want.grad, 1e-14);
  }
  // By hand: 1..4 in a 2x2 plane, 2x2 window, padding 1, stride 2: each corner window holds one
  // element and three padding positions.
  const Tensor x = tensor({1, 2, 3, 4}, {1, 1, 2, 2}, f64(d));
  CHECK(host(avg_pool2d(x, 2, {.padding = 1})) == std::vector<double>{0.25, 0.5, 0.75, 1.0});
  CHECK(host(avg_pool2d(x, 2, {.padding = 1, .count_include_pad = false})) == std::vector<double>{1, 2, 3, 4});
  CHECK(host(avg_pool2d(x, 2, {.divisor_override = 2})) == std::vector<double>{5});
  CHECK(host(avg_pool2d(x, 2)) == std::vector<double>{2.5});
}

inline void adaptive_values(Device d) {
  const std::vector<std::pair<Shape, Size2>> all = {
      {{2, 3, 7, 9}, {3, 4}},   // neither divides: windows of 3 and 4 rows overlap
      {{1, 2, 6, 8}, {3, 4}},   // divides: plain 2x2 windows
      {{2, 2, 5, 7}, 1},        // global average
      {{1, 2, 3, 4}, {5, 6}},   // more outputs than inputs: elements repeat
      {{2, 1, 5, 5}, {5, 5}},   // identity
      {{3, 7, 5}, {2, 3}},      // unbatched
  };
  for (const auto& [shape, size] : all) {
    INFO(shape << " -> " << size << " on " << d);
    const Tensor x = randn(shape, f64(d)).requires_grad_();
    const Tensor y = adaptive_avg_pool2d(x, size);
    const Tensor g = randn(y.shape(), f64(d));
    y.backward(g);
    const Shape s4 = shape.size() == 3 ? Shape{1, shape[0], shape[1], shape[2]} : shape;
    const AvgRef want = adaptive_ref(host(x), s4, size, host(g));
    Shape out = shape;
    out[shape.size() - 2] = size.h;
    out[shape.size() - 1] = size.w;
    CHECK(y.shape() == out);
    check_close(host(y), want.out, 1e-14);
    check_close(host(x.grad()), want.grad, 1e-14);
  }
  // Global average is the mean; an output size of 0 is an empty output, and no gradient.
  const Tensor x = randn({2, 3, 4, 5}, f64(d)).requires_grad_();
  CHECK(allclose(adaptive_avg_pool2d(x, 1).reshape({2, 3}), x.reshape({2, 3, 20}).mean(2), 1e-14, 1e-15));
  const Tensor none = adaptive_avg_pool2d(x, {0, 3});
  CHECK(none.shape() == Shape{2, 3, 0, 3});
  none.sum().backward();
  CHECK(host(x.grad()) == std::vector<double>(120, 0.0));
}

// NaN wins a window (the last NaN when there are several); between equal maxima the first wins,
// and the gradient goes to the winner; an all -inf window picks its first element.
inline void nan_and_ties(Device d) {
  const double nan = std::numeric_limits<double>::quiet_NaN(), inf = std::numeric_limits<double>::infinity();
  const Tensor x = tensor({1, nan, 3, nan, /**/ 5, 5, 2, 5, /**/ -inf, -inf, 7, 7}, {1, 1, 3, 4}, f64(d)).requires_grad_();
  const auto [y, i] = max_pool2d_with_indices(x, {1, 4});
  const std::vector<double> v = host(y);
  CHECK(std::isnan(v[0]));
  CHECK(v[1] == 5);
  CHECK(v[2] == 7);
  CHECK(i.to_vector<std::int64_t>() == std::vector<std::int64_t>{3, 4, 10});
  y.backward(tensor({10, 20, 30}, {1, 1, 3, 1}, f64(d)));
  CHECK(host(x.grad()) == std::vector<double>{0, 0, 0, 10, /**/ 20, 0, 0, 0, /**/ 0, 0, 30, 0});
  const auto [y2, i2] = max_pool2d_with_indices(tensor({-inf, -inf, -inf, -inf}, {1, 1, 2, 2}, f64(d)), 2);
  CHECK(host(y2) == std::vector<double>{-inf});
  CHECK(i2.to_vector<std::int64_t>() == std::vector<std::int64_t>{0});
  // Overlapping windows: a shared max receives every window's gradient.
  const Tensor z = tensor({0, 0, 0, 0, 9, 0, 0, 0, 0}, {1, 1, 3, 3}, f64(d)).requires_grad_();
  max_pool2d(z, 2, {.stride = 1}).sum().backward();
  CHECK(host(z.grad()) == std::vector<double>{0, 0, 0, 0, 4, 0, 0, 0, 0});
  // NaN flows through avg and adaptive pooling too.
  CHECK(std::isnan(host(avg_pool2d(x.detach(), {1, 4}))[0]));
  CHECK(std::isnan(host(adaptive_avg_pool2d(x.detach(), 1))[0]));
}

// The shapes PyTorch gives: unbatched input, an empty batch, strided and channels-last-like views,
// the 1-D ops, and the modules.
inline void shapes_and_layouts(Device d) {
  const Tensor x = randn({2, 3, 6, 7}, f64(d));
  // Unbatched [C, H, W] is the batched op on [1, C, H, W].
  const Tensor one = x.select(0, 1);
  CHECK(max_pool2d(one, 2).shape() == Shape{3, 3, 3});
  CHECK(host(max_pool2d(one, 3, {.stride = 2, .padding = 1})) ==
        host(max_pool2d(one.unsqueeze(0), 3, {.stride = 2, .padding = 1})));
  CHECK(host(avg_pool2d(one, 3, {.stride = 2, .padding = 1})) ==
        host(avg_pool2d(one.unsqueeze(0), 3, {.stride = 2, .padding = 1})));
  // An empty batch gives an empty output, and an empty gradient.
  const Tensor empty_batch = zeros({0, 3, 6, 7}, f64(d)).requires_grad_();
  const Tensor pooled = max_pool2d(empty_batch, 2);
  CHECK(pooled.shape() == Shape{0, 3, 3, 3});
  pooled.sum().backward();
  CHECK(empty_batch.grad().shape() == Shape{0, 3, 6, 7});
  CHECK(avg_pool2d(empty_batch, 2).shape() == Shape{0, 3, 3, 3});
  CHECK(adaptive_avg_pool2d(empty_batch, 2).shape() == Shape{0, 3, 2, 2});
  // Strided input (a transposed view, and an NHWC buffer seen as NCHW): the same as contiguous.
  const Tensor t = x.transpose(2, 3);
  CHECK(host(max_pool2d(t, 3, {.stride = 2})) == host(max_pool2d(t.contiguous(), 3, {.stride = 2})));
  const Tensor nhwc = x.permute({0, 2, 3, 1}).contiguous().permute({0, 3, 1, 2});
  CHECK(host(avg_pool2d(nhwc, 2, {.padding = 1})) == host(avg_pool2d(x, 2, {.padding = 1})));
  CHECK(host(adaptive_avg_pool2d(nhwc, {4, 3})) == host(adaptive_avg_pool2d(x, {4, 3})));
  // Gradients through a strided view land in the view's layout.
  const Tensor leaf = x.clone().requires_grad_();
  max_pool2d(leaf.transpose(2, 3), 2).sum().backward();
  const Tensor leaf2 = x.transpose(2, 3).contiguous().requires_grad_();
  max_pool2d(leaf2, 2).sum().backward();
  CHECK(host(leaf.grad()) == host(leaf2.grad().transpose(2, 3).contiguous()));
  // The 1-D ops are the 2-D ones over [..., 1, L].
  const Tensor seq = randn({2, 3, 11}, f64(d));
  CHECK(max_pool1d(seq, 3, {.stride = 2, .padding = 1}).shape() == Shape{2, 3, 6});
  CHECK(host(max_pool1d(seq, 3, {.stride = 2, .padding = 1, .dilation = 2, .ceil_mode = true})) ==
        host(max_pool2d(seq.unsqueeze(2), {1, 3}, {.stride = {1, 2}, .padding = {0, 1}, .dilation = {1, 2}, .ceil_mode = true})));
  CHECK(host(avg_pool1d(seq, 4, {.stride = 3, .padding = 2, .count_include_pad = false})) ==
        host(avg_pool2d(seq.unsqueeze(2), {1, 4}, {.stride = {1, 3}, .padding = {0, 2}, .count_include_pad = false})));
  CHECK(avg_pool1d(seq.select(0, 0), 2).shape() == Shape{3, 5});  // unbatched [C, L]
  // Modules hold the options.
  nn::MaxPool2d pool({3, 2}, {.stride = 1, .padding = {1, 0}});
  CHECK(host(pool(x)) == host(max_pool2d(x, {3, 2}, {.stride = 1, .padding = {1, 0}})));
  CHECK(host(pool->forward_with_indices(x).second) == host(max_pool2d_with_indices(x, {3, 2}, {.stride = 1, .padding = {1, 0}}).second));
  CHECK(pool->name() == "MaxPool2d");
  nn::AvgPool2d avg(3, {.stride = 1, .padding = 1, .count_include_pad = false});
  CHECK(avg(x).shape() == x.shape());
  CHECK(host(avg(x)) == host(avg_pool2d(x, 3, {.stride = 1, .padding = 1, .count_include_pad = false})));
  nn::AdaptiveAvgPool2d head(1);
  CHECK(head(x).shape() == Shape{2, 3, 1, 1});
  nn::Sequential net(nn::MaxPool2d(2), nn::AdaptiveAvgPool2d({2, 1}), nn::Flatten());
  CHECK(net(x).shape() == Shape{2, 6});
}

// Enough planes and work that the CPU splits them over threads, and CUDA over many blocks: still
// the loops' values.
inline void large(Device d) {
  const Shape shape{4, 32, 64, 64};
  const Window win{.kernel = 3, .stride = 2, .padding = 1};
  const Tensor x = randn(shape, f64(d)).requires_grad_();
  const auto [y, indices] = max_pool2d_with_indices(x, win.kernel, max_options(win));
  const Tensor g = randn(y.shape(), f64(d));
  y.backward(g);
  const MaxRef want = max_ref(host(x), shape, win, host(g));
  CHECK(host(y) == want.out);
  CHECK(indices.to_vector<std::int64_t>() == want.indices);
  check_close(host(x.grad()), want.grad, 1e-15);
  const Tensor a = avg_pool2d(x.detach(), win.kernel, avg_options(win));
  check_close(host(a), avg_ref(host(x), shape, win, {}).out, 1e-14);
  check_close(host(adaptive_avg_pool2d(x.detach(), {7, 5})), adaptive_ref(host(x), shape, {7, 5}, {}).out, 1e-14);
}

using test::check_grad;

// Finite differences in float64, overlapping windows; max pooling on distinct values (no ties).
inline void gradients(Device d) {
  const Tensor x = distinct({2, 2, 7, 8}, d, 3).requires_grad_();
  check_grad([](const std::vector<Tensor>& in) { return max_pool2d(in[0], 3, {.stride = 1, .padding = 1}); }, x);
  check_grad([](const std::vector<Tensor>& in) {
    return max_pool2d(in[0], {2, 3}, {.stride = {1, 2}, .padding = 1, .dilation = 2, .ceil_mode = true});
  }, x);
  check_grad([](const std::vector<Tensor>& in) { return max_pool2d(in[0], 3, {.stride = 2, .ceil_mode = true}); }, x);
  check_grad([](const std::vector<Tensor>& in) { return avg_pool2d(in[0], 3, {.stride = 1, .padding = 1}); }, x);
  check_grad([](const std::vector<Tensor>& in) {
    return avg_pool2d(in[0], 3, {.stride = 2, .padding = 1, .ceil_mode = true, .count_include_pad = false});
  }, x);
  check_grad([](const std::vector<Tensor>& in) { return avg_pool2d(in[0], {3, 2}, {.stride = 1, .divisor_override = 4}); }, x);
  check_grad([](const std::vector<Tensor>& in) { return adaptive_avg_pool2d(in[0], {3, 5}); }, x);
  check_grad([](const std::vector<Tensor>& in) { return adaptive_avg_pool2d(in[0], {9, 10}); }, x);
  check_grad([](const std::vector<Tensor>& in) { return max_pool1d(in[0].reshape({4, 7, 8}), 3, {.stride = 2, .padding = 1}); }, x);
  check_grad([](const std::vector<Tensor>& in) { return avg_pool1d(in[0].reshape({4, 7, 8}), 3, {.stride = 2, .padding = 1}); }, x);
}

// bfloat16 and float16 compute in float32 and round once: bit for bit the float32 op rounded,
// forward and backward.
inline void half_precision(Device d) {
  for (DType dtype : {kBFloat16, kFloat16}) {
    INFO(dtype << " on " << d);
    manual_seed(9);
    const Tensor x16 = randn({2, 3, 9, 10}, TensorOptions(dtype).device(d));
    const Tensor g16 = randn({2, 3, 5, 5}, TensorOptions(dtype).device(d));
    const std::vector<std::function<Tensor(const Tensor&)>> ops = {
        [](const Tensor& x) { return max_pool2d(x, 3, {.stride = 2, .padding = 1}); },
        [](const Tensor& x) { return avg_pool2d(x, 3, {.stride = 2, .padding = 1, .count_include_pad = false}); },
        [](const Tensor& x) { return avg_pool2d(x, 3, {.stride = 2, .padding = 1, .divisor_override = 7}); },
        [](const Tensor& x) { return adaptive_avg_pool2d(x, 5); },
    };
    for (std::size_t k = 0; k < ops.size(); ++k) {
      INFO("op " << k);
      const Tensor a = x16.clone().requires_grad_(), b = x16.to(kFloat32).requires_grad_();
      const Tensor ya = ops[k](a), yb = ops[k](b);
      CHECK(ya.dtype() == dtype);
      CHECK(ya.to(kFloat32).to_vector<float>() == yb.to(dtype).to(kFloat32).to_vector<float>());
      ya.backward(g16);
      yb.backward(g16.to(kFloat32));
      CHECK(a.grad().to(kFloat32).to_vector<float>() == b.grad().to(dtype).to(kFloat32).to_vector<float>());
    }
  }
}

// Against PyTorch (tests/reference/make_reference.py, tests/data/pool.txt): outputs, indices and
// input gradients for a fixed upstream gradient, in float64.
inline void against_pytorch(Device d) {
  const auto ref = test::load_reference("pool.txt", kFloat64);
  auto at = [&](const std::string& name) { return ref.at(name).to(d); };
  struct MaxCase {
    std::string name;
    Size2 kernel;
    MaxPool2dOptions options;
  };
  const std::vector<MaxCase> max_cases = {
      {"max_k3s2p1", 3, {.stride = 2, .padding = 1}},
      {"max_overlap", 3, {.stride = 1}},
      {"max_dilated", {2, 3}, {.stride = {1, 2}, .padding = 1, .dilation = 2}},
      {"max_ceil", 2, {.stride = 2, .padding = 1, .ceil_mode = true}},
  };
  using Fn = std::function<Tensor(const Tensor&)>;
  std::vector<std::pair<std::string, Fn>> cases = {
      {"avg_k3s2p1", [](const Tensor& x) { return avg_pool2d(x, 3, {.stride = 2, .padding = 1}); }},
      {"avg_no_pad_count", [](const Tensor& x) { return avg_pool2d(x, 3, {.stride = 2, .padding = 1, .count_include_pad = false}); }},
      {"avg_ceil", [](const Tensor& x) { return avg_pool2d(x, 3, {.stride = 2, .padding = 1, .ceil_mode = true}); }},
      {"avg_ceil_no_pad_count", [](const Tensor& x) {
         return avg_pool2d(x, 3, {.stride = 2, .padding = 1, .ceil_mode = true, .count_include_pad = false});
       }},
      {"avg_divisor", [](const Tensor& x) {
         return avg_pool2d(x, {3, 2}, {.stride = {2, 1}, .padding = {1, 0}, .divisor_override = 5});
       }},
      {"adaptive_4x4", [](const Tensor& x) { return adaptive_avg_pool2d(x, 4); }},
      {"adaptive_8x11", [](const Tensor& x) { return adaptive_avg_pool2d(x, {8, 11}); }},
      {"unbatched_max", [](const Tensor& x) { return max_pool2d(x.select(0, 1), 3, {.stride = 2, .padding = 1}); }},
      {"max1d", [](const Tensor& x) { return max_pool1d(x.reshape({2, 18, 9}), 3, {.stride = 2, .padding = 1}); }},
      {"avg1d", [](const Tensor& x) {
         return avg_pool1d(x.reshape({2, 18, 9}), 3, {.stride = 2, .padding = 1, .ceil_mode = true});
       }},
  };
  for (const MaxCase& c : max_cases) {
    cases.emplace_back(c.name, [c](const Tensor& x) { return max_pool2d(x, c.kernel, c.options); });
    INFO(c.name << " indices on " << d);
    const Tensor indices = max_pool2d_with_indices(at("x"), c.kernel, c.options).second;
    CHECK(host(indices) == host(ref.at(c.name + ".indices")));
  }
  for (const auto& [name, fn] : cases) {
    INFO(name << " on " << d);
    const Tensor x = at("x").clone().requires_grad_();  // a fresh leaf per case: grads accumulate
    const Tensor y = fn(x);
    REQUIRE(y.shape() == ref.at(name + ".out").shape());
    y.backward(at(name + ".gy"));
    CHECK(test::max_rel_error(y, ref.at(name + ".out"), 1e-12) < 1e-14);
    CHECK(test::max_rel_error(x.grad(), ref.at(name + ".grad"), 1e-12) < 1e-14);
  }
}

}  // namespace pool_checks
