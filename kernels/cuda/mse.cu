// Mean-squared error in one launch (kernels/kernel_args.h, MseArgs): each thread forms d = a - b for
// its elements, writes the gradient grad_scale * d when asked, and adds d * d to a double
// accumulator; blocks combine their threads, and the last block to finish (last_block.cuh)
// combines the blocks' partial sums in a fixed order and writes the loss. Deterministic: the grid
// depends only on the element count and the GPU.
//
// Rounding matches the CPU backend: d, d * d and grad_scale * d in T (no FMA, exact_math.cuh),
// the sum in double, then T(sum) / T(divisor).
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>

#include "ember/core/error.h"
#include "ember/kernels/cuda/block_reduce.cuh"
#include "ember/kernels/cuda/caching_allocator.h"
#include "ember/kernels/cuda/check.h"
#include "ember/kernels/cuda/device.h"
#include "ember/kernels/cuda/exact_math.cuh"
#include "ember/kernels/cuda/indexing.cuh"
#include "ember/kernels/cuda/last_block.cuh"
#include "ember/kernels/cuda/launch.cuh"
#include "ember/kernels/cuda/launchers.h"
#include "ember/kernels/cuda/overlapped_launch.cuh"
#include "ember/kernels/cuda/runtime.h"

namespace ember::kernels::cuda_impl {

namespace {

// Elements per thread before another block is worth its launch share; blocks stop at two per SM,
// which is enough to stream a + b at full bandwidth.
constexpr std::int64_t kItemsPerThread = 8;

template <typename T, typename Index> struct MseParams {
  const T* a;
  const T* b;
  OffsetCalc<2, Index> elements;  // offsets of element i in a and b
  T* grad;                        // contiguous; null: no gradient
  T* loss;
  double* partials;  // one per block, when there is more than one block
  unsigned* ticket;
  Index n;
  compute_t<T> grad_scale, divisor;  // float for bfloat16 and float16, which compute in float
};

template <bool kGrad, typename T, typename Index>
__global__ void __launch_bounds__(kBlockSize) mse_kernel(MseParams<T, Index> p) {
  overlap_prologue();
  using exact::mul;
  using C = compute_t<T>;
  double acc = 0.0;
  const Index stride = static_cast<Index>(gridDim.x) * kBlockSize;
  for (Index i = static_cast<Index>(blockIdx.x) * kBlockSize + static_cast<Index>(threadIdx.x); i < p.n; i += stride) {
    Index offsets[2];
    p.elements.get(i, offsets);
    // In T, each rounded as the CPU rounds it (for 16-bit T: computed in float, rounded to T).
    const T d = T(exact::sub(C(p.a[offsets[0]]), C(p.b[offsets[1]])));
    if constexpr (kGrad) p.grad[i] = T(mul(p.grad_scale, C(d)));
    acc += static_cast<double>(T(mul(C(d), C(d))));
  }
  const SumOp<double> sum;
  acc = group_reduce<kBlockSize>(acc, sum);
  if (gridDim.x > 1) {
    if (threadIdx.x == 0) p.partials[blockIdx.x] = acc;
    if (!is_last_block(p.ticket)) return;
    acc = 0.0;
    for (unsigned j = threadIdx.x; j < gridDim.x; j += kBlockSize) acc += __ldcg(&p.partials[j]);
    acc = group_reduce<kBlockSize>(acc, sum);
  }
  if (threadIdx.x == 0) *p.loss = T(static_cast<C>(acc) / p.divisor);
}

template <typename T, typename Index>
void launch_mse(const DeviceContext& ctx, const MseArgs& args, const Layout<2>& elements) {
  const std::int64_t n = args.input.numel();
  const std::int64_t wanted = (n + kBlockSize * kItemsPerThread - 1) / (kBlockSize * kItemsPerThread);
  const auto blocks = static_cast<unsigned>(std::clamp<std::int64_t>(wanted, 1, 2 * std::int64_t{ctx.sm_count}));
  // Freed right after the launch is queued: stream order keeps it valid until the kernel is done.
  const CachedBuffer partials = blocks > 1 ? CachedBuffer(allocator(), blocks * sizeof(double), ctx.device) : CachedBuffer();
  const MseParams<T, Index> params{
      .a = args.input.ptr<const T>(),
      .b = args.target.ptr<const T>(),
      .elements = OffsetCalc<2, Index>(elements),
      .grad = args.grad_input.ptr<T>(),
      .loss = args.loss.ptr<T>(),
      .partials = partials.as<double>(),
      .ticket = ctx.ticket(Ticket::kMse),
      .n = static_cast<Index>(n),
      .grad_scale = static_cast<compute_t<T>>(args.grad_scale),
      .divisor = static_cast<compute_t<T>>(args.divisor),
  };
  if (params.grad != nullptr) launch_overlapped<mse_kernel<true, T, Index>>(ctx, blocks, kBlockSize, params);
  else launch_overlapped<mse_kernel<false, T, Index>>(ctx, blocks, kBlockSize, params);
}

}  // namespace

void mse_loss(int device, const MseArgs& args) {
  check_mse_args(args, "CUDA backend");
  const std::int64_t n = args.input.numel();
  if (n == 0) {  // the empty sum is 0; the loss is 0 / divisor
    fill(device, args.loss, 0.0 / args.divisor);
    return;
  }
  const DeviceGuard guard(device);
  const DeviceContext& ctx = context(device);
  const Strides* strides[2] = {&args.input.strides, &args.target.strides};
  const Layout<2> elements = make_layout<2>(args.input.sizes, strides);
  dispatch_arithmetic(args.input.dtype, "mse_loss", [&](auto zero) {
    using T = decltype(zero);
    if (fits_32bit(elements)) launch_mse<T, std::int32_t>(ctx, args, elements);
    else launch_mse<T, std::int64_t>(ctx, args, elements);
  });
}

}  // namespace ember::kernels::cuda_impl
