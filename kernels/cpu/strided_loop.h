// The one N-d strided loop the CPU kernels run on: a plan (dims reordered and merged) and a driver
// that walks the outer dims with incremental offsets and hands each innermost run to a callback.
#pragma once

#include <array>
#include <cstdint>
#include <utility>

#include "ember/core/shape.h"
#include "ember/kernels/tensor_ref.h"

namespace ember::kernels::cpu {

// A loop over an index space shared by N operands, outermost dim first. Built once per call on the
// stack; kernels never allocate on the heap for it.
// Runs shorter than this are worth reordering to avoid (see make_plan).
inline constexpr std::int64_t kShortRun = 16;

template <int N>
struct LoopPlan {
  int ndim = 0;  // >= 1 once built; a 0-d space is a single run of one element
  std::array<std::int64_t, kMaxDims> sizes{};
  std::array<std::array<std::int64_t, N>, kMaxDims> strides{};  // [dim][operand], in elements
};

namespace detail {

// True when dim `inner` should be iterated outside dim `outer`: the first operand that strides
// along both dims says so by having the larger stride on `inner`. Stride-0 (broadcast) operands
// have no preference, so e.g. a reduction's output does not pin the order.
template <int N>
bool should_swap(const LoopPlan<N>& p, int outer, int inner) {
  for (int k = 0; k < N; ++k) {
    const std::int64_t so = p.strides[outer][k], si = p.strides[inner][k];
    if (so == 0 || si == 0) continue;
    if (so != si) return so < si;
  }
  return false;
}

}  // namespace detail

// Builds the plan for `sizes`, where operand k has strides `strides[k]` (ndim entries; nullptr for
// an operand broadcast along every dim). Size-1 dims are dropped, dims are sorted so the smallest
// strides are innermost (a transposed view still walks memory in order), neighbouring dims that
// every operand steps through evenly are merged (any contiguous or uniformly broadcast set of
// operands becomes a single run), and a very short innermost run is swapped with a longer one.
template <int N>
LoopPlan<N> make_plan(const Shape& sizes, const std::array<const std::int64_t*, N>& strides) {
  LoopPlan<N> p;
  for (int d = 0; d < sizes.size(); ++d) {
    if (sizes[d] == 1) continue;
    if (sizes[d] == 0) {  // empty: one run of length 0, which the driver skips
      p.ndim = 1;
      p.sizes[0] = 0;
      return p;
    }
    p.sizes[p.ndim] = sizes[d];
    for (int k = 0; k < N; ++k)
      p.strides[p.ndim][k] = strides[k] ? strides[k][d] : 0;
    ++p.ndim;
  }
  if (p.ndim == 0) {
    p.ndim = 1;
    p.sizes[0] = 1;
    return p;
  }
  // Insertion sort: at most kMaxDims dims, usually already in order.
  for (int i = 1; i < p.ndim; ++i) {
    for (int j = i; j > 0 && detail::should_swap(p, j - 1, j); --j) {
      std::swap(p.sizes[j - 1], p.sizes[j]);
      std::swap(p.strides[j - 1], p.strides[j]);
    }
  }
  // Merge dim d into the run w outside it when, for every operand, one step of w equals a full
  // sweep of d.
  int w = 0;
  for (int d = 1; d < p.ndim; ++d) {
    bool mergeable = true;
    for (int k = 0; k < N; ++k)
      mergeable = mergeable && p.strides[w][k] == p.strides[d][k] * p.sizes[d];
    if (mergeable) {
      p.sizes[w] *= p.sizes[d];
      p.strides[w] = p.strides[d];
    } else {
      ++w;
      p.sizes[w] = p.sizes[d];
      p.strides[w] = p.strides[d];
    }
  }
  p.ndim = w + 1;
  // A short innermost run (a [n, 2] tensor walked row by row) pays the per-run overhead every
  // couple of elements; when the next dim is longer, walking that one innermost instead costs
  // only a strided access pattern, which is cheaper at any size.
  if (p.ndim >= 2 && p.sizes[w] < kShortRun && p.sizes[w - 1] > p.sizes[w]) {
    std::swap(p.sizes[w - 1], p.sizes[w]);
    std::swap(p.strides[w - 1], p.strides[w]);
  }
  return p;
}

// Runs the plan: inner(offsets, strides, n) is called once per innermost run, with each operand's
// element offset of the run's first element, each operand's stride along the run, and its length.
// Offsets advance by adding one stride per step (and rewinding on carry), never by re-deriving
// them from an index, so the per-run overhead is a few adds.
template <int N, typename Inner>
inline void run_plan(const LoopPlan<N>& p, Inner&& inner) {
  const int last = p.ndim - 1;
  const std::int64_t n = p.sizes[last];
  if (n == 0) return;
  std::array<std::int64_t, N> off{};
  if (last == 0) {
    inner(off, p.strides[0], n);
    return;
  }
  std::array<std::int64_t, kMaxDims> idx{};
  for (;;) {
    inner(off, p.strides[last], n);
    int d = last;
    for (;;) {
      if (d == 0) return;  // carried out of the outermost dim: done
      --d;
      for (int k = 0; k < N; ++k) off[k] += p.strides[d][k];
      if (++idx[d] < p.sizes[d]) break;
      for (int k = 0; k < N; ++k) off[k] -= p.strides[d][k] * p.sizes[d];
      idx[d] = 0;
    }
  }
}

// True when every element of `t` is the same memory location (stride 0, or size 1, on every dim).
inline bool is_broadcast_scalar(const TensorRef& t) {
  for (int d = 0; d < t.ndim(); ++d)
    if (t.sizes[d] != 1 && t.strides[d] != 0) return false;
  return true;
}

}  // namespace ember::kernels::cpu
