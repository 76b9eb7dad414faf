// Softmax, log-softmax, their backward and argmax on CUDA, over dim 1 of contiguous [outer, n,
// inner] views (kernels/registry.h): one warp per line of n elements (stride inner), which reads
// its line three times (max, sum, write) and combines lanes with shuffles. Compute type: float for
// bfloat16/float16, T otherwise. A classifier's lines are short (n = the classes), so a warp is
// the right grain; a line of thousands is still correct, looping 32 elements at a time.
#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>
#include <limits>

#include "ember/core/error.h"
#include "ember/kernels/cuda/block_reduce.cuh"
#include "ember/kernels/cuda/check.h"
#include "ember/kernels/cuda/device.h"
#include "ember/kernels/cuda/launch.cuh"
#include "ember/kernels/cuda/launchers.h"
#include "ember/kernels/cuda/overlapped_launch.cuh"
#include "ember/kernels/cuda/runtime.h"

namespace ember::kernels::cuda_impl {

namespace {

constexpr int kWarpsPerBlock = kBlockSize / 32;

struct Lines {
  std::int64_t count, n, inner;  // count = outer * inner
};

Lines lines_of(const TensorRef& t, const char* who) {
  EMBER_CHECK(t.ndim() == 3 && t.is_contiguous(), "ember (CUDA backend) ", who,
              ": expects a contiguous [outer, n, inner] view, got sizes ", t.sizes.str());
  return {t.sizes[0] * t.sizes[2], t.sizes[1], t.sizes[2]};
}

unsigned blocks_for(std::int64_t lines) {
  const std::int64_t blocks = (lines + kWarpsPerBlock - 1) / kWarpsPerBlock;
  EMBER_CHECK(blocks <= std::numeric_limits<std::int32_t>::max(), "ember (CUDA backend) softmax: too many lines (",
              lines, ")");
  return static_cast<unsigned>(blocks);
}

// The warp's line: its first element's offset; elements are `inner` apart.
__device__ __forceinline__ std::int64_t line_start(Lines l, std::int64_t line) {
  const std::int64_t o = line / l.inner, i = line % l.inner;
  return o * l.n * l.inner + i;
}

template <typename T, bool kLog> __global__ void softmax_kernel(T* out, const T* in, Lines l) {
  overlap_prologue();
  using C = compute_t<T>;
  const std::int64_t line = static_cast<std::int64_t>(blockIdx.x) * kWarpsPerBlock + threadIdx.x / 32;
  if (line >= l.count) return;  // whole warps leave together: the shuffles below see full warps
  const int lane = threadIdx.x % 32;
  const T* x = in + line_start(l, line);
  T* y = out + line_start(l, line);
  C max = -std::numeric_limits<C>::infinity();
  for (std::int64_t k = lane; k < l.n; k += 32) max = MaxOp<C>{}(max, static_cast<C>(x[k * l.inner]));
  max = group_reduce<32>(max, MaxOp<C>{});
  C sum = 0;
  for (std::int64_t k = lane; k < l.n; k += 32) sum += exp(static_cast<C>(x[k * l.inner]) - max);
  sum = group_reduce<32>(sum, SumOp<C>{});
  if constexpr (kLog) {
    const C log_sum = log(sum);
    for (std::int64_t k = lane; k < l.n; k += 32) y[k * l.inner] = T(static_cast<C>(x[k * l.inner]) - max - log_sum);
  } else {
    for (std::int64_t k = lane; k < l.n; k += 32) y[k * l.inner] = T(exp(static_cast<C>(x[k * l.inner]) - max) / sum);
  }
}

template <typename T, bool kLog>
__global__ void softmax_backward_kernel(T* grad_in, const T* grad_out, const T* out, Lines l) {
  overlap_prologue();
  using C = compute_t<T>;
  const std::int64_t line = static_cast<std::int64_t>(blockIdx.x) * kWarpsPerBlock + threadIdx.x / 32;
  if (line >= l.count) return;
  const int lane = threadIdx.x % 32;
  const std::int64_t start = line_start(l, line);
  const T* g = grad_out + start;
  const T* y = out + start;
  T* gi = grad_in + start;
  C dot = 0;  // softmax: sum g * y; log-softmax: sum g
  for (std::int64_t k = lane; k < l.n; k += 32) {
    const C gv = static_cast<C>(g[k * l.inner]);
    dot += kLog ? gv : gv * static_cast<C>(y[k * l.inner]);
  }
  dot = group_reduce<32>(dot, SumOp<C>{});
  for (std::int64_t k = lane; k < l.n; k += 32) {
    const C gv = static_cast<C>(g[k * l.inner]), yv = static_cast<C>(y[k * l.inner]);
    gi[k * l.inner] = T(kLog ? gv - exp(yv) * dot : yv * (gv - dot));
  }
}

// The better of two (value, index) candidates for argmax: NaN beats everything, a larger value
// beats a smaller one, and between equals (or two NaNs) the first index wins.
template <typename C> __device__ __forceinline__ bool better(C v, std::int64_t i, C w, std::int64_t j) {
  const bool v_nan = isnan(v), w_nan = isnan(w);
  if (v_nan != w_nan) return v_nan;
  if (!v_nan && v != w) return v > w;
  return i < j;
}

template <typename T> __global__ void argmax_kernel(std::int64_t* out, const T* in, Lines l) {
  overlap_prologue();
  using C = compute_t<T>;
  const std::int64_t line = static_cast<std::int64_t>(blockIdx.x) * kWarpsPerBlock + threadIdx.x / 32;
  if (line >= l.count) return;
  const int lane = threadIdx.x % 32;
  const T* x = in + line_start(l, line);
  C best = -std::numeric_limits<C>::infinity();
  std::int64_t best_index = l.n;  // beyond every real index: any element beats it
  for (std::int64_t k = lane; k < l.n; k += 32) {
    const C v = static_cast<C>(x[k * l.inner]);
    if (best_index == l.n || better(v, k, best, best_index)) {
      best = v;
      best_index = k;
    }
  }
  for (int mask = 16; mask > 0; mask /= 2) {
    const C other = __shfl_xor_sync(0xffffffffu, best, mask);
    const std::int64_t other_index = __shfl_xor_sync(0xffffffffu, best_index, mask);
    if (other_index != l.n && (best_index == l.n || better(other, other_index, best, best_index))) {
      best = other;
      best_index = other_index;
    }
  }
  if (lane == 0) out[line] = best_index;  // out is [outer, 1, inner]: line = o * inner + i
}

}  // namespace

void softmax(int device, const TensorRef& out, const TensorRef& in, bool log) {
  const Lines l = lines_of(in, "softmax");
  if (l.count == 0 || l.n == 0) return;
  const DeviceGuard guard(device);
  const DeviceContext& ctx = context(device);
  dispatch_arithmetic(in.dtype, log ? "log_softmax" : "softmax", [&](auto zero) {
    using T = decltype(zero);
    if (log) launch_overlapped<softmax_kernel<T, true>>(ctx, blocks_for(l.count), kBlockSize, out.ptr<T>(), in.ptr<const T>(), l);
    else launch_overlapped<softmax_kernel<T, false>>(ctx, blocks_for(l.count), kBlockSize, out.ptr<T>(), in.ptr<const T>(), l);
  });
}

void softmax_backward(int device, const TensorRef& grad_in, const TensorRef& grad_out, const TensorRef& out, bool log) {
  const Lines l = lines_of(out, "softmax_backward");
  if (l.count == 0 || l.n == 0) return;
  const DeviceGuard guard(device);
  const DeviceContext& ctx = context(device);
  dispatch_arithmetic(out.dtype, log ? "log_softmax backward" : "softmax backward", [&](auto zero) {
    using T = decltype(zero);
    if (log)
      launch_overlapped<softmax_backward_kernel<T, true>>(ctx, blocks_for(l.count), kBlockSize, grad_in.ptr<T>(),
                                                          grad_out.ptr<const T>(), out.ptr<const T>(), l);
    else
      launch_overlapped<softmax_backward_kernel<T, false>>(ctx, blocks_for(l.count), kBlockSize, grad_in.ptr<T>(),
                                                           grad_out.ptr<const T>(), out.ptr<const T>(), l);
  });
}

void argmax(int device, const TensorRef& out, const TensorRef& in) {
  const Lines l = lines_of(in, "argmax");
  EMBER_CHECK(l.n > 0, "ember (CUDA backend) argmax: an empty dim has no maximum");
  if (l.count == 0) return;
  const DeviceGuard guard(device);
  const DeviceContext& ctx = context(device);
  dispatch_arithmetic(in.dtype, "argmax", [&](auto zero) {
    using T = decltype(zero);
    launch_overlapped<argmax_kernel<T>>(ctx, blocks_for(l.count), kBlockSize, out.ptr<std::int64_t>(),
                                        in.ptr<const T>(), l);
  });
}

}  // namespace ember::kernels::cuda_impl
