// Reduction CPU kernels: sum and max over any set of dims (keepdim layout).
//
// Accuracy: sums accumulate in double for every dtype, so float32 sums are effectively exact
// before the final rounding. A contiguous or strided run that one output reduces is also summed
// pairwise (blocks of kBlock elements with four accumulators each, halves combined recursively),
// which keeps float64 error growth O(log n) like PyTorch's cascade sum; when the reduced dim is
// the outer one (column strategy below) each output's accumulator adds its elements in order.
// Max propagates NaN.
#include <algorithm>
#include <cmath>
#include <limits>

#include "ember/core/dtype.h"
#include "ember/core/error.h"
#include "ember/kernels/cpu/cpu_kernels.h"
#include "ember/kernels/cpu/strided_loop.h"

namespace ember::kernels::cpu {

namespace {

constexpr std::int64_t kBlock = 128;  // pairwise-summation leaf size: long enough to stay fast
constexpr std::int64_t kChunk = 256;  // columns accumulated at once by the column strategy

template <typename T> struct SumReducer {
  using Acc = double;
  static Acc identity() { return 0.0; }
  static Acc step(Acc acc, T x) { return acc + static_cast<double>(x); }
  static Acc merge(Acc a, Acc b) { return a + b; }
  static T finish(Acc acc) { return static_cast<T>(acc); }
};

template <typename T> struct MaxReducer {
  using Acc = compute_t<T>;  // bfloat16 and float16 compare as float (exactly)
  static Acc identity() { return -std::numeric_limits<Acc>::infinity(); }
  // Once acc is NaN it stays NaN (x > NaN is false); a NaN x replaces acc.
  static Acc step(Acc acc, T x) {
    const Acc v = static_cast<Acc>(x);
    return (v > acc || std::isnan(v)) ? v : acc;
  }
  static Acc merge(Acc a, Acc b) { return (b > a || std::isnan(b)) ? b : a; }
  static T finish(Acc acc) { return T(acc); }
};

// Reduces the run p[0], p[s], ..., p[(n-1)s]. Four independent accumulators break the add
// latency chain (the compiler may not reassociate floating-point adds itself).
template <typename R, typename T>
typename R::Acc reduce_run(const T* p, std::int64_t s, std::int64_t n) {
  if (n > kBlock) {
    const std::int64_t half = n / 2;
    return R::merge(reduce_run<R>(p, s, half), reduce_run<R>(p + half * s, s, n - half));
  }
  auto a0 = R::identity(), a1 = R::identity(), a2 = R::identity(), a3 = R::identity();
  std::int64_t i = 0;
  if (s == 1) {
    for (; i + 4 <= n; i += 4) {
      a0 = R::step(a0, p[i]);
      a1 = R::step(a1, p[i + 1]);
      a2 = R::step(a2, p[i + 2]);
      a3 = R::step(a3, p[i + 3]);
    }
  } else {
    for (; i + 4 <= n; i += 4) {
      a0 = R::step(a0, p[i * s]);
      a1 = R::step(a1, p[(i + 1) * s]);
      a2 = R::step(a2, p[(i + 2) * s]);
      a3 = R::step(a3, p[(i + 3) * s]);
    }
  }
  for (; i < n; ++i) a0 = R::step(a0, p[i * s]);
  return R::merge(R::merge(a0, a1), R::merge(a2, a3));
}

// acc[j] = step(acc[j], p[j * s]) for j < n: one row folded into a row of accumulators, which the
// compiler vectorizes when s == 1.
template <typename R, typename T>
void accumulate_row(typename R::Acc* acc, const T* p, std::int64_t s, std::int64_t n) {
  if (s == 1) {
    for (std::int64_t j = 0; j < n; ++j) acc[j] = R::step(acc[j], p[j]);
  } else {
    for (std::int64_t j = 0; j < n; ++j) acc[j] = R::step(acc[j], p[j * s]);
  }
}

// Reduces the `rows` rows of length n starting at p (row stride rs, element stride s) column-wise
// into out[j * so]. Columns are done kChunk at a time so the accumulators live on the stack.
template <typename R, typename T>
void reduce_columns(T* out, std::int64_t so, const T* p, std::int64_t s, std::int64_t n,
                    std::int64_t rows, std::int64_t rs) {
  typename R::Acc acc[kChunk];
  for (std::int64_t c0 = 0; c0 < n; c0 += kChunk) {
    const std::int64_t m = std::min(kChunk, n - c0);
    for (std::int64_t j = 0; j < m; ++j) acc[j] = R::identity();
    for (std::int64_t r = 0; r < rows; ++r) accumulate_row<R>(acc, p + r * rs + c0 * s, s, m);
    for (std::int64_t j = 0; j < m; ++j) out[(c0 + j) * so] = R::finish(acc[j]);
  }
}

// Two ways to reduce: by rows (each output folds its own run of reduced elements) or by columns
// (a row of outputs' accumulators folds one reduced position at a time). The innermost loop of
// either should be long, or per-run overhead dominates, and should walk memory in order, or cache
// lines are wasted; length wins when a run is short (kept_n or red_n below kShortRun).
inline bool prefer_columns(std::int64_t kept_n, std::int64_t kept_stride, std::int64_t red_n,
                           std::int64_t red_stride) {
  if (kept_n <= 1) return false;
  if (red_n <= 1) return true;
  if (kept_stride < red_stride) return !(kept_n < kShortRun && red_n > kept_n);
  return red_n < kShortRun && kept_n > red_n;
}

// out[j * so] = reduce over r < red_n of p[j * ks + r * rs], for j < kept_n.
template <typename R, typename T>
void reduce_2d(T* o, std::int64_t so, const T* p, std::int64_t kept_n, std::int64_t ks,
               std::int64_t red_n, std::int64_t rs) {
  if (prefer_columns(kept_n, ks, red_n, rs)) {
    return reduce_columns<R>(o, so, p, ks, kept_n, red_n, rs);
  }
  for (std::int64_t j = 0; j < kept_n; ++j) {
    o[j * so] = R::finish(reduce_run<R>(p + j * ks, rs, red_n));
  }
}

template <typename R, typename T>
void reduce_loop(const TensorRef& out, const TensorRef& in) {
  T* o = out.ptr<T>();
  const T* p = in.ptr<T>();
  const int nd = in.ndim();

  // Fast paths for a contiguous input, without building plans: whole tensor, and the two
  // reductions of a matrix (a linear layer's bias gradient is the sum over dim 0 of a
  // [batch, features] tensor).
  if (in.is_contiguous()) {
    if (out.numel() == 1) {
      o[0] = R::finish(reduce_run<R>(p, 1, in.numel()));
      return;
    }
    if (nd == 2 && out.sizes[1] == 1) {  // over dim 1
      return reduce_2d<R>(o, out.strides[0], p, in.sizes[0], in.sizes[1], in.sizes[1], 1);
    }
    if (nd == 2 && out.sizes[0] == 1) {  // over dim 0
      return reduce_2d<R>(o, out.strides[1], p, in.sizes[1], 1, in.sizes[0], in.sizes[1]);
    }
  }

  // General case: one plan over the kept dims (out and in), one over the reduced dims (in only).
  Shape reduced_sizes = in.sizes;
  for (int d = 0; d < nd; ++d)
    if (out.sizes[d] != 1 || in.sizes[d] == 1) reduced_sizes[d] = 1;
  const auto kept = make_plan<2>(out.sizes, {out.strides.data(), in.strides.data()});
  const auto red = make_plan<1>(reduced_sizes, {in.strides.data()});
  const std::int64_t red_n = red.sizes[red.ndim - 1], red_stride = red.strides[red.ndim - 1][0];

  run_plan(kept, [&](const auto& off, const auto& st, std::int64_t n) {
    T* orow = o + off[0];
    const T* irow = p + off[1];
    if (red.ndim == 1) return reduce_2d<R>(orow, st[0], irow, n, st[1], red_n, red_stride);
    if (prefer_columns(n, st[1], red_n, red_stride)) {
      // Several reduced dims, by columns: every reduced position folded into the accumulators.
      typename R::Acc acc[kChunk];
      for (std::int64_t c0 = 0; c0 < n; c0 += kChunk) {
        const std::int64_t m = std::min(kChunk, n - c0);
        for (std::int64_t j = 0; j < m; ++j) acc[j] = R::identity();
        run_plan(red, [&](const auto& roff, const auto& rst, std::int64_t rn) {
          for (std::int64_t r = 0; r < rn; ++r)
            accumulate_row<R>(acc, irow + roff[0] + r * rst[0] + c0 * st[1], st[1], m);
        });
        for (std::int64_t j = 0; j < m; ++j) orow[(c0 + j) * st[0]] = R::finish(acc[j]);
      }
      return;
    }
    // Several reduced dims, by rows: each output merges the partial results of its runs.
    for (std::int64_t i = 0; i < n; ++i) {
      const T* base = irow + i * st[1];
      auto acc = R::identity();
      run_plan(red, [&](const auto& roff, const auto& rst, std::int64_t rn) {
        acc = R::merge(acc, reduce_run<R>(base + roff[0], rst[0], rn));
      });
      orow[i * st[0]] = R::finish(acc);
    }
  });
}

}  // namespace

void reduce(int /*device*/, ReduceKind op, const TensorRef& out, const TensorRef& in) {
  EMBER_CHECK(out.ndim() == in.ndim(), "ember: cpu reduce: out has ", out.ndim(),
              " dims but the input has ", in.ndim());
  for (int d = 0; d < in.ndim(); ++d) {
    EMBER_CHECK(out.sizes[d] == in.sizes[d] || out.sizes[d] == 1,
                "ember: cpu reduce: out size ", out.sizes[d], " at dim ", d,
                " is neither the input's size ", in.sizes[d], " nor 1");
    // Checked before any write, so a failed max leaves out untouched.
    EMBER_CHECK(op != ReduceKind::Max || in.sizes[d] != 0 || out.sizes[d] != 1,
                "max(): cannot reduce over a zero-size dimension (input sizes ", in.sizes.str(),
                ", dim ", d, ")");
  }
  if (out.numel() == 0) return;
  dispatch_arithmetic(in.dtype, "reduce", [&](auto tag) {
    using T = decltype(tag);
    if (op == ReduceKind::Sum) return reduce_loop<SumReducer<T>, T>(out, in);
    return reduce_loop<MaxReducer<T>, T>(out, in);
  });
}

}  // namespace ember::kernels::cpu
