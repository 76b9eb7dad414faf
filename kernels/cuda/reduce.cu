// Reductions: Sum and Max over any set of dims (keepdim layout: out has in's ndim, size 1 on the
// reduced dims).
//
// Plan: the dims are split into kept dims (one output each combination) and reduced dims, each set
// sorted by input stride (innermost last) and merged where contiguous, so that e.g. summing the
// last dim of a contiguous [B, N] is "B outputs, each a contiguous run of N". Then:
//  - rows kernel, when the innermost dim in memory is reduced: a group of G threads per output
//    (G = 256: a block, 32: a warp, 1: a thread, by run length) strides over the run, so
//    neighbouring threads read neighbouring elements, then combines with warp shuffles;
//  - columns kernel, when the innermost dim in memory is kept (e.g. the bias gradient, summing dim
//    0 of [B, N]): 32 neighbouring outputs per block side by side, 8 threads down each, combined
//    through shared memory.
// When there are too few outputs to fill the GPU (a full reduction has one), each output's run is
// split over several blocks that write partial results, and a second launch combines them. No
// atomics: results are deterministic.
//
// Accuracy: Sum accumulates in double for every dtype (float32 results are then within rounding of
// the exact sum); Max is exact. Max propagates NaN; a reduced dim of size 0 gives 0 for Sum and an
// error for Max, as in PyTorch.
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "ember/core/error.h"
#include "ember/kernels/cuda/block_reduce.cuh"
#include "ember/kernels/cuda/check.h"
#include "ember/kernels/cuda/device.h"
#include "ember/kernels/cuda/exact_math.cuh"
#include "ember/kernels/cuda/indexing.cuh"
#include "ember/kernels/cuda/launch.cuh"
#include "ember/kernels/cuda/launchers.h"
#include "ember/kernels/cuda/overlapped_launch.cuh"
#include "ember/kernels/cuda/runtime.h"

