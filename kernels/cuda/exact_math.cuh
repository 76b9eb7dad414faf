// Arithmetic rounded after every operation, as the CPU backend computes it. Left alone, nvcc fuses
// a * b + c into one FMA (a single rounding), which is more accurate but differs from the CPU in
// the last bit; optimizer trajectories and random draws should match the CPU exactly instead.
// The _rn intrinsics are never fused.
#pragma once

namespace ember::kernels::cuda_impl::exact {

__device__ __forceinline__ float add(float a, float b) { return __fadd_rn(a, b); }
__device__ __forceinline__ double add(double a, double b) { return __dadd_rn(a, b); }
__device__ __forceinline__ float sub(float a, float b) { return __fsub_rn(a, b); }
__device__ __forceinline__ double sub(double a, double b) { return __dsub_rn(a, b); }
__device__ __forceinline__ float mul(float a, float b) { return __fmul_rn(a, b); }
__device__ __forceinline__ double mul(double a, double b) { return __dmul_rn(a, b); }

}  // namespace ember::kernels::cuda_impl::exact
