// Max, average and adaptive average pooling and their input gradients on the CPU (PoolArgs in
// kernels/kernel_args.h; adaptive_avg_pool2d in kernels/registry.h). Each plane ([H, W] of NCHW)
// is one item of parallel_for; within it, a loop over output elements (forward) or input elements
// (backward, a gather) calls the per-element math of kernels/pool_math.h, which CUDA shares.
// Compute type: float for bfloat16 and float16, T otherwise.
#include <algorithm>
#include <cstdint>
#include <type_traits>

#include "ember/core/dtype.h"
#include "ember/core/error.h"
#include "ember/kernels/cpu/cpu_kernels.h"
#include "ember/kernels/cpu/parallel.h"
#include "ember/kernels/pool_math.h"

namespace ember::kernels::cpu {

namespace {

std::int64_t planes_of(const TensorRef& t) { return t.sizes[0] * t.sizes[1]; }

template <typename T> void pool_forward(const PoolArgs& a) {
  const pool::Geometry g = pool::geometry_of(a);
  const std::int64_t in_plane = g.h * g.w, out_plane = g.out_h * g.out_w;
  const T* x = a.input.ptr<const T>();
  T* y = a.output.ptr<T>();
  auto* indices = a.indices.data != nullptr ? a.indices.ptr<std::int64_t>() : nullptr;
  const bool max = a.kind == PoolKind::Max;
  parallel_for(planes_of(a.input), grain_for(out_plane * g.kh * g.kw), [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t p = begin; p < end; ++p) {
      const T* xp = x + p * in_plane;
      T* yp = y + p * out_plane;
      std::int64_t* ip = indices != nullptr ? indices + p * out_plane : nullptr;
      for (std::int64_t oh = 0; oh < g.out_h; ++oh) {
        for (std::int64_t ow = 0; ow < g.out_w; ++ow) {
          const std::int64_t o = oh * g.out_w + ow;
          if (max) {
            compute_t<T> value;
            std::int64_t index;
            pool::max_window(xp, g, oh, ow, value, index);
            yp[o] = T(value);
            if (ip != nullptr) ip[o] = index;
          } else {
            yp[o] = T(pool::avg_at(xp, g, oh, ow));
          }
        }
      }
    }
  });
}

template <typename T> void pool_backward(const PoolArgs& a) {
  const pool::Geometry g = pool::geometry_of(a);
  const std::int64_t in_plane = g.h * g.w, out_plane = g.out_h * g.out_w;
  T* gi = a.input.ptr<T>();
  const T* go = a.output.ptr<const T>();
  const auto* indices = a.kind == PoolKind::Max ? a.indices.ptr<const std::int64_t>() : nullptr;
  // Max pooling in float32/float64 scatters instead: each window adds its gradient to the element
  // its index names, windows in row-major order. That is the gather's sum, term for term and in the
  // same order (the compute type is T, so nothing rounds differently), for a read of each output
  // instead of a search of every window holding each input.
  if constexpr (std::is_same_v<compute_t<T>, T>) {
    if (indices != nullptr) {
      parallel_for(planes_of(a.input), grain_for(in_plane + out_plane), [&](std::int64_t begin, std::int64_t end) {
        for (std::int64_t p = begin; p < end; ++p) {
          T* gp = gi + p * in_plane;
          const T* gop = go + p * out_plane;
          const std::int64_t* ip = indices + p * out_plane;
          std::fill(gp, gp + in_plane, T(0));
          for (std::int64_t o = 0; o < out_plane; ++o) {
            // A window entirely outside the input (dilation) names no element of it: no gradient.
            const std::int64_t i = ip[o];
            if (pool::max_index_in_window(g, o / g.out_w, o % g.out_w, i)) gp[i] += gop[o];
          }
        }
      });
      return;
    }
  }
  // Each input element reads about (k * d / s)^2 windows; kh * kw is near enough for the threshold.
  parallel_for(planes_of(a.input), grain_for(in_plane * g.kh * g.kw), [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t p = begin; p < end; ++p) {
      T* gp = gi + p * in_plane;
      const T* gop = go + p * out_plane;
      const std::int64_t* ip = indices != nullptr ? indices + p * out_plane : nullptr;
      for (std::int64_t h = 0; h < g.h; ++h) {
        for (std::int64_t w = 0; w < g.w; ++w) {
          gp[h * g.w + w] = T(ip != nullptr ? pool::max_grad_at(gop, ip, g, h, w) : pool::avg_grad_at(gop, g, h, w));
        }
      }
    }
  });
}

