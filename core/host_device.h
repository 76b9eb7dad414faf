// EMBER_HOST_DEVICE marks a function that g++ compiles for the CPU and nvcc for both the CPU and
// the GPU: the element-wise math, the 16-bit float conversions and the random generator, each
// written once for both devices.
#pragma once

#if defined(__CUDACC__)
#define EMBER_HOST_DEVICE __host__ __device__ __forceinline__
#else
#define EMBER_HOST_DEVICE inline
#endif
