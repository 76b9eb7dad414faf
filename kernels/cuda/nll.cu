// Negative log-likelihood and its input gradient on CUDA (kernels/kernel_args.h, NllArgs).
//
// The forward is one block: its threads stride over the N * D elements, accumulating the loss and
// the targets' weights in double, combine them with group_reduce and write the loss: a
// classifier's batch is a few hundred elements, for which one block beats a second launch that
// would combine many. Deterministic (a fixed order of sums). A target outside [0, C) that is not
// ignore_index cannot be reported without waiting for the device, so its element's loss is NaN,
// which the reductions carry into the loss (the CPU raises an ember::Error instead).
//
// The backward zeroes grad_input and writes -weight[t] * g at each element's target.
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

template <typename T> struct NllParams {
  const T* input;  // [N, C, D]
  const std::int64_t* target;  // [N, D]
  const T* weight;  // [C] or null
  T* out;  // [N, D] (None) or 0-d
  T* total_weight;
  std::int64_t n, classes, d, ignore_index;
  LossReduction reduction;
};

template <typename T> __global__ void __launch_bounds__(kBlockSize) nll_kernel(NllParams<T> p) {
  overlap_prologue();
  using C = compute_t<T>;
  double sum = 0.0, total = 0.0;
  const std::int64_t elements = p.n * p.d;
  for (std::int64_t e = threadIdx.x; e < elements; e += kBlockSize) {
    const std::int64_t i = e / p.d, j = e % p.d, t = p.target[e];
    C loss = 0;
    if (t != p.ignore_index) {
      if (t < 0 || t >= p.classes) {
        loss = std::numeric_limits<C>::quiet_NaN();
      } else {
        const C w = p.weight != nullptr ? static_cast<C>(p.weight[t]) : C(1);
        loss = -w * static_cast<C>(p.input[(i * p.classes + t) * p.d + j]);
        total += static_cast<double>(w);
      }
      sum += static_cast<double>(loss);
    }
    if (p.reduction == LossReduction::None) p.out[e] = T(loss);
  }
  const SumOp<double> add;
  sum = group_reduce<kBlockSize>(sum, add);
  total = group_reduce<kBlockSize>(total, add);
  if (threadIdx.x != 0) return;
  *p.total_weight = T(static_cast<C>(total));
  if (p.reduction == LossReduction::Sum) *p.out = T(static_cast<C>(sum));
  if (p.reduction == LossReduction::Mean) *p.out = T(static_cast<C>(sum) / static_cast<C>(total));
}

template <typename T> struct NllBackwardParams {
  T* grad_input;  // [N, C, D], zeroed first
  const T* grad_out;
  const std::int64_t* target;
  const T* weight;
  const T* total_weight;
  std::int64_t n, classes, d, ignore_index;
  LossReduction reduction;
};

template <typename T> __global__ void nll_backward_kernel(NllBackwardParams<T> p) {
  overlap_prologue();
  using C = compute_t<T>;
  const std::int64_t elements = p.n * p.d;
  const std::int64_t stride = static_cast<std::int64_t>(gridDim.x) * blockDim.x;
  C scale = p.reduction == LossReduction::None ? C(0) : static_cast<C>(p.grad_out[0]);
  if (p.reduction == LossReduction::Mean) scale /= static_cast<C>(*p.total_weight);
  for (std::int64_t e = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; e < elements; e += stride) {
    const std::int64_t t = p.target[e];
    if (t == p.ignore_index || t < 0 || t >= p.classes) continue;  // the forward made those NaN
    const std::int64_t i = e / p.d, j = e % p.d;
    const C w = p.weight != nullptr ? static_cast<C>(p.weight[t]) : C(1);
    const C g = p.reduction == LossReduction::None ? static_cast<C>(p.grad_out[e]) : scale;
    p.grad_input[(i * p.classes + t) * p.d + j] = T(-w * g);
  }
}

}  // namespace

void nll_loss(int device, const NllArgs& args) {
  check_nll_args(args, "CUDA backend");
  const DeviceGuard guard(device);
  const DeviceContext& ctx = context(device);
  dispatch_arithmetic(args.input.dtype, "nll_loss", [&](auto zero) {
    using T = decltype(zero);
    const NllParams<T> params{
        .input = args.input.ptr<const T>(),
        .target = args.target.ptr<const std::int64_t>(),
        .weight = args.weight.data != nullptr ? args.weight.ptr<const T>() : nullptr,
        .out = args.out.ptr<T>(),
        .total_weight = args.total_weight.ptr<T>(),
        .n = args.input.sizes[0],
        .classes = args.input.sizes[1],
        .d = args.input.sizes[2],
        .ignore_index = args.ignore_index,
        .reduction = args.reduction,
    };
    launch_overlapped<nll_kernel<T>>(ctx, 1, kBlockSize, params);
  });
}

void nll_loss_backward(int device, const NllBackwardArgs& args) {
  fill(device, args.grad_input, 0.0);
  const std::int64_t elements = args.grad_input.sizes[0] * args.grad_input.sizes[2];
  if (elements == 0) return;
  const DeviceGuard guard(device);
  const DeviceContext& ctx = context(device);
  dispatch_arithmetic(args.grad_input.dtype, "nll_loss backward", [&](auto zero) {
    using T = decltype(zero);
    const NllBackwardParams<T> params{
        .grad_input = args.grad_input.ptr<T>(),
        .grad_out = args.grad_out.ptr<const T>(),
        .target = args.target.ptr<const std::int64_t>(),
        .weight = args.weight.data != nullptr ? args.weight.ptr<const T>() : nullptr,
        .total_weight = args.total_weight.ptr<const T>(),
        .n = args.grad_input.sizes[0],
        .classes = args.grad_input.sizes[1],
        .d = args.grad_input.sizes[2],
        .ignore_index = args.ignore_index,
        .reduction = args.reduction,
    };
    launch_overlapped<nll_backward_kernel<T>>(ctx, grid_size(elements, ctx.sm_count), kBlockSize, params);
  });
}

}  // namespace ember::kernels::cuda_impl
