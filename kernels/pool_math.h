// The math of 2-D pooling, written once for both backends: g++ compiles it into the CPU's loops
// (kernels/cpu/pool.cpp) and nvcc into the CUDA kernels (kernels/cuda/pool.cu), which only differ in
// how they spread output (forward) or input (backward) elements over threads. The contracts are
// PoolArgs's (kernels/kernel_args.h) and adaptive_avg_pool2d's (kernels/registry.h).
//
// Every function here computes one element of one plane (a [H, W] slice of NCHW). The backward is
// a gather: each input element sums what the windows holding it send it, in the windows' row-major
// order, in the compute type, and is written once. That is the order in which PyTorch's CPU
// scatter adds them, and the gather is what PyTorch's CUDA kernels do for NCHW; it needs no atomics,
// so results are deterministic and the same on both devices.
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>

#include "ember/core/dtype.h"
#include "ember/core/host_device.h"
#include "ember/kernels/kernel_args.h"

namespace ember::kernels::pool {

// A pooling call's sizes, as plain integers for both devices (PoolArgs's, flattened).
struct Geometry {
  std::int64_t h, w, out_h, out_w;  // the planes of input and output
  std::int64_t kh, kw, sh, sw, ph, pw, dh, dw;
  bool count_include_pad;
  std::int64_t divisor;  // 0: the window's size
};

inline Geometry geometry_of(const PoolArgs& a) {
  return {.h = a.input.sizes[2], .w = a.input.sizes[3], .out_h = a.output.sizes[2], .out_w = a.output.sizes[3],
          .kh = a.kernel[0], .kw = a.kernel[1], .sh = a.stride[0], .sw = a.stride[1],
          .ph = a.padding[0], .pw = a.padding[1], .dh = a.dilation[0], .dw = a.dilation[1],
          .count_include_pad = a.count_include_pad, .divisor = a.divisor};
}

// `start` moved forward in steps of `step` to the first position >= 0 (PyTorch's while loop).
EMBER_HOST_DEVICE std::int64_t first_inside(std::int64_t start, std::int64_t step) {
  return start >= 0 ? start : start + (-start + step - 1) / step * step;
}

template <typename C> EMBER_HOST_DEVICE bool is_nan(C x) { return x != x; }

// ---- Max ----------------------------------------------------------------------------------------

// The max of window (oh, ow) of plane x and its flat index in the plane: ties go to the first, a
// NaN beats any number and a later NaN an earlier one, as PyTorch's kernels compare
// (v > best || isnan(v)). A window with no element inside the plane keeps -inf and the index of
// its first in-range position (PyTorch's), which names no element of the window.
template <typename T>
EMBER_HOST_DEVICE void max_window(const T* x, const Geometry& g, std::int64_t oh, std::int64_t ow,
                                  compute_t<T>& value, std::int64_t& index) {
  using C = compute_t<T>;
  const std::int64_t h_start = oh * g.sh - g.ph, w_start = ow * g.sw - g.pw;
  const std::int64_t h_end = std::min(h_start + (g.kh - 1) * g.dh + 1, g.h);
  const std::int64_t w_end = std::min(w_start + (g.kw - 1) * g.dw + 1, g.w);
  const std::int64_t h0 = first_inside(h_start, g.dh), w0 = first_inside(w_start, g.dw);
  C best = -std::numeric_limits<C>::infinity();
  std::int64_t best_index = h0 * g.w + w0;
  for (std::int64_t h = h0; h < h_end; h += g.dh) {
    for (std::int64_t w = w0; w < w_end; w += g.dw) {
      const C v = static_cast<C>(x[h * g.w + w]);
      if (v > best || is_nan(v)) {
        best = v;
        best_index = h * g.w + w;
      }
    }
  }
  value = best;
  index = best_index;
}

// Whether flat index i (a max_window result) names an element of window (oh, ow): false only for a
// window with no element inside the plane, whose index is that of a position it skips.
EMBER_HOST_DEVICE bool max_index_in_window(const Geometry& g, std::int64_t oh, std::int64_t ow, std::int64_t i) {
  const std::int64_t h = i / g.w - (oh * g.sh - g.ph), w = i % g.w - (ow * g.sw - g.pw);
  return h >= 0 && w >= 0 && h % g.dh == 0 && w % g.dw == 0 && h / g.dh < g.kh && w / g.dw < g.kw;
}

// The windows along one dim whose span [o * s - p, o * s - p + (k - 1) * d] holds position i:
// [first, last) (PyTorch's p_start and p_end). Whether i is on a window's dilated grid is left
// to the caller, which compares indices.
struct Range {
  std::int64_t first, last;
};
EMBER_HOST_DEVICE Range windows_spanning(std::int64_t i, std::int64_t k, std::int64_t s, std::int64_t p,
                                         std::int64_t d, std::int64_t out) {
  const std::int64_t span = (k - 1) * d + 1, padded = i + p;
  return {padded < span ? 0 : (padded - span) / s + 1, std::min(padded / s + 1, out)};
}

// The gradient of input element (h, w): the sum of the output gradients (plane g_out) of the
// windows whose saved index (plane indices) names it.
template <typename T>
EMBER_HOST_DEVICE compute_t<T> max_grad_at(const T* g_out, const std::int64_t* indices, const Geometry& g,
                                           std::int64_t h, std::int64_t w) {
  using C = compute_t<T>;
  const Range rows = windows_spanning(h, g.kh, g.sh, g.ph, g.dh, g.out_h);
  const Range cols = windows_spanning(w, g.kw, g.sw, g.pw, g.dw, g.out_w);
  const std::int64_t self = h * g.w + w;
  C sum = 0;
  for (std::int64_t oh = rows.first; oh < rows.last; ++oh) {
    for (std::int64_t ow = cols.first; ow < cols.last; ++ow) {
      const std::int64_t o = oh * g.out_w + ow;
      if (indices[o] == self) sum += static_cast<C>(g_out[o]);
    }
  }
  return sum;
}

// ---- Average ------------------------------------------------------------------------------------

// Window (oh, ow) clipped to the input, [h0, h1) x [w0, w1), and what its sum is divided by.
struct AvgWindow {
  std::int64_t h0, h1, w0, w1, divisor;
  EMBER_HOST_DEVICE bool empty() const { return h0 >= h1 || w0 >= w1; }
};
EMBER_HOST_DEVICE AvgWindow avg_window(const Geometry& g, std::int64_t oh, std::int64_t ow) {
  std::int64_t h0 = oh * g.sh - g.ph, w0 = ow * g.sw - g.pw;
  // The window clipped to the padded input first: count_include_pad counts the padding, not what
  // lies past it (a ceil_mode window may reach beyond).
  std::int64_t h1 = std::min(h0 + g.kh, g.h + g.ph), w1 = std::min(w0 + g.kw, g.w + g.pw);
  const std::int64_t padded_size = (h1 - h0) * (w1 - w0);
  h0 = std::max<std::int64_t>(h0, 0);
  w0 = std::max<std::int64_t>(w0, 0);
  h1 = std::min(h1, g.h);
  w1 = std::min(w1, g.w);
  const std::int64_t divisor = g.divisor != 0 ? g.divisor : g.count_include_pad ? padded_size : (h1 - h0) * (w1 - w0);
  return {h0, h1, w0, w1, divisor};
}

// The average of window (oh, ow) of plane x (0 for a window with nothing inside the input).
template <typename T>
EMBER_HOST_DEVICE compute_t<T> avg_at(const T* x, const Geometry& g, std::int64_t oh, std::int64_t ow) {
  using C = compute_t<T>;
  const AvgWindow win = avg_window(g, oh, ow);
  if (win.empty()) return C(0);
  C sum = 0;
  for (std::int64_t h = win.h0; h < win.h1; ++h) {
    for (std::int64_t w = win.w0; w < win.w1; ++w) sum += static_cast<C>(x[h * g.w + w]);
  }
  return sum / static_cast<C>(win.divisor);
}

// The gradient of input element (h, w): g / divisor summed over the windows holding it.
template <typename T>
EMBER_HOST_DEVICE compute_t<T> avg_grad_at(const T* g_out, const Geometry& g, std::int64_t h, std::int64_t w) {
  using C = compute_t<T>;
  const Range rows = windows_spanning(h, g.kh, g.sh, g.ph, 1, g.out_h);
  const Range cols = windows_spanning(w, g.kw, g.sw, g.pw, 1, g.out_w);
  C sum = 0;
  for (std::int64_t oh = rows.first; oh < rows.last; ++oh) {
    for (std::int64_t ow = cols.first; ow < cols.last; ++ow) {
      const AvgWindow win = avg_window(g, oh, ow);  // holds (h, w), so it is not empty
      sum += static_cast<C>(g_out[oh * g.out_w + ow]) / static_cast<C>(win.divisor);
    }
  }
  return sum;
}

// ---- Adaptive average ---------------------------------------------------------------------------

// The planes of an adaptive pooling: input [h, w], output [out_h, out_w].
struct AdaptiveGeometry {
  std::int64_t h, w, out_h, out_w;
};

// Window i of `out` over a dim of `in`: [floor(i * in / out), ceil((i + 1) * in / out)), in integers
// that do not overflow where i * in would (PyTorch's start_index and end_index). With in and out
// swapped, the windows holding element i of the input.
EMBER_HOST_DEVICE std::int64_t adaptive_start(std::int64_t i, std::int64_t out, std::int64_t in) {
  return (i / out) * in + ((i % out) * in) / out;
}
EMBER_HOST_DEVICE std::int64_t adaptive_end(std::int64_t i, std::int64_t out, std::int64_t in) {
  return 1 + ((i + 1) * in - 1) / out;
}

template <typename T>
EMBER_HOST_DEVICE compute_t<T> adaptive_avg_at(const T* x, const AdaptiveGeometry& g, std::int64_t oh, std::int64_t ow) {
  using C = compute_t<T>;
  const std::int64_t h0 = adaptive_start(oh, g.out_h, g.h), h1 = adaptive_end(oh, g.out_h, g.h);
  const std::int64_t w0 = adaptive_start(ow, g.out_w, g.w), w1 = adaptive_end(ow, g.out_w, g.w);
  C sum = 0;
  for (std::int64_t h = h0; h < h1; ++h) {
    for (std::int64_t w = w0; w < w1; ++w) sum += static_cast<C>(x[h * g.w + w]);
  }
  return sum / static_cast<C>((h1 - h0) * (w1 - w0));
}

template <typename T>
EMBER_HOST_DEVICE compute_t<T> adaptive_avg_grad_at(const T* g_out, const AdaptiveGeometry& g, std::int64_t h,
                                                    std::int64_t w) {
  using C = compute_t<T>;
  const std::int64_t oh0 = adaptive_start(h, g.h, g.out_h), oh1 = adaptive_end(h, g.h, g.out_h);
  const std::int64_t ow0 = adaptive_start(w, g.w, g.out_w), ow1 = adaptive_end(w, g.w, g.out_w);
  C sum = 0;
  for (std::int64_t oh = oh0; oh < oh1; ++oh) {
    const std::int64_t kh = adaptive_end(oh, g.out_h, g.h) - adaptive_start(oh, g.out_h, g.h);
    for (std::int64_t ow = ow0; ow < ow1; ++ow) {
      const std::int64_t kw = adaptive_end(ow, g.out_w, g.w) - adaptive_start(ow, g.out_w, g.w);
      sum += static_cast<C>(g_out[oh * g.out_w + ow]) / static_cast<C>(kh * kw);
    }
  }
  return sum;
}

}  // namespace ember::kernels::pool
