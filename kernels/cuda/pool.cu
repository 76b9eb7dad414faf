// Max, average and adaptive average pooling and their input gradients on CUDA (PoolArgs in
// kernels/kernel_args.h; adaptive_avg_pool2d in kernels/registry.h), with the per-element math of
// kernels/pool_math.h, which the CPU shares.
//
// Forward: one thread per output element. Backward: one thread per input element, which gathers
// what the windows holding it send (PyTorch's max_pool_backward_nchw does the same): no atomics,
// so overlapping windows give the same bits every run and the CPU's, where a scatter with atomics
// would add in a different order each time. Grid-stride loops over N * C * plane elements; the
// compute type is float for bfloat16 and float16 (rounded once on store), T otherwise.
#include <cuda_runtime.h>

#include <cstdint>

#include "ember/core/error.h"
#include "ember/kernels/cuda/check.h"
#include "ember/kernels/cuda/device.h"
#include "ember/kernels/cuda/launch.cuh"
#include "ember/kernels/cuda/launchers.h"
#include "ember/kernels/cuda/overlapped_launch.cuh"
#include "ember/kernels/cuda/runtime.h"
#include "ember/kernels/pool_math.h"

namespace ember::kernels::cuda_impl {

namespace {

__device__ __forceinline__ std::int64_t first_item() {
  return static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
}
__device__ __forceinline__ std::int64_t item_stride() { return static_cast<std::int64_t>(gridDim.x) * blockDim.x; }

template <typename T> struct PoolParams {
  const T* in;            // forward: input [planes, h, w]; backward: output gradient [planes, out_h, out_w]
  T* out;                 // forward: output; backward: input gradient
  std::int64_t* indices;  // max: [planes, out_h, out_w], or null in a forward without indices
  pool::Geometry g;
  std::int64_t count;     // elements to write: planes * the written plane's size
};

template <typename T> __global__ void max_pool_kernel(PoolParams<T> p) {
  overlap_prologue();
  const std::int64_t out_plane = p.g.out_h * p.g.out_w, in_plane = p.g.h * p.g.w;
  for (std::int64_t e = first_item(); e < p.count; e += item_stride()) {
    const std::int64_t plane = e / out_plane, o = e % out_plane;
    compute_t<T> value;
    std::int64_t index;
    pool::max_window(p.in + plane * in_plane, p.g, o / p.g.out_w, o % p.g.out_w, value, index);
    p.out[e] = T(value);
    if (p.indices != nullptr) p.indices[e] = index;
  }
}

template <typename T> __global__ void avg_pool_kernel(PoolParams<T> p) {
  overlap_prologue();
  const std::int64_t out_plane = p.g.out_h * p.g.out_w, in_plane = p.g.h * p.g.w;
  for (std::int64_t e = first_item(); e < p.count; e += item_stride()) {
    const std::int64_t plane = e / out_plane, o = e % out_plane;
    p.out[e] = T(pool::avg_at(p.in + plane * in_plane, p.g, o / p.g.out_w, o % p.g.out_w));
  }
}

template <typename T> __global__ void max_pool_backward_kernel(PoolParams<T> p) {
  overlap_prologue();
  const std::int64_t out_plane = p.g.out_h * p.g.out_w, in_plane = p.g.h * p.g.w;
  for (std::int64_t e = first_item(); e < p.count; e += item_stride()) {
    const std::int64_t plane = e / in_plane, i = e % in_plane;
    p.out[e] = T(pool::max_grad_at(p.in + plane * out_plane, p.indices + plane * out_plane, p.g, i / p.g.w, i % p.g.w));
  }
}

template <typename T> __global__ void avg_pool_backward_kernel(PoolParams<T> p) {
  overlap_prologue();
  const std::int64_t out_plane = p.g.out_h * p.g.out_w, in_plane = p.g.h * p.g.w;
  for (std::int64_t e = first_item(); e < p.count; e += item_stride()) {
    const std::int64_t plane = e / in_plane, i = e % in_plane;
    p.out[e] = T(pool::avg_grad_at(p.in + plane * out_plane, p.g, i / p.g.w, i % p.g.w));
  }
}

template <typename T> struct AdaptiveParams {
  const T* in;  // forward: input; backward: output gradient
  T* out;       // forward: output; backward: input gradient
  pool::AdaptiveGeometry g;
  std::int64_t count;
};

template <typename T> __global__ void adaptive_avg_kernel(AdaptiveParams<T> p) {
  overlap_prologue();
  const std::int64_t out_plane = p.g.out_h * p.g.out_w, in_plane = p.g.h * p.g.w;
  for (std::int64_t e = first_item(); e < p.count; e += item_stride()) {
    const std::int64_t plane = e / out_plane, o = e % out_plane;
    p.out[e] = T(pool::adaptive_avg_at(p.in + plane * in_plane, p.g, o / p.g.out_w, o % p.g.out_w));
  }
}

template <typename T> __global__ void adaptive_avg_backward_kernel(AdaptiveParams<T> p) {
  overlap_prologue();
  const std::int64_t out_plane = p.g.out_h * p.g.out_w, in_plane = p.g.h * p.g.w;
  for (std::int64_t e = first_item(); e < p.count; e += item_stride()) {
    const std::int64_t plane = e / in_plane, i = e % in_plane;
    p.out[e] = T(pool::adaptive_avg_grad_at(p.in + plane * out_plane, p.g, i / p.g.w, i % p.g.w));
  }
}

void check_adaptive(const TensorRef& out, const TensorRef& in, const char* who) {
  // An empty ref's strides do not matter (its sizes alone are read).
  EMBER_CHECK(in.ndim() == 4 && out.ndim() == 4 && (in.numel() == 0 || in.is_contiguous()) &&
                  (out.numel() == 0 || out.is_contiguous()) &&
                  in.sizes[0] == out.sizes[0] && in.sizes[1] == out.sizes[1] && in.dtype == out.dtype,
              "ember (CUDA backend) ", who, ": expects contiguous NCHW refs of one dtype with the same N and C, got ",
              in.sizes.str(), " and ", out.sizes.str());
  EMBER_CHECK(out.numel() == 0 || (in.sizes[2] > 0 && in.sizes[3] > 0), "ember (CUDA backend) ", who,
              ": an empty input plane ", in.sizes.str(), " has no average");
}

}  // namespace

void pool2d(int device, const PoolArgs& args) {
  check_pool_args(args, false, "CUDA backend");
  const std::int64_t count = args.output.numel();
  if (count == 0) return;
  const DeviceGuard guard(device);
  const DeviceContext& ctx = context(device);
  const bool max = args.kind == PoolKind::Max;
  dispatch_arithmetic(args.input.dtype, max ? "max_pool2d" : "avg_pool2d", [&](auto zero) {
    using T = decltype(zero);
    const PoolParams<T> params{
        .in = args.input.ptr<const T>(),
        .out = args.output.ptr<T>(),
        .indices = max && args.indices.data != nullptr ? args.indices.ptr<std::int64_t>() : nullptr,
        .g = pool::geometry_of(args),
        .count = count,
    };
    const unsigned blocks = grid_size(count, ctx.sm_count);
    if (max) launch_overlapped<max_pool_kernel<T>>(ctx, blocks, kBlockSize, params);
    else launch_overlapped<avg_pool_kernel<T>>(ctx, blocks, kBlockSize, params);
  });
}

void pool2d_backward(int device, const PoolArgs& args) {
  check_pool_args(args, true, "CUDA backend");
  const std::int64_t count = args.input.numel();
  if (count == 0) return;
  const DeviceGuard guard(device);
  const DeviceContext& ctx = context(device);
  const bool max = args.kind == PoolKind::Max;
  dispatch_arithmetic(args.input.dtype, max ? "max_pool2d backward" : "avg_pool2d backward", [&](auto zero) {
    using T = decltype(zero);
    const PoolParams<T> params{
        .in = args.output.ptr<const T>(),
        .out = args.input.ptr<T>(),
        .indices = max ? args.indices.ptr<std::int64_t>() : nullptr,
        .g = pool::geometry_of(args),
        .count = count,
    };
    const unsigned blocks = grid_size(count, ctx.sm_count);
    if (max) launch_overlapped<max_pool_backward_kernel<T>>(ctx, blocks, kBlockSize, params);
    else launch_overlapped<avg_pool_backward_kernel<T>>(ctx, blocks, kBlockSize, params);
  });
}

void adaptive_avg_pool2d(int device, const TensorRef& out, const TensorRef& in) {
  check_adaptive(out, in, "adaptive_avg_pool2d");
  const std::int64_t count = out.numel();
  if (count == 0) return;
  const DeviceGuard guard(device);
  const DeviceContext& ctx = context(device);
  dispatch_arithmetic(in.dtype, "adaptive_avg_pool2d", [&](auto zero) {
    using T = decltype(zero);
    const AdaptiveParams<T> params{
        .in = in.ptr<const T>(),
        .out = out.ptr<T>(),
        .g = {in.sizes[2], in.sizes[3], out.sizes[2], out.sizes[3]},
        .count = count,
    };
    launch_overlapped<adaptive_avg_kernel<T>>(ctx, grid_size(count, ctx.sm_count), kBlockSize, params);
  });
}

void adaptive_avg_pool2d_backward(int device, const TensorRef& grad_in, const TensorRef& grad_out) {
  check_adaptive(grad_out, grad_in, "adaptive_avg_pool2d backward");
  const std::int64_t count = grad_in.numel();
  if (count == 0) return;
  if (grad_out.numel() == 0) {  // no window: nothing reaches the input
    fill(device, grad_in, 0.0);
    return;
  }
  const DeviceGuard guard(device);
  const DeviceContext& ctx = context(device);
  dispatch_arithmetic(grad_in.dtype, "adaptive_avg_pool2d backward", [&](auto zero) {
    using T = decltype(zero);
    const AdaptiveParams<T> params{
        .in = grad_out.ptr<const T>(),
        .out = grad_in.ptr<T>(),
        .g = {grad_in.sizes[2], grad_in.sizes[3], grad_out.sizes[2], grad_out.sizes[3]},
        .count = count,
    };
    launch_overlapped<adaptive_avg_backward_kernel<T>>(ctx, grid_size(count, ctx.sm_count), kBlockSize, params);
  });
}

}  // namespace ember::kernels::cuda_impl