namespace ember::kernels::cuda_impl {

namespace {

// --- Where the values come from --------------------------------------------------------------
// Element r of the run that starts at `base`: data[base + offset of r over the reduced dims].
template <typename Acc, typename T, typename Index> struct StridedSource {
  const T* data;
  OffsetCalc<1, Index> reduced;
  __device__ __forceinline__ Acc operator()(Index base, Index r) const {
    Index offset[1];
    reduced.get(r, offset);
    return static_cast<Acc>(data[base + offset[0]]);
  }
};

// --- Kernels ---------------------------------------------------------------------------------
// Output o reduces elements [split * split_len, (split + 1) * split_len) of its run, split being
// blockIdx.y. `outputs` maps o to (base offset in the source, offset in out). kToPartials: write
// the partial result to out[o * splits + split] instead (out is then an Acc buffer).
template <int G, bool kToPartials, typename Out, typename Op, typename Source, typename Index>
__global__ void __launch_bounds__(kBlockSize)
    reduce_rows_kernel(Source source, OffsetCalc<2, Index> outputs, Out* out, Index n_out, Index len,
                       Index split_len, Op op) {
  overlap_prologue();
  using Acc = typename Op::Type;
  constexpr int kOutputsPerBlock = kBlockSize / G;
  const int lane = threadIdx.x % G;
  const int slot = threadIdx.x / G;
  const Index r_begin = static_cast<Index>(blockIdx.y) * split_len;
  const Index r_end = len - r_begin < split_len ? len : r_begin + split_len;
  // The loop bound is the same for the whole block, so group_reduce's barriers are safe.
  for (Index first = static_cast<Index>(blockIdx.x) * kOutputsPerBlock; first < n_out;
       first += static_cast<Index>(gridDim.x) * kOutputsPerBlock) {
    const Index o = first + slot;
    Index offsets[2] = {0, 0};
    Acc acc = op.identity();
    if (o < n_out) {
      outputs.get(o, offsets);
      Index r = r_begin + lane;
      // Four independent loads in flight per thread, then the remainder one at a time.
      for (; r + 3 * G < r_end; r += 4 * G) {
        const Acc v0 = source(offsets[0], r), v1 = source(offsets[0], r + G);
        const Acc v2 = source(offsets[0], r + 2 * G), v3 = source(offsets[0], r + 3 * G);
        acc = op(acc, op(op(v0, v1), op(v2, v3)));
      }
      for (; r < r_end; r += G) acc = op(acc, source(offsets[0], r));
    }
    acc = group_reduce<G>(acc, op);
    if (o < n_out && lane == 0) {
      if constexpr (kToPartials) out[o * static_cast<Index>(gridDim.y) + static_cast<Index>(blockIdx.y)] = acc;
      else out[offsets[1]] = static_cast<Out>(acc);
    }
  }
}

constexpr int kColumnsX = 32;                      // outputs per block
constexpr int kColumnsY = kBlockSize / kColumnsX;  // threads down each output's run

template <bool kToPartials, typename Out, typename Op, typename T, typename Index>
__global__ void __launch_bounds__(kBlockSize)
    reduce_columns_kernel(const T* in, OffsetCalc<2, Index> outputs, OffsetCalc<1, Index> reduced,
                          Out* out, Index n_out, Index len, Index split_len, Op op) {
  overlap_prologue();
  using Acc = typename Op::Type;
  __shared__ Acc partial[kColumnsY][kColumnsX + 1];  // +1: no bank conflicts reading down
  const int x = threadIdx.x % kColumnsX, y = threadIdx.x / kColumnsX;
  const Index o = static_cast<Index>(blockIdx.x) * kColumnsX + x;
  const Index r_begin = static_cast<Index>(blockIdx.y) * split_len;
  const Index r_end = len - r_begin < split_len ? len : r_begin + split_len;
  Index offsets[2] = {0, 0};
  Acc acc = op.identity();
  if (o < n_out) {
    outputs.get(o, offsets);
#pragma unroll 4
    for (Index r = r_begin + y; r < r_end; r += kColumnsY) {
      Index offset[1];
      reduced.get(r, offset);
      acc = op(acc, static_cast<Acc>(in[offsets[0] + offset[0]]));
    }
  }
  partial[y][x] = acc;
  __syncthreads();
  if (y == 0 && o < n_out) {
#pragma unroll
    for (int j = 1; j < kColumnsY; ++j) acc = op(acc, partial[j][x]);
    if constexpr (kToPartials) out[o * static_cast<Index>(gridDim.y) + static_cast<Index>(blockIdx.y)] = acc;
    else out[offsets[1]] = static_cast<Out>(acc);
  }
}

// --- Planning --------------------------------------------------------------------------------
struct Plan {
  Layout<2> outputs;  // kept dims: (input stride, output stride)
  Layout<1> reduced;  // reduced dims: input stride
  std::int64_t n_out = 1, len = 1;
  bool columns = false;
};

struct DimInfo {
  std::int64_t size, in_stride, out_stride;
};

Plan make_plan(const TensorRef& out, const TensorRef& in) {
  DimInfo kept[kMaxDims], reduced[kMaxDims];
  int n_kept = 0, n_reduced = 0;
  Plan plan;
  for (int d = 0; d < in.ndim(); ++d) {
    const std::int64_t size = in.sizes[d];
    EMBER_CHECK(out.sizes[d] == size || out.sizes[d] == 1, "ember (CUDA backend) reduce: output sizes ",
                out.sizes.str(), " do not match input sizes ", in.sizes.str(), " in keepdim layout");
    if (out.sizes[d] == size) {
      kept[n_kept++] = {size, in.strides[d], out.strides[d]};
      plan.n_out *= size;
    } else {
      reduced[n_reduced++] = {size, in.strides[d], 0};
      plan.len *= size;
    }
  }
  // Innermost in memory last: the order the kernels walk runs and outputs in.
  const auto outer_first = [](const DimInfo& a, const DimInfo& b) {
    return std::llabs(a.in_stride) > std::llabs(b.in_stride);
  };
  std::stable_sort(kept, kept + n_kept, outer_first);
  std::stable_sort(reduced, reduced + n_reduced, outer_first);
  for (int i = 0; i < n_kept; ++i) plan.outputs.push_inner(kept[i].size, {kept[i].in_stride, kept[i].out_stride});
  for (int i = 0; i < n_reduced; ++i) plan.reduced.push_inner(reduced[i].size, {reduced[i].in_stride});
  if (plan.outputs.ndim > 0 && plan.reduced.ndim > 0) {
    const std::int64_t kept_inner = std::llabs(plan.outputs.strides[0][plan.outputs.ndim - 1]);
    const std::int64_t reduced_inner = std::llabs(plan.reduced.strides[0][plan.reduced.ndim - 1]);
    plan.columns = kept_inner < reduced_inner;
  }
  return plan;
}

// Threads per output in the rows kernel, by run length.
int row_group(std::int64_t len) { return len >= 1024 ? kBlockSize : len >= 32 ? 32 : 1; }

struct Split {
  std::int64_t count = 1;
  std::int64_t len = 0;  // elements of a run per split
};

Split make_split(std::int64_t len, std::int64_t wanted) {
  wanted = std::clamp<std::int64_t>(wanted, 1, 65535);  // gridDim.y limit
  Split split;
  split.len = (len + wanted - 1) / wanted;
  split.count = (len + split.len - 1) / split.len;  // no empty splits
  return split;
}

// Enough blocks to fill the GPU: 8 resident blocks of 256 threads per SM.
std::int64_t target_blocks(int sm_count) { return std::int64_t{8} * std::max(sm_count, 1); }

Split choose_row_split(int group, std::int64_t n_out, std::int64_t len, int sm_count) {
  constexpr std::int64_t kMinPerBlock = 4096;  // elements a split should at least cover
  if (group != kBlockSize || len < 2 * kMinPerBlock || n_out >= target_blocks(sm_count)) return make_split(len, 1);
  const std::int64_t by_gpu = (target_blocks(sm_count) + n_out - 1) / n_out;
  return make_split(len, std::min(by_gpu, len / kMinPerBlock));
}

Split choose_column_split(std::int64_t n_out, std::int64_t len, int sm_count) {
  constexpr std::int64_t kMinPerBlock = 64;  // rows a split should at least cover (8 per thread)
  const std::int64_t blocks = (n_out + kColumnsX - 1) / kColumnsX;
  if (len < 2 * kMinPerBlock || blocks >= target_blocks(sm_count)) return make_split(len, 1);
  const std::int64_t by_gpu = (target_blocks(sm_count) + blocks - 1) / blocks;
  return make_split(len, std::min(by_gpu, len / kMinPerBlock));
}

unsigned row_blocks(std::int64_t n_out, int group, int sm_count) {
  const std::int64_t outputs_per_block = kBlockSize / group;
  const std::int64_t wanted = (n_out + outputs_per_block - 1) / outputs_per_block;
  // A grid-stride loop covers the rest; more blocks than this only adds scheduling.
  return static_cast<unsigned>(std::min<std::int64_t>(wanted, std::int64_t{64} * std::max(sm_count, 1)));
}

template <bool kToPartials, typename Out, typename Op, typename Source, typename Index>
void launch_rows_kernel(int group, dim3 grid, const DeviceContext& ctx, const Source& source,
                        const OffsetCalc<2, Index>& outputs, Out* out, Index n_out, Index len,
                        Index split_len, const Op& op) {
  const auto launch = [&]<int G>(std::integral_constant<int, G>) {
    launch_overlapped<reduce_rows_kernel<G, kToPartials, Out, Op, Source, Index>>(ctx, grid, kBlockSize, source, outputs,
                                                                                   out, n_out, len, split_len, op);
  };
  switch (group) {
    case 1: launch(std::integral_constant<int, 1>{}); break;
    case 32: launch(std::integral_constant<int, 32>{}); break;
    default: launch(std::integral_constant<int, kBlockSize>{}); break;
  }
}

// Second pass: out[o] = combine of partials[o * splits + s] over s.
template <typename T, typename Op, typename Index>
void combine_partials(const DeviceContext& ctx, const typename Op::Type* partials, const Layout<2>& outputs,
                      std::int64_t n_out, std::int64_t splits, T* out, const Op& op) {
  using Acc = typename Op::Type;
  // Same outputs, but each output's run now starts at o * splits in the partials buffer.
  Layout<2> partial_outputs = outputs;
  std::int64_t stride = splits;
  for (int d = partial_outputs.ndim - 1; d >= 0; --d) {
    partial_outputs.strides[0][d] = stride;
    stride *= partial_outputs.sizes[d];
  }
  Layout<1> run;
  run.push_inner(splits, {1});
  const StridedSource<Acc, Acc, Index> source{partials, OffsetCalc<1, Index>(run)};
  const int group = row_group(splits);
  const dim3 grid(row_blocks(n_out, group, ctx.sm_count), 1);
  launch_rows_kernel<false>(group, grid, ctx, source, OffsetCalc<2, Index>(partial_outputs), out,
                            static_cast<Index>(n_out), static_cast<Index>(splits), static_cast<Index>(splits), op);
}

// Reduces runs read through `source` with the rows kernel, splitting long runs when the outputs
// alone cannot fill the GPU.
template <typename Index, typename T, typename Op, typename Source>
void reduce_rows(const DeviceContext& ctx, const Source& source, const Layout<2>& outputs, std::int64_t n_out,
                 std::int64_t len, int group, const Split& split, T* out, const Op& op) {
  using Acc = typename Op::Type;
  const OffsetCalc<2, Index> output_calc(outputs);
  const dim3 grid(row_blocks(n_out, group, ctx.sm_count), static_cast<unsigned>(split.count));
  if (split.count == 1) {
    launch_rows_kernel<false>(group, grid, ctx, source, output_calc, out, static_cast<Index>(n_out),
                              static_cast<Index>(len), static_cast<Index>(len), op);
    return;
  }
  // Freed right after queueing the second pass: stream order keeps the memory valid until then.
  const CachedBuffer partials(allocator(), static_cast<std::size_t>(n_out * split.count) * sizeof(Acc), ctx.device);
  launch_rows_kernel<true>(group, grid, ctx, source, output_calc, partials.as<Acc>(),
                           static_cast<Index>(n_out), static_cast<Index>(len), static_cast<Index>(split.len), op);
  combine_partials<T, Op, Index>(ctx, partials.as<Acc>(), outputs, n_out, split.count, out, op);
}

template <typename Index, typename T, typename Op>
void reduce_columns(const DeviceContext& ctx, const T* in, const Plan& plan, const Split& split, T* out, const Op& op) {
  using Acc = typename Op::Type;
  const OffsetCalc<2, Index> outputs(plan.outputs);
  const OffsetCalc<1, Index> reduced(plan.reduced);
  const std::int64_t blocks = (plan.n_out + kColumnsX - 1) / kColumnsX;
  EMBER_CHECK(blocks <= std::numeric_limits<std::int32_t>::max(), "ember (CUDA backend) reduce: too many outputs (",
              plan.n_out, ")");
  const dim3 grid(static_cast<unsigned>(blocks), static_cast<unsigned>(split.count));
  const auto n_out = static_cast<Index>(plan.n_out), len = static_cast<Index>(plan.len);
  if (split.count == 1) {
    launch_overlapped<reduce_columns_kernel<false, T, Op, T, Index>>(ctx, grid, kBlockSize, in, outputs, reduced, out,
                                                                      n_out, len, len, op);
    return;
  }
  const CachedBuffer partials(allocator(), static_cast<std::size_t>(plan.n_out * split.count) * sizeof(Acc), ctx.device);
  launch_overlapped<reduce_columns_kernel<true, Acc, Op, T, Index>>(
      ctx, grid, kBlockSize, in, outputs, reduced, partials.as<Acc>(), n_out, len, static_cast<Index>(split.len), op);
  combine_partials<T, Op, Index>(ctx, partials.as<Acc>(), plan.outputs, plan.n_out, split.count, out, op);
}

template <typename T, typename Op> void run_reduce(const DeviceContext& ctx, const TensorRef& out, const TensorRef& in, const Plan& plan, const Op& op) {
  const int group = row_group(plan.len);
  const Split split = plan.columns ? choose_column_split(plan.n_out, plan.len, ctx.sm_count)
                                   : choose_row_split(group, plan.n_out, plan.len, ctx.sm_count);
  const bool small = fits_32bit(plan.outputs) && fits_32bit(plan.reduced) &&
                     plan.outputs.max_offset(0) + plan.reduced.max_offset(0) < kMax32 &&
                     plan.n_out * split.count < kMax32;
  const auto run = [&](auto index_zero) {
    using Index = decltype(index_zero);
    if (plan.columns) {
      reduce_columns<Index>(ctx, in.ptr<const T>(), plan, split, out.ptr<T>(), op);
    } else {
      using Acc = typename Op::Type;
      const StridedSource<Acc, T, Index> source{in.ptr<const T>(), OffsetCalc<1, Index>(plan.reduced)};
      reduce_rows<Index>(ctx, source, plan.outputs, plan.n_out, plan.len, group, split, out.ptr<T>(), op);
    }
  };
  if (small) run(std::int32_t{0});
  else run(std::int64_t{0});
}

}  // namespace

void reduce(int device, ReduceKind op, const TensorRef& out, const TensorRef& in) {
  EMBER_CHECK(out.ndim() == in.ndim(), "ember (CUDA backend) reduce: output has ", out.ndim(),
              " dims, input ", in.ndim(), " (keepdim layout expected)");
  EMBER_CHECK(out.dtype == in.dtype, "ember (CUDA backend) reduce: output dtype ", dtype_name(out.dtype),
              " differs from input dtype ", dtype_name(in.dtype));
  const Plan plan = make_plan(out, in);
  if (plan.len == 0) {
    EMBER_CHECK(op != ReduceKind::Max, "ember: max(): cannot reduce over a dimension of size 0 (input sizes ",
                in.sizes.str(), ")");
    fill(device, out, 0.0);  // the empty sum
    return;
  }
  if (plan.n_out == 0) return;
  if (plan.reduced.ndim == 0) {  // nothing to combine (reduced dims all have size 1): a copy
    copy(device, out, in);
    return;
  }
  const DeviceGuard guard(device);
  const DeviceContext& ctx = context(device);
  dispatch_arithmetic(in.dtype, "reduce", [&](auto zero) {
    using T = decltype(zero);
    if (op == ReduceKind::Sum) run_reduce<T>(ctx, out, in, plan, SumOp<double>{});
    else run_reduce<T>(ctx, out, in, plan, MaxOp<compute_t<T>>{});  // 16-bit floats compare as float
  });
}

}  // namespace ember::kernels::cuda_impl
