// Batch normalisation and its gradients on CUDA (kernels/kernel_args.h, BatchNormArgs; the
// arithmetic is kernels/batch_norm_math.h, shared with the CPU). Ember's own kernels: cuDNN's
// batch-norm calls are not used (its legacy ones are deprecated in cuDNN 9).
//
// Each op is three steps over the [N, C, S] view, where a channel's M = N * S values are N runs of S:
//  1. sums: two sums per channel in double (forward: d = x - shift and d^2, shift being the
//     channel's first value; backward: g and g * (x - mean)), written as partial sums, one per
//     block and column; no atomics, so results are the same every run. Two kernels:
//       rows (S >= kRowsMinS, a conv's H * W): a block per (channel, share of its M values),
//         its threads striding over them;
//       columns (small S, a Linear's [N, C] features): the [N, C * S] matrix's columns side by
//         side, 32 per block, 8 threads down each, so that a warp reads 32 neighbours.
//     A channel whose values alone cannot fill the GPU is split over several blocks.
//  2. per channel: its partials added in a fixed order (finalize kernels), giving the statistics
//     (training: one block for every channel, so that the running statistics can be updated for
//     all channels or for none when one of them is not finite) or the gradient's terms.
//  3. element-wise: the output or the input's gradient, by planes (one (n, c) run of S values per
//     block, the channel's terms loaded once) when S is large, else element by element.
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <limits>

#include "ember/core/error.h"
#include "ember/kernels/batch_norm_math.h"
#include "ember/kernels/cuda/block_reduce.cuh"
#include "ember/kernels/cuda/caching_allocator.h"
#include "ember/kernels/cuda/check.h"
#include "ember/kernels/cuda/device.h"
#include "ember/kernels/cuda/indexing.cuh"
#include "ember/kernels/cuda/launch.cuh"
#include "ember/kernels/cuda/launchers.h"
#include "ember/kernels/cuda/overlapped_launch.cuh"
#include "ember/kernels/cuda/runtime.h"

