// Softmax, log-softmax and their backward, and argmax, on the CPU: over dim 1 of a contiguous
// [outer, n, inner] view (kernels/registry.h). Each (outer, inner) line is read three times
// (max, sum, write), in the compute type: float for bfloat16 and float16, T otherwise.
#include <cmath>
#include <cstdint>
#include <limits>

#include "ember/core/dtype.h"
#include "ember/core/error.h"
#include "ember/kernels/cpu/cpu_kernels.h"

namespace ember::kernels::cpu {

namespace {

struct Lines {
  std::int64_t outer, n, inner;
  // Element k of line (o, i).
  std::int64_t at(std::int64_t o, std::int64_t i, std::int64_t k) const { return (o * n + k) * inner + i; }
};

Lines lines_of(const TensorRef& t, const char* who) {
  EMBER_CHECK(t.ndim() == 3 && t.is_contiguous(), "ember (CPU backend) ", who,
              ": expects a contiguous [outer, n, inner] view, got sizes ", t.sizes.str());
  return {t.sizes[0], t.sizes[1], t.sizes[2]};
}

template <typename T> void softmax_lines(const TensorRef& out, const TensorRef& in, bool log) {
  using C = compute_t<T>;
  const Lines l = lines_of(in, "softmax");
  const T* x = in.ptr<const T>();
  T* y = out.ptr<T>();
  for (std::int64_t o = 0; o < l.outer; ++o) {
    for (std::int64_t i = 0; i < l.inner; ++i) {
      C max = -std::numeric_limits<C>::infinity();
      for (std::int64_t k = 0; k < l.n; ++k) {
        const C v = static_cast<C>(x[l.at(o, i, k)]);
        if (v > max || std::isnan(v)) max = v;
      }
      C sum = 0;
      for (std::int64_t k = 0; k < l.n; ++k) sum += std::exp(static_cast<C>(x[l.at(o, i, k)]) - max);
      if (log) {
        const C log_sum = std::log(sum);
        for (std::int64_t k = 0; k < l.n; ++k) y[l.at(o, i, k)] = T(static_cast<C>(x[l.at(o, i, k)]) - max - log_sum);
      } else {
        for (std::int64_t k = 0; k < l.n; ++k) y[l.at(o, i, k)] = T(std::exp(static_cast<C>(x[l.at(o, i, k)]) - max) / sum);
      }
    }
  }
}

template <typename T>
void softmax_backward_lines(const TensorRef& grad_in, const TensorRef& grad_out, const TensorRef& out, bool log) {
  using C = compute_t<T>;
  const Lines l = lines_of(out, "softmax_backward");
  const T* g = grad_out.ptr<const T>();
  const T* y = out.ptr<const T>();
  T* gi = grad_in.ptr<T>();
  for (std::int64_t o = 0; o < l.outer; ++o) {
    for (std::int64_t i = 0; i < l.inner; ++i) {
      C dot = 0;  // softmax: sum g * y; log-softmax: sum g
      for (std::int64_t k = 0; k < l.n; ++k) {
        const std::int64_t e = l.at(o, i, k);
        dot += log ? static_cast<C>(g[e]) : static_cast<C>(g[e]) * static_cast<C>(y[e]);
      }
      for (std::int64_t k = 0; k < l.n; ++k) {
        const std::int64_t e = l.at(o, i, k);
        const C gv = static_cast<C>(g[e]), yv = static_cast<C>(y[e]);
        gi[e] = T(log ? gv - std::exp(yv) * dot : yv * (gv - dot));
      }
    }
  }
}

template <typename T> void argmax_lines(const TensorRef& out, const TensorRef& in) {
  using C = compute_t<T>;
  const Lines l = lines_of(in, "argmax");
  const T* x = in.ptr<const T>();
  auto* idx = out.ptr<std::int64_t>();
  for (std::int64_t o = 0; o < l.outer; ++o) {
    for (std::int64_t i = 0; i < l.inner; ++i) {
      std::int64_t best = 0;
      C max = static_cast<C>(x[l.at(o, i, 0)]);
      for (std::int64_t k = 1; k < l.n && !std::isnan(max); ++k) {
        const C v = static_cast<C>(x[l.at(o, i, k)]);
        if (v > max || std::isnan(v)) {
          max = v;
          best = k;
        }
      }
      idx[o * l.inner + i] = best;
    }
  }
}

}  // namespace

void softmax(int /*device*/, const TensorRef& out, const TensorRef& in, bool log) {
  dispatch_arithmetic(in.dtype, log ? "log_softmax" : "softmax", [&](auto tag) {
    softmax_lines<decltype(tag)>(out, in, log);
  });
}

void softmax_backward(int /*device*/, const TensorRef& grad_in, const TensorRef& grad_out, const TensorRef& out,
                      bool log) {
  dispatch_arithmetic(out.dtype, log ? "log_softmax backward" : "softmax backward", [&](auto tag) {
    softmax_backward_lines<decltype(tag)>(grad_in, grad_out, out, log);
  });
}

void argmax(int /*device*/, const TensorRef& out, const TensorRef& in) {
  EMBER_CHECK(in.ndim() == 3 && in.sizes[1] > 0, "ember (CPU backend) argmax: an empty dim has no maximum");
  dispatch_arithmetic(in.dtype, "argmax", [&](auto tag) { argmax_lines<decltype(tag)>(out, in); });
}

}  // namespace ember::kernels::cpu