pool::AdaptiveGeometry adaptive_geometry(const TensorRef& in, const TensorRef& out) {
  return {in.sizes[2], in.sizes[3], out.sizes[2], out.sizes[3]};
}

template <typename T> void adaptive_forward(const TensorRef& out, const TensorRef& in) {
  const pool::AdaptiveGeometry g = adaptive_geometry(in, out);
  const std::int64_t in_plane = g.h * g.w, out_plane = g.out_h * g.out_w;
  const T* x = in.ptr<const T>();
  T* y = out.ptr<T>();
  // Every input element is read about once per plane (more where windows overlap).
  parallel_for(planes_of(in), grain_for(in_plane + out_plane), [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t p = begin; p < end; ++p) {
      const T* xp = x + p * in_plane;
      T* yp = y + p * out_plane;
      for (std::int64_t oh = 0; oh < g.out_h; ++oh) {
        for (std::int64_t ow = 0; ow < g.out_w; ++ow) yp[oh * g.out_w + ow] = T(pool::adaptive_avg_at(xp, g, oh, ow));
      }
    }
  });
}

template <typename T> void adaptive_backward(const TensorRef& grad_in, const TensorRef& grad_out) {
  const pool::AdaptiveGeometry g = adaptive_geometry(grad_in, grad_out);
  const std::int64_t in_plane = g.h * g.w, out_plane = g.out_h * g.out_w;
  T* gi = grad_in.ptr<T>();
  const T* go = grad_out.ptr<const T>();
  parallel_for(planes_of(grad_in), grain_for(in_plane + out_plane), [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t p = begin; p < end; ++p) {
      T* gp = gi + p * in_plane;
      const T* gop = go + p * out_plane;
      for (std::int64_t h = 0; h < g.h; ++h) {
        for (std::int64_t w = 0; w < g.w; ++w) gp[h * g.w + w] = T(pool::adaptive_avg_grad_at(gop, g, h, w));
      }
    }
  });
}

void check_adaptive(const TensorRef& out, const TensorRef& in, const char* who) {
  // An empty ref's strides do not matter (its sizes alone are read).
  EMBER_CHECK(in.ndim() == 4 && out.ndim() == 4 && (in.numel() == 0 || in.is_contiguous()) &&
                  (out.numel() == 0 || out.is_contiguous()) &&
                  in.sizes[0] == out.sizes[0] && in.sizes[1] == out.sizes[1] && in.dtype == out.dtype,
              "ember (CPU backend) ", who, ": expects contiguous NCHW refs of one dtype with the same N and C, got ",
              in.sizes.str(), " and ", out.sizes.str());
  EMBER_CHECK(out.numel() == 0 || (in.sizes[2] > 0 && in.sizes[3] > 0), "ember (CPU backend) ", who,
              ": an empty input plane ", in.sizes.str(), " has no average");
}

}  // namespace

void pool2d(int /*device*/, const PoolArgs& args) {
  check_pool_args(args, false, "CPU backend");
  dispatch_arithmetic(args.input.dtype, args.kind == PoolKind::Max ? "max_pool2d" : "avg_pool2d",
                      [&](auto tag) { pool_forward<decltype(tag)>(args); });
}

void pool2d_backward(int /*device*/, const PoolArgs& args) {
  check_pool_args(args, true, "CPU backend");
  dispatch_arithmetic(args.input.dtype, args.kind == PoolKind::Max ? "max_pool2d backward" : "avg_pool2d backward",
                      [&](auto tag) { pool_backward<decltype(tag)>(args); });
}

void adaptive_avg_pool2d(int /*device*/, const TensorRef& out, const TensorRef& in) {
  check_adaptive(out, in, "adaptive_avg_pool2d");
  if (out.numel() == 0) return;
  dispatch_arithmetic(in.dtype, "adaptive_avg_pool2d", [&](auto tag) { adaptive_forward<decltype(tag)>(out, in); });
}

void adaptive_avg_pool2d_backward(int /*device*/, const TensorRef& grad_in, const TensorRef& grad_out) {
  check_adaptive(grad_out, grad_in, "adaptive_avg_pool2d backward");
  if (grad_in.numel() == 0) return;
  if (grad_out.numel() == 0) {  // no window: nothing reaches the input
    fill(0, grad_in, 0.0);
    return;
  }
  dispatch_arithmetic(grad_in.dtype, "adaptive_avg_pool2d backward",
                      [&](auto tag) { adaptive_backward<decltype(tag)>(grad_in, grad_out); });
}

}  // namespace ember::kernels::cpu
