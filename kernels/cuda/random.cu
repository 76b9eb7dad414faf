// Random fills from the counter-based Philox generator of kernels/philox.h: element i (row-major
// order) gets the draw for counter offset + i under key seed, so the value depends only on
// (seed, offset, i): not on the grid, the device or the backend.
//
// Agreement with the CPU backend: the Philox bits and the uniform in [0, 1) (integer arithmetic,
// then one exact scaling) are identical. Values are computed in double and then rounded to the
// element type, as on the CPU. Normal draws go through log, sqrt and cos: sqrt is correctly rounded
// on both, but CUDA's log and cos may differ from the host libm by an ulp, so float64 normals can
// differ in the last bit (float32 ones almost never do after rounding).
#include <cuda_runtime.h>

#include <cstdint>

#include "ember/core/error.h"
#include "ember/kernels/cuda/check.h"
#include "ember/kernels/cuda/device.h"
#include "ember/kernels/cuda/indexing.cuh"
#include "ember/kernels/cuda/launch.cuh"
#include "ember/kernels/cuda/launchers.h"
#include "ember/kernels/cuda/overlapped_launch.cuh"
#include "ember/kernels/cuda/runtime.h"
#include "ember/kernels/philox.h"

namespace ember::kernels::cuda_impl {

namespace {

struct RandomParams {
  std::uint64_t seed, offset;
  double a, b;
};

// Uniform: a + (b - a) * U[0, 1). Normal: a + b * N(0, 1) (a the mean, b the standard deviation).
// The _rn intrinsics round the product and the sum separately, as the CPU does: left to itself
// nvcc would fuse them into one FMA and change the last bit.
template <RandomKind kKind> __device__ __forceinline__ double draw(const RandomParams& p, std::uint64_t i) {
  if constexpr (kKind == RandomKind::Uniform)
    return __dadd_rn(p.a, __dmul_rn(p.b - p.a, philox::uniform(p.seed, p.offset + i)));
  else return __dadd_rn(p.a, __dmul_rn(p.b, philox::normal(p.seed, p.offset + i)));
}

// Contiguous out: element i is out[i]. `calc` is unused (ndim 0) then; otherwise it maps the
// row-major index i to out's strided offset.
template <typename T, RandomKind kKind>
__global__ void random_kernel(T* out, OffsetCalc<1, std::int64_t> calc, bool contiguous, std::int64_t n,
                              RandomParams params) {
  overlap_prologue();
  const std::int64_t stride = static_cast<std::int64_t>(gridDim.x) * blockDim.x;
  for (std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
    std::int64_t offset[1] = {i};
    if (!contiguous) calc.get(i, offset);
    const T value = static_cast<T>(draw<kKind>(params, static_cast<std::uint64_t>(i)));
    out[offset[0]] = kKind == RandomKind::Uniform ? philox::below_bound(value, params.a, params.b) : value;
  }
}

}  // namespace

void random(int device, const TensorRef& out, RandomKind kind, std::uint64_t seed, std::uint64_t offset,
            double a, double b) {
  const std::int64_t n = out.numel();
  if (n == 0) return;
  check_not_capturing(device, "drawing random numbers (the generator's counter advances on the host)");
  const DeviceGuard guard(device);
  const DeviceContext& ctx = context(device);
  const bool contiguous = out.is_contiguous();
  const Strides* strides[1] = {&out.strides};
  const OffsetCalc<1, std::int64_t> calc(contiguous ? Layout<1>{} : make_layout<1>(out.sizes, strides));
  const RandomParams params{seed, offset, a, b};
  const unsigned grid = grid_size(n, ctx.sm_count);
  dispatch_arithmetic(out.dtype, "random", [&](auto zero) {
    using T = decltype(zero);
    if (kind == RandomKind::Uniform)
      launch_overlapped<random_kernel<T, RandomKind::Uniform>>(ctx, grid, kBlockSize, out.ptr<T>(), calc, contiguous, n, params);
    else
      launch_overlapped<random_kernel<T, RandomKind::Normal>>(ctx, grid, kBlockSize, out.ptr<T>(), calc, contiguous, n, params);
  });
}

}  // namespace ember::kernels::cuda_impl
