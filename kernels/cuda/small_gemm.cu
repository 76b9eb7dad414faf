// Matrix products too small for cuBLAS to pay off, in one launch with the linear epilogues.
//
// Why: on an H200, cuBLASLt ran SimpleNet's Linear(10, 2) at batch 100 forward as a split-K GEMM
// plus its reduction (2 kernels, 7.7 us of GPU time), and the weight gradient with the bias
// gradient as a GEMM, a reduction and a separate bias-gradient kernel (3 kernels, 10.6 us)
// (Nsight Compute, docs/benchmarks.md). Here each is one kernel: a warp per element of C, plus,
// for the row_sums epilogue, a warp per row of A that sums it. Work is capped (kMaxWork, kMaxK,
// kMaxOutputs) so that a lane's loop stays short and the grid one wave; the rest goes to cuBLAS.
//
// Arithmetic: products accumulate in T with FMA, as cuBLAS's SIMT kernels do; with allow_tf32
// this path still computes in full float32. The epilogue is alpha * acc (+ beta * C) (+ bias),
// then the relu when asked. Row sums accumulate in double, like every Sum (reduce.cu).
#include <cuda_runtime.h>

#include <cstdint>

#include "ember/core/dtype.h"
#include "ember/kernels/cuda/block_reduce.cuh"
#include "ember/kernels/cuda/check.h"
#include "ember/kernels/cuda/device.h"
#include "ember/kernels/elementwise_math.h"
#include "ember/kernels/cuda/launch.cuh"
#include "ember/kernels/cuda/launchers.h"
#include "ember/kernels/cuda/overlapped_launch.cuh"
#include "ember/kernels/cuda/runtime.h"

namespace ember::kernels::cuda_impl {

namespace {

constexpr std::int64_t kMaxWork = std::int64_t{1} << 18;    // batch * m * n * k multiply-adds
constexpr std::int64_t kMaxOutputs = std::int64_t{1} << 13;  // warps: one wave of blocks on an H100
constexpr std::int64_t kMaxK = 1024;                         // 32 products per lane

struct MatrixStrides {
  std::int64_t batch, row, col;
};

template <typename T> struct SmallGemmParams {
  const T* a;
  const T* b;
  T* c;
  const T* bias;  // length n, or null
  T* row_sums;    // length m, or null
  MatrixStrides sa, sb, sc;
  int m, n, k;
  T alpha, beta;
  bool relu;
};

// One warp per output: lane l takes products l, l + 32, ... of the k, so a k of 100 is four
// steps deep instead of a hundred dependent loads and FMAs, and the lanes combine by shuffles in
// a fixed order (deterministic).
constexpr int kWarpsPerBlock = kBlockSize / 32;

template <typename T> __global__ void __launch_bounds__(kBlockSize) small_gemm_kernel(SmallGemmParams<T> p) {
  overlap_prologue();
  // Columns 0..n-1 of row i are C's elements; column n, when row sums are asked, is A's row sum.
  const int columns = p.n + (p.row_sums != nullptr ? 1 : 0);
  const std::int64_t output = static_cast<std::int64_t>(blockIdx.x) * kWarpsPerBlock + threadIdx.x / 32;
  if (output >= static_cast<std::int64_t>(p.m) * columns) return;  // a whole warp leaves together
  const int lane = static_cast<int>(threadIdx.x % 32);
  const int i = static_cast<int>(output / columns), j = static_cast<int>(output % columns);
  const std::int64_t batch = blockIdx.y;
  const T* a_row = p.a + batch * p.sa.batch + i * p.sa.row;
  if (j == p.n) {
    double sum = 0.0;
#pragma unroll 4
    for (int kk = lane; kk < p.k; kk += 32) sum += static_cast<double>(a_row[kk * p.sa.col]);
    sum = group_reduce<32>(sum, SumOp<double>{});
    if (lane == 0) p.row_sums[i] = static_cast<T>(sum);
    return;
  }
  const T* b_col = p.b + batch * p.sb.batch + j * p.sb.col;
  T acc = 0;
  // Unrolled so that a lane's loads are all in flight at once, not one round trip per product.
#pragma unroll 4
  for (int kk = lane; kk < p.k; kk += 32) acc = fma(a_row[kk * p.sa.col], b_col[kk * p.sb.row], acc);
  acc = group_reduce<32>(acc, SumOp<T>{});
  if (lane != 0) return;
  T* out = p.c + batch * p.sc.batch + i * p.sc.row + j * p.sc.col;
  T value = p.alpha * acc;
  if (p.beta != T(0)) value += p.beta * *out;  // C is not read when beta is 0: it may hold NaN
  if (p.bias != nullptr) value += p.bias[j];
  if (p.relu) value = math::Relu{}(value);  // the Relu op's own function: NaN stays
  *out = value;
}

MatrixStrides strides_of(const TensorRef& t, std::int64_t batch) {
  return {batch == 1 ? 0 : t.strides[0], t.strides[1], t.strides[2]};
}

}  // namespace

bool small_gemm(int device, const GemmArgs& args) {
  const TensorRef &a = args.a, &b = args.b, &c = args.c;
  const std::int64_t batch = c.sizes[0], m = c.sizes[1], n = c.sizes[2], k = a.sizes[2];
  const bool row_sums = args.row_sums.data != nullptr;
  const std::int64_t outputs = m * (n + (row_sums ? 1 : 0));
  if (k > kMaxK || batch * m * n * k > kMaxWork || batch * outputs > kMaxOutputs) return false;
  // bfloat16 and float16 go to cuBLAS, which accumulates them in float32; this kernel sums in T.
  if (c.dtype != DType::Float32 && c.dtype != DType::Float64) return false;
  const dim3 grid(static_cast<unsigned>((outputs + kWarpsPerBlock - 1) / kWarpsPerBlock), static_cast<unsigned>(batch));
  const DeviceGuard guard(device);
  const DeviceContext& ctx = context(device);
  dispatch_float32_64(c.dtype, "matmul", [&](auto zero) {
    using T = decltype(zero);
    const SmallGemmParams<T> params{
        .a = a.ptr<const T>(),
        .b = b.ptr<const T>(),
        .c = c.ptr<T>(),
        .bias = args.bias.ptr<const T>(),
        .row_sums = args.row_sums.ptr<T>(),
        .sa = strides_of(a, batch),
        .sb = strides_of(b, batch),
        .sc = strides_of(c, batch),
        .m = static_cast<int>(m),
        .n = static_cast<int>(n),
        .k = static_cast<int>(k),
        .alpha = static_cast<T>(args.alpha),
        .beta = static_cast<T>(args.beta),
        .relu = args.relu,
    };
    launch_overlapped<small_gemm_kernel<T>>(ctx, grid, kBlockSize, params);
  });
  return true;
}

}  // namespace ember::kernels::cuda_impl
