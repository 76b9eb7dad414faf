// Mean-squared error on the CPU (kernels/kernel_args.h, MseArgs): one pass over input and target
// forms each difference, writes its gradient when asked, and adds its square to the sum.
//
// The sum is pairwise like the reductions' (reduce.cpp): runs longer than kBlock are halved
// recursively, and a leaf adds into four double accumulators, so float32 sums are exact before
// the final rounding and float64 error grows as O(log n). The difference, its square and the
// gradient are rounded to T, as PyTorch rounds (input - target)^2 and its backward; bfloat16 and
// float16 compute each in float32 (compute_t) before that rounding.
#include <cstdint>

#include "ember/core/dtype.h"
#include "ember/kernels/cpu/cpu_kernels.h"
#include "ember/kernels/cpu/strided_loop.h"

namespace ember::kernels::cpu {

namespace {

constexpr std::int64_t kBlock = 128;  // pairwise-summation leaf size

// Sum of (a[i] - b[i])^2 over one run of n elements; when kGrad, also g[i] = scale * (a[i] - b[i]).
template <bool kGrad, typename T, typename C = compute_t<T>>
double mse_run(const T* a, std::int64_t sa, const T* b, std::int64_t sb, T* g, std::int64_t sg, std::int64_t n,
               C scale) {
  if (n > kBlock) {
    const std::int64_t half = n / 2;
    return mse_run<kGrad>(a, sa, b, sb, g, sg, half, scale) +
           mse_run<kGrad>(a + half * sa, sa, b + half * sb, sb, kGrad ? g + half * sg : g, sg, n - half, scale);
  }
  double acc[4] = {0.0, 0.0, 0.0, 0.0};
  for (std::int64_t i = 0; i < n; ++i) {
    const T d = T(C(a[i * sa]) - C(b[i * sb]));
    if constexpr (kGrad) g[i * sg] = T(scale * C(d));
    acc[i & 3] += static_cast<double>(T(C(d) * C(d)));
  }
  return (acc[0] + acc[1]) + (acc[2] + acc[3]);
}

template <bool kGrad, typename T> void mse_loop(const MseArgs& args) {
  const T* a = args.input.ptr<const T>();
  const T* b = args.target.ptr<const T>();
  T* g = args.grad_input.ptr<T>();
  using C = compute_t<T>;
  const C scale = static_cast<C>(args.grad_scale);
  double sum = 0.0;
  if (args.input.is_contiguous() && args.target.is_contiguous()) {
    sum = mse_run<kGrad>(a, 1, b, 1, g, 1, args.input.numel(), scale);
  } else {
    // The gradient is contiguous in the input's sizes: its strides join the plan as a third operand.
    const Strides grad_strides = contiguous_strides(args.input.sizes);
    const auto plan = make_plan<3>(args.input.sizes,
                                   {args.input.strides.data(), args.target.strides.data(), grad_strides.data()});
    run_plan(plan, [&](const auto& off, const auto& st, std::int64_t n) {
      sum += mse_run<kGrad>(a + off[0], st[0], b + off[1], st[1], kGrad ? g + off[2] : g, st[2], n, scale);
    });
  }
  args.loss.ptr<T>()[0] = T(static_cast<C>(sum) / static_cast<C>(args.divisor));
}

}  // namespace

void mse_loss(int /*device*/, const MseArgs& args) {
  check_mse_args(args, "CPU backend");
  dispatch_arithmetic(args.input.dtype, "mse_loss", [&](auto tag) {
    using T = decltype(tag);
    if (args.grad_input.data != nullptr) mse_loop<true, T>(args);
    else mse_loop<false, T>(args);
  });
}

}  // namespace ember::kernels::cpu
