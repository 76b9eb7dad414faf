// Combining one value per thread across a warp or a block, for the kernels that reduce (reduce.cu,
// mse.cu, small_gemm.cu): the combine operations and a warp-shuffle + shared-memory group reduction.
#pragma once

#include <cuda_runtime.h>

#include <cmath>
#include <limits>

#include "ember/kernels/cuda/launch.cuh"

namespace ember::kernels::cuda_impl {

// --- Combine operations ----------------------------------------------------------------------
template <typename Acc> struct SumOp {
  using Type = Acc;
  __device__ Acc identity() const { return Acc(0); }
  __device__ Acc operator()(Acc a, Acc b) const { return a + b; }
};
template <typename Acc> struct MaxOp {
  using Type = Acc;
  __device__ Acc identity() const { return -std::numeric_limits<Acc>::infinity(); }
  // A NaN on either side wins: a if a is NaN, else b when a > b fails (b NaN or b >= a).
  __device__ Acc operator()(Acc a, Acc b) const { return (std::isnan(a) || a > b) ? a : b; }
};

// Combines `value` across a group of G consecutive threads (G = 1, 32 or the whole block); every
// thread of the group gets the result. All threads of the block must call it.
template <int G, typename Op, typename Acc = typename Op::Type>
__device__ __forceinline__ Acc group_reduce(Acc value, const Op& op) {
  if constexpr (G == 1) {
    return value;
  } else {
#pragma unroll
    for (int lane_mask = 16; lane_mask > 0; lane_mask /= 2)
      value = op(value, __shfl_xor_sync(0xffffffffu, value, lane_mask));
    if constexpr (G == 32) {
      return value;
    } else {
      static_assert(G == kBlockSize);
      __shared__ Acc warp_results[kBlockSize / 32];
      const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
      if (lane == 0) warp_results[warp] = value;
      __syncthreads();
      value = lane < kBlockSize / 32 ? warp_results[lane] : op.identity();
#pragma unroll
      for (int lane_mask = 16; lane_mask > 0; lane_mask /= 2)
        value = op(value, __shfl_xor_sync(0xffffffffu, value, lane_mask));
      __syncthreads();  // warp_results is reused by the next call
      return value;
    }
  }
}

}  // namespace ember::kernels::cuda_impl