namespace ember::kernels::cuda_impl {

namespace bn = batch_norm_math;

namespace {

constexpr std::int64_t kRowsMinS = 32;  // from here a run of S values is long enough to read along
constexpr int kColumnsX = 32;           // columns per block
constexpr int kColumnsY = kBlockSize / kColumnsX;  // threads down each column

struct Dims {
  std::int64_t n, c, s;
  std::int64_t count() const { return n * s; }
  std::int64_t numel() const { return n * c * s; }
};

Dims dims_of(const TensorRef& t) { return {t.sizes[0], t.sizes[1], t.sizes[2]}; }

// --- Step 1: per-channel sums ---------------------------------------------------------------
// The forward's values: d = x - shift and d^2 (batch_norm_math.h, stats_from_sums).
template <typename T> struct StatsSource {
  const T* x;
  std::int64_t s;
  template <typename Index> __device__ double base(Index ch) const {
    return static_cast<double>(static_cast<compute_t<T>>(x[ch * static_cast<Index>(s)]));  // (n 0, s 0)
  }
  template <typename Index> __device__ double2 operator()(Index i, double shift) const {
    const double d = static_cast<double>(static_cast<compute_t<T>>(x[i])) - shift;
    return make_double2(d, d * d);
  }
};

// The backward's values: g and g * (x - mean), mean in the compute type.
template <typename T> struct GradSource {
  const T* g;
  const T* x;
  const compute_t<T>* mean;
  template <typename Index> __device__ double base(Index ch) const { return static_cast<double>(mean[ch]); }
  template <typename Index> __device__ double2 operator()(Index i, double m) const {
    const double gv = static_cast<double>(static_cast<compute_t<T>>(g[i]));
    return make_double2(gv, gv * (static_cast<double>(static_cast<compute_t<T>>(x[i])) - m));
  }
};

// Block (ch, split) sums values [split * split_len, ...) of channel ch (blockIdx.x) into
// partials[ch * gridDim.y + split].
template <typename Source, typename Index>
__global__ void __launch_bounds__(kBlockSize)
    sums_rows_kernel(Source source, Index n, Index c, Index s, Index split_len, double2* partials) {
  overlap_prologue();
  const Index ch = static_cast<Index>(blockIdx.x), split = static_cast<Index>(blockIdx.y);
  const Index count = n * s;
  const Index begin = split * split_len;
  const Index end = count - begin < split_len ? count : begin + split_len;
  const double base = source.base(ch);
  double a = 0.0, b = 0.0;
  for (Index r = begin + static_cast<Index>(threadIdx.x); r < end; r += kBlockSize) {
    const Index i = r / s, k = r - i * s;
    const double2 v = source((i * c + ch) * s + k, base);
    a += v.x;
    b += v.y;
  }
  a = group_reduce<kBlockSize>(a, SumOp<double>{});
  b = group_reduce<kBlockSize>(b, SumOp<double>{});
  if (threadIdx.x == 0) partials[ch * static_cast<Index>(gridDim.y) + split] = make_double2(a, b);
}

// The columns of the [N, C * S] matrix: column j (of channel j / S) sums rows [split * split_len,
// ...) into partials[j * gridDim.y + split], so that channel ch's partials are the S * gridDim.y
// entries from ch * S * gridDim.y.
template <typename Source, typename Index>
__global__ void __launch_bounds__(kBlockSize)
    sums_columns_kernel(Source source, Index n, Index columns, Index s, Index split_len, double2* partials) {
  overlap_prologue();
  __shared__ double2 partial[kColumnsY][kColumnsX];
  const int x = static_cast<int>(threadIdx.x) % kColumnsX, y = static_cast<int>(threadIdx.x) / kColumnsX;
  const Index j = static_cast<Index>(blockIdx.x) * kColumnsX + x;
  const Index begin = static_cast<Index>(blockIdx.y) * split_len;
  const Index end = n - begin < split_len ? n : begin + split_len;
  double a = 0.0, b = 0.0;
  if (j < columns) {
    const double base = source.base(j / s);
    for (Index i = begin + y; i < end; i += kColumnsY) {
      const double2 v = source(i * columns + j, base);
      a += v.x;
      b += v.y;
    }
  }
  partial[y][x] = make_double2(a, b);
  __syncthreads();
  if (y == 0 && j < columns) {
    for (int r = 1; r < kColumnsY; ++r) {  // a fixed order: deterministic
      a += partial[r][x].x;
      b += partial[r][x].y;
    }
    partials[j * static_cast<Index>(gridDim.y) + static_cast<Index>(blockIdx.y)] = make_double2(a, b);
  }
}

// How step 1 covers the channels: the kernel, the splits, and the partials per channel.
struct SumsPlan {
  bool columns = false;
  std::int64_t splits = 1;
  std::int64_t split_len = 0;
  std::int64_t per_channel = 1;  // partials
};

std::int64_t split_count(std::int64_t blocks, std::int64_t len, std::int64_t min_per_block, int sm_count) {
  const std::int64_t target = std::int64_t{8} * std::max(sm_count, 1);  // 8 resident blocks per SM
  if (blocks >= target || len < 2 * min_per_block) return 1;
  return std::clamp<std::int64_t>(std::min((target + blocks - 1) / blocks, len / min_per_block), 1, 65535);
}

SumsPlan plan_sums(const Dims& d, int sm_count) {
  SumsPlan plan;
  plan.columns = d.s < kRowsMinS;
  if (plan.columns) {
    const std::int64_t blocks = (d.c * d.s + kColumnsX - 1) / kColumnsX;
    plan.splits = split_count(blocks, d.n, 64, sm_count);
    plan.split_len = (d.n + plan.splits - 1) / plan.splits;
    plan.per_channel = d.s * plan.splits;
  } else {
    plan.splits = split_count(d.c, d.count(), 4096, sm_count);
    plan.split_len = (d.count() + plan.splits - 1) / plan.splits;
    plan.per_channel = plan.splits;
  }
  return plan;
}

template <typename Index, typename Source>
void launch_sums(const DeviceContext& ctx, const Source& source, const Dims& d, const SumsPlan& plan,
                 double2* partials) {
  if (plan.columns) {
    const std::int64_t blocks = (d.c * d.s + kColumnsX - 1) / kColumnsX;
    EMBER_CHECK(blocks <= std::numeric_limits<std::int32_t>::max(), "ember (CUDA backend) batch_norm: too many "
                "channels (", d.c, ")");
    const dim3 grid(static_cast<unsigned>(blocks), static_cast<unsigned>(plan.splits));
    launch_overlapped<sums_columns_kernel<Source, Index>>(ctx, grid, kBlockSize, source, static_cast<Index>(d.n),
                                                          static_cast<Index>(d.c * d.s), static_cast<Index>(d.s),
                                                          static_cast<Index>(plan.split_len), partials);
  } else {
    EMBER_CHECK(d.c <= std::numeric_limits<std::int32_t>::max(), "ember (CUDA backend) batch_norm: too many "
                "channels (", d.c, ")");
    const dim3 grid(static_cast<unsigned>(d.c), static_cast<unsigned>(plan.splits));
    launch_overlapped<sums_rows_kernel<Source, Index>>(ctx, grid, kBlockSize, source, static_cast<Index>(d.n),
                                                       static_cast<Index>(d.c), static_cast<Index>(d.s),
                                                       static_cast<Index>(plan.split_len), partials);
  }
}

// Channel ch's two sums, its partials added in order.
__device__ __forceinline__ double2 channel_sums(const double2* partials, std::int64_t per_channel, std::int64_t ch) {
  double a = 0.0, b = 0.0;
  for (std::int64_t k = 0; k < per_channel; ++k) {
    const double2 v = partials[ch * per_channel + k];
    a += v.x;
    b += v.y;
  }
  return make_double2(a, b);
}

// --- Step 2: per channel -----------------------------------------------------------------------
struct MinOp {
  using Type = long long;
  __device__ long long identity() const { return std::numeric_limits<long long>::max(); }
  __device__ long long operator()(long long a, long long b) const { return a < b ? a : b; }
};

template <typename T> struct FinalizeTrainParams {
  using C = compute_t<T>;
  const T* x;
  const double2* partials;
  std::int64_t per_channel, channels, s, count;
  C* save_mean;
  C* save_invstd;
  T* running_mean;  // each of these may be null
  T* running_var;
  std::int64_t* batches;
  long long* bad;  // the first channel that is not finite, or `channels`; null: not wanted
  double momentum, eps;
  bool cumulative;
};

template <typename T> __device__ bn::Stats channel_stats(const FinalizeTrainParams<T>& p, std::int64_t ch) {
  const double2 sums = channel_sums(p.partials, p.per_channel, ch);
  const double shift = static_cast<double>(static_cast<compute_t<T>>(p.x[ch * p.s]));
  return bn::stats_from_sums(shift, sums.x, sums.y, static_cast<double>(p.count));
}

// One block: every channel's statistics; then, only if all are finite, the running statistics and
// the counter.
template <typename T> __global__ void __launch_bounds__(kBlockSize) finalize_train_kernel(FinalizeTrainParams<T> p) {
  overlap_prologue();
  using C = compute_t<T>;
  const long long batches_before = p.batches != nullptr ? *p.batches : 0;  // read before thread 0 writes it
  long long bad = p.channels;
  for (std::int64_t ch = threadIdx.x; ch < p.channels; ch += kBlockSize) {
    const bn::Stats s = channel_stats(p, ch);
    p.save_mean[ch] = static_cast<C>(s.mean);
    p.save_invstd[ch] = static_cast<C>(bn::invstd(s.var, p.eps));
    if (!(bn::is_finite(s.mean) && bn::is_finite(s.var))) bad = bad < ch ? bad : ch;
  }
  bad = group_reduce<kBlockSize>(bad, MinOp{});  // a barrier: every thread has read *p.batches
  if (p.bad != nullptr && threadIdx.x == 0) *p.bad = bad;
  if (bad < p.channels) return;  // nothing changes (the CPU throws here)
  const double f = bn::running_factor(p.cumulative, p.momentum, batches_before);
  const double count = static_cast<double>(p.count);
  for (std::int64_t ch = threadIdx.x; ch < p.channels; ch += kBlockSize) {
    if (p.running_mean == nullptr && p.running_var == nullptr) break;
    const bn::Stats s = channel_stats(p, ch);
    if (p.running_mean != nullptr) {
      T& rm = p.running_mean[ch];
      rm = T(bn::running_mean_update(static_cast<double>(static_cast<C>(rm)), s, f));
    }
    if (p.running_var != nullptr) {
      T& rv = p.running_var[ch];
      rv = T(bn::running_var_update(static_cast<double>(static_cast<C>(rv)), s, count, f));
    }
  }
  if (p.batches != nullptr && threadIdx.x == 0) *p.batches = batches_before + 1;
}

// Evaluation: the running statistics as mean and invstd in the compute type, one thread a channel.
template <typename T>
__global__ void running_stats_kernel(const T* running_mean, const T* running_var, double eps, std::int64_t channels,
                                     compute_t<T>* mean, compute_t<T>* invstd) {
  overlap_prologue();
  using C = compute_t<T>;
  const std::int64_t stride = static_cast<std::int64_t>(gridDim.x) * blockDim.x;
  for (std::int64_t ch = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; ch < channels; ch += stride) {
    mean[ch] = static_cast<C>(running_mean[ch]);
    invstd[ch] = static_cast<C>(bn::invstd(static_cast<double>(static_cast<C>(running_var[ch])), eps));
  }
}

template <typename T> struct FinalizeBackwardParams {
  using C = compute_t<T>;
  const double2* partials;
  std::int64_t per_channel, channels, count;
  const C* invstd;
  T* grad_weight;  // each of these may be null
  T* grad_bias;
  C* grad_mean;  // the training input gradient's terms
  C* k;
};

template <typename T> __global__ void finalize_backward_kernel(FinalizeBackwardParams<T> p) {
  overlap_prologue();
  using C = compute_t<T>;
  const std::int64_t stride = static_cast<std::int64_t>(gridDim.x) * blockDim.x;
  for (std::int64_t ch = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; ch < p.channels;
       ch += stride) {
    const double2 sums = channel_sums(p.partials, p.per_channel, ch);  // sum g, sum g * (x - mean)
    const double invstd = static_cast<double>(p.invstd[ch]);
    if (p.grad_bias != nullptr) p.grad_bias[ch] = T(sums.x);
    if (p.grad_weight != nullptr) p.grad_weight[ch] = T(sums.y * invstd);
    if (p.grad_mean != nullptr) {
      const bn::GradTerms terms = bn::grad_terms(sums.x, sums.y, invstd, static_cast<double>(p.count));
      p.grad_mean[ch] = static_cast<C>(terms.grad_mean);
      p.k[ch] = static_cast<C>(terms.k);
    }
  }
}

// --- Step 3: element-wise ----------------------------------------------------------------------
// output = normalize(x), with channel ch's terms.
template <typename T> struct NormalizeOp {
  using C = compute_t<T>;
  const T* x;
  T* y;
  const C* mean;
  const C* invstd;
  const T* weight;  // null: 1
  const T* bias;    // null: 0
  struct Channel {
    C mean, invstd, weight, bias;
  };
  __device__ Channel channel(std::int64_t ch) const {
    return {mean[ch], invstd[ch], weight != nullptr ? static_cast<C>(weight[ch]) : C(1),
            bias != nullptr ? static_cast<C>(bias[ch]) : C(0)};
  }
  template <typename Index> __device__ void operator()(const Channel& c, Index i) const {
    y[i] = T(bn::normalize<C>(static_cast<C>(x[i]), c.mean, c.invstd, c.weight, c.bias));
  }
};

// grad_input, in training (grad_mean and k given) or evaluation mode.
template <typename T> struct GradInputOp {
  using C = compute_t<T>;
  const T* g;
  const T* x;
  T* grad_input;
  const C* mean;
  const C* invstd;
  const T* weight;     // null: 1
  const C* grad_mean;  // null in evaluation
  const C* k;
  struct Channel {
    C mean, invstd, weight, grad_mean, k;
  };
  __device__ Channel channel(std::int64_t ch) const {
    return {mean[ch], invstd[ch], weight != nullptr ? static_cast<C>(weight[ch]) : C(1),
            grad_mean != nullptr ? grad_mean[ch] : C(0), grad_mean != nullptr ? k[ch] : C(0)};
  }
  template <typename Index> __device__ void operator()(const Channel& c, Index i) const {
    const C gv = static_cast<C>(g[i]);
    grad_input[i] = T(grad_mean != nullptr
                          ? bn::grad_input_train<C>(gv, static_cast<C>(x[i]), c.mean, c.invstd, c.weight, c.grad_mean, c.k)
                          : bn::grad_input_eval<C>(gv, c.invstd, c.weight));
  }
};

// Planes: blockIdx.x strides over the N * C runs of S values, blockIdx.y picks a chunk of each.
template <typename Op, typename Index>
__global__ void __launch_bounds__(kBlockSize) planes_kernel(Op op, Index planes, Index c, Index s, Index chunk) {
  overlap_prologue();
  const Index k_begin = static_cast<Index>(blockIdx.y) * chunk;
  const Index k_end = s - k_begin < chunk ? s : k_begin + chunk;
  for (Index plane = static_cast<Index>(blockIdx.x); plane < planes; plane += static_cast<Index>(gridDim.x)) {
    const typename Op::Channel channel = op.channel(plane % c);
    for (Index k = k_begin + static_cast<Index>(threadIdx.x); k < k_end; k += kBlockSize) op(channel, plane * s + k);
  }
}

// Element by element, for short runs: element e is in channel (e / S) % C.
template <typename Op, typename Index>
__global__ void __launch_bounds__(kBlockSize) elements_kernel(Op op, Index numel, Index c, Index s) {
  overlap_prologue();
  const Index stride = static_cast<Index>(gridDim.x) * kBlockSize;
  for (Index e = static_cast<Index>(blockIdx.x) * kBlockSize + static_cast<Index>(threadIdx.x); e < numel; e += stride) {
    op(op.channel((e / s) % c), e);
  }
}

template <typename Index, typename Op> void launch_elementwise(const DeviceContext& ctx, const Op& op, const Dims& d) {
  if (d.s < kRowsMinS) {
    launch_overlapped<elements_kernel<Op, Index>>(ctx, grid_size(d.numel(), ctx.sm_count), kBlockSize, op,
                                                  static_cast<Index>(d.numel()), static_cast<Index>(d.c),
                                                  static_cast<Index>(d.s));
    return;
  }
  // Chunks of 8 values per thread, at most 65535 of them (gridDim.y); enough planes to fill the GPU
  // two waves deep, the rest covered by the grid-stride loop.
  std::int64_t chunks = (d.s + 8 * kBlockSize - 1) / (8 * kBlockSize);
  chunks = std::min<std::int64_t>(chunks, 65535);
  const std::int64_t chunk = (d.s + chunks - 1) / chunks;
  chunks = (d.s + chunk - 1) / chunk;
  const std::int64_t planes = d.n * d.c;
  const std::int64_t wanted = std::max<std::int64_t>(1, std::int64_t{16} * std::max(ctx.sm_count, 1) / chunks);
  const dim3 grid(static_cast<unsigned>(std::min({planes, wanted, std::int64_t{1} << 30})),
                  static_cast<unsigned>(chunks));
  launch_overlapped<planes_kernel<Op, Index>>(ctx, grid, kBlockSize, op, static_cast<Index>(planes),
                                              static_cast<Index>(d.c), static_cast<Index>(d.s),
                                              static_cast<Index>(chunk));
}

// 32-bit indices when every element and partial index fits (see indexing.cuh, kMax32).
template <typename Fn> void with_index(const Dims& d, const SumsPlan& plan, Fn&& fn) {
  if (d.numel() < kMax32 && d.c * plan.per_channel < kMax32) fn(std::int32_t{0});
  else fn(std::int64_t{0});
}

unsigned channel_blocks(std::int64_t channels, int sm_count) {
  return static_cast<unsigned>(std::clamp<std::int64_t>((channels + kBlockSize - 1) / kBlockSize, 1,
                                                        std::int64_t{4} * std::max(sm_count, 1)));
}

}  // namespace

void batch_norm_train(int device, const BatchNormArgs& args) {
  check_batch_norm_args(args, true, "CUDA backend");
  const Dims d = dims_of(args.input);
  if (d.c == 0) return;
  // Checking for NaN means reading a flag on the host; refuse before queueing anything.
  if (args.check_finite) check_not_capturing(device, "batch_norm's check for NaN (under anomaly mode)");
  const DeviceGuard guard(device);
  DeviceContext& ctx = context(device);
  const SumsPlan plan = plan_sums(d, ctx.sm_count);
  // Freed when this returns: the caching allocator hands memory out again in stream order only.
  const CachedBuffer partials(allocator(), static_cast<std::size_t>(d.c * plan.per_channel) * sizeof(double2), device);
  const CachedBuffer bad(allocator(), sizeof(long long), device);
  dispatch_arithmetic(args.input.dtype, "batch_norm", [&](auto zero) {
    using T = decltype(zero);
    using C = compute_t<T>;
    with_index(d, plan, [&](auto index_zero) {
      using Index = decltype(index_zero);
      launch_sums<Index>(ctx, StatsSource<T>{args.input.ptr<const T>(), d.s}, d, plan, partials.as<double2>());
    });
    const FinalizeTrainParams<T> params{
        .x = args.input.ptr<const T>(),
        .partials = partials.as<const double2>(),
        .per_channel = plan.per_channel,
        .channels = d.c,
        .s = d.s,
        .count = d.count(),
        .save_mean = args.save_mean.ptr<C>(),
        .save_invstd = args.save_invstd.ptr<C>(),
        .running_mean = args.running_mean.data != nullptr ? args.running_mean.ptr<T>() : nullptr,
        .running_var = args.running_var.data != nullptr ? args.running_var.ptr<T>() : nullptr,
        .batches = args.num_batches_tracked.data != nullptr ? args.num_batches_tracked.ptr<std::int64_t>() : nullptr,
        .bad = args.check_finite ? bad.as<long long>() : nullptr,
        .momentum = args.momentum.value_or(0.0),
        .eps = args.eps,
        .cumulative = !args.momentum.has_value(),
    };
    launch_overlapped<finalize_train_kernel<T>>(ctx, 1, kBlockSize, params);
    if (args.check_finite) {
      long long first_bad = 0;
      cudaStream_t stream = ctx.stream();
      EMBER_CUDA_CHECK(cudaMemcpyAsync(&first_bad, bad.get(), sizeof(first_bad), cudaMemcpyDeviceToHost, stream));
      EMBER_CUDA_CHECK(cudaStreamSynchronize(stream));
      count_host_sync();
      EMBER_CHECK(first_bad == d.c, "batch_norm: channel ", first_bad, " of the input of sizes ",
                  args.input.sizes.str(), " holds NaN or Inf (found by anomaly mode's check); nothing was changed: "
                  "the running statistics are as they were");
    }
    const NormalizeOp<T> op{args.input.ptr<const T>(), args.output.ptr<T>(), args.save_mean.ptr<const C>(),
                            args.save_invstd.ptr<const C>(),
                            args.weight.data != nullptr ? args.weight.ptr<const T>() : nullptr,
                            args.bias.data != nullptr ? args.bias.ptr<const T>() : nullptr};
    with_index(d, plan, [&](auto index_zero) { launch_elementwise<decltype(index_zero)>(ctx, op, d); });
  });
}

void batch_norm_eval(int device, const BatchNormArgs& args) {
  check_batch_norm_args(args, false, "CUDA backend");
  const Dims d = dims_of(args.input);
  if (d.numel() == 0) return;
  const DeviceGuard guard(device);
  const DeviceContext& ctx = context(device);
  dispatch_arithmetic(args.input.dtype, "batch_norm", [&](auto zero) {
    using T = decltype(zero);
    using C = compute_t<T>;
    const CachedBuffer stats(allocator(), static_cast<std::size_t>(2 * d.c) * sizeof(C), device);
    C* mean = stats.as<C>();
    C* invstd = mean + d.c;
    launch_overlapped<running_stats_kernel<T>>(ctx, channel_blocks(d.c, ctx.sm_count), kBlockSize,
                                               args.running_mean.ptr<const T>(), args.running_var.ptr<const T>(),
                                               args.eps, d.c, mean, invstd);
    const NormalizeOp<T> op{args.input.ptr<const T>(), args.output.ptr<T>(), mean, invstd,
                            args.weight.data != nullptr ? args.weight.ptr<const T>() : nullptr,
                            args.bias.data != nullptr ? args.bias.ptr<const T>() : nullptr};
    with_index(d, SumsPlan{}, [&](auto index_zero) { launch_elementwise<decltype(index_zero)>(ctx, op, d); });
  });
}

void batch_norm_backward(int device, const BatchNormBackwardArgs& args) {
  check_batch_norm_backward_args(args, "CUDA backend");
  const Dims d = dims_of(args.input);
  if (d.c == 0 || d.count() == 0) return;  // core fills the parameters' empty sums
  const bool want_input = args.grad_input.data != nullptr;
  const bool sums_needed = args.grad_weight.data != nullptr || args.grad_bias.data != nullptr ||
                           (args.training && want_input);
  const DeviceGuard guard(device);
  const DeviceContext& ctx = context(device);
  const SumsPlan plan = plan_sums(d, ctx.sm_count);
  dispatch_arithmetic(args.input.dtype, "batch_norm backward", [&](auto zero) {
    using T = decltype(zero);
    using C = compute_t<T>;
    // Per channel, in the compute type: mean and invstd (evaluation: from the running statistics),
    // and the training input gradient's grad_mean and k.
    const CachedBuffer terms(allocator(), static_cast<std::size_t>(4 * d.c) * sizeof(C), device);
    const C* mean = args.training ? args.save_mean.ptr<const C>() : terms.as<C>();
    const C* invstd = args.training ? args.save_invstd.ptr<const C>() : terms.as<C>() + d.c;
    C* grad_mean = args.training && want_input ? terms.as<C>() + 2 * d.c : nullptr;
    C* k = args.training && want_input ? terms.as<C>() + 3 * d.c : nullptr;
    if (!args.training) {
      launch_overlapped<running_stats_kernel<T>>(ctx, channel_blocks(d.c, ctx.sm_count), kBlockSize,
                                                 args.running_mean.ptr<const T>(), args.running_var.ptr<const T>(),
                                                 args.eps, d.c, terms.as<C>(), terms.as<C>() + d.c);
    }
    if (sums_needed) {
      const CachedBuffer partials(allocator(), static_cast<std::size_t>(d.c * plan.per_channel) * sizeof(double2),
                                  device);
      with_index(d, plan, [&](auto index_zero) {
        using Index = decltype(index_zero);
        launch_sums<Index>(ctx, GradSource<T>{args.grad_out.ptr<const T>(), args.input.ptr<const T>(), mean}, d, plan,
                           partials.as<double2>());
      });
      const FinalizeBackwardParams<T> params{
          .partials = partials.as<const double2>(),
          .per_channel = plan.per_channel,
          .channels = d.c,
          .count = d.count(),
          .invstd = invstd,
          .grad_weight = args.grad_weight.data != nullptr ? args.grad_weight.ptr<T>() : nullptr,
          .grad_bias = args.grad_bias.data != nullptr ? args.grad_bias.ptr<T>() : nullptr,
          .grad_mean = grad_mean,
          .k = k,
      };
      launch_overlapped<finalize_backward_kernel<T>>(ctx, channel_blocks(d.c, ctx.sm_count), kBlockSize, params);
    }
    if (!want_input) return;
    const GradInputOp<T> op{args.grad_out.ptr<const T>(),
                            args.input.ptr<const T>(),
                            args.grad_input.ptr<T>(),
                            mean,
                            invstd,
                            args.weight.data != nullptr ? args.weight.ptr<const T>() : nullptr,
                            grad_mean,
                            k};
    with_index(d, plan, [&](auto index_zero) { launch_elementwise<decltype(index_zero)>(ctx, op, d); });
  });
}

}  // namespace ember::kernels::cuda_impl
