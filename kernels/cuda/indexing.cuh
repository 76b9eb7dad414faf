// From a linear element index to the memory offsets of several strided operands that share sizes
// (an output and its broadcast inputs, or the kept dims of a reduction).
//
// Host side, Layout<N> describes the operands with size-1 dims dropped and neighbouring dims merged
// where every operand is contiguous across them ([4, 5] row-major is one dim of 20), so most
// tensors end up with one or two dims and little div/mod work per element. Device side,
// OffsetCalc<N, Index> decomposes the linear index innermost dim first; Index is int32_t when all
// indices and offsets fit (32-bit div/mod is several times cheaper than 64-bit), else int64_t.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <limits>
#include <type_traits>

#include "ember/core/error.h"
#include "ember/core/shape.h"

namespace ember::kernels::cuda_impl {

template <int N> struct Layout {
  int ndim = 0;
  std::int64_t sizes[kMaxDims] = {};       // outermost first, as in a Shape
  std::int64_t strides[N][kMaxDims] = {};  // per operand, in elements

  // Appends a dim inside the current innermost one, merging the two when every operand is
  // contiguous across them. Size-1 dims are dropped (their stride never matters).
  void push_inner(std::int64_t size, const std::int64_t (&dim_strides)[N]) {
    if (size == 1) return;
    if (ndim > 0) {
      bool mergeable = true;
      for (int k = 0; k < N; ++k) mergeable &= strides[k][ndim - 1] == dim_strides[k] * size;
      if (mergeable) {
        sizes[ndim - 1] *= size;
        for (int k = 0; k < N; ++k) strides[k][ndim - 1] = dim_strides[k];
        return;
      }
    }
    sizes[ndim] = size;
    for (int k = 0; k < N; ++k) strides[k][ndim] = dim_strides[k];
    ++ndim;
  }

  std::int64_t numel() const {
    std::int64_t n = 1;
    for (int d = 0; d < ndim; ++d) n *= sizes[d];
    return n;
  }

  // Largest |offset| any element reaches in operand k.
  std::int64_t max_offset(int k) const {
    std::int64_t reach = 0;
    for (int d = 0; d < ndim; ++d) reach += (sizes[d] - 1) * std::llabs(strides[k][d]);
    return reach;
  }
};

// The layout of operands that all have `sizes`, operand k with strides *strides[k].
template <int N> Layout<N> make_layout(const Shape& sizes, const Strides* const (&strides)[N]) {
  Layout<N> layout;
  for (int d = 0; d < sizes.size(); ++d) {
    std::int64_t dim_strides[N];
    for (int k = 0; k < N; ++k) dim_strides[k] = (*strides[k])[d];
    layout.push_inner(sizes[d], dim_strides);
  }
  return layout;
}

// Index math in 32 bits is safe when counts and offsets stay below 2^30: the margin keeps
// `i + stride` of grid-stride loops and `r + 3 * group` of unrolled loops from overflowing.
inline constexpr std::int64_t kMax32 = std::int64_t{1} << 30;

template <int N> bool fits_32bit(const Layout<N>& layout) {
  if (layout.numel() >= kMax32) return false;
  for (int k = 0; k < N; ++k)
    if (layout.max_offset(k) >= kMax32) return false;
  return true;
}

template <int N, typename Index> struct OffsetCalc {
  static_assert(std::is_same_v<Index, std::int32_t> || std::is_same_v<Index, std::int64_t>);
  int ndim = 0;
  Index sizes[kMaxDims] = {};       // innermost first
  Index strides[kMaxDims][N] = {};

  OffsetCalc() = default;
  explicit OffsetCalc(const Layout<N>& layout) : ndim(layout.ndim) {
    for (int d = 0; d < ndim; ++d) {
      const int src = ndim - 1 - d;
      sizes[d] = static_cast<Index>(layout.sizes[src]);
      for (int k = 0; k < N; ++k) strides[d][k] = static_cast<Index>(layout.strides[k][src]);
    }
  }

  // offsets[k] = sum over dims of coordinate * stride of operand k, for element `linear`
  // (row-major order over the layout's sizes). 0 <= linear < numel.
  __device__ __forceinline__ void get(Index linear, Index (&offsets)[N]) const {
    using Unsigned = std::make_unsigned_t<Index>;  // unsigned div/mod is cheaper; values are >= 0
#pragma unroll
    for (int k = 0; k < N; ++k) offsets[k] = 0;
    Unsigned rest = static_cast<Unsigned>(linear);
#pragma unroll
    for (int d = 0; d < kMaxDims; ++d) {
      if (d == ndim) break;
      Unsigned coord = rest;  // the outermost dim takes what is left: no division
      if (d != ndim - 1) {
        const auto size = static_cast<Unsigned>(sizes[d]);
        coord = rest % size;
        rest /= size;
      }
#pragma unroll
      for (int k = 0; k < N; ++k) offsets[k] += static_cast<Index>(coord) * strides[d][k];
    }
  }
};

}  // namespace ember::kernels::cuda_impl
