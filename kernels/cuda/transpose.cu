// A column-major matrix copied to row-major order, with its row sums from the same pass. gemm.cpp
// uses it to give TF32 weight gradients the operand layout that Hopper's fast kernels need.
//
//   dst (m x k, row-major, contiguous) = src (m x k, element (i, j) at src[i + j * ld]),
//   row_sums[i] = sum over j of src(i, j), accumulated in double like every Sum (reduce.cu).
//
// The copy goes through 32 x 32 tiles in shared memory, so that the reads (down src's columns,
// which are contiguous) and the writes (along dst's rows) are both coalesced. Each block takes a
// strip of 32 rows and a chunk of kChunk columns, reads four tiles before it writes any (more
// reads in flight), and writes its partial row sums; the last block to finish adds them chunk by
// chunk (last_block.cuh). The order of every addition is fixed by the shapes, so the sums are the
// same from run to run.
#include <cuda_runtime.h>

#include <cstdint>

#include "ember/core/error.h"
#include "ember/kernels/cuda/caching_allocator.h"
#include "ember/kernels/cuda/check.h"
#include "ember/kernels/cuda/device.h"
#include "ember/kernels/cuda/last_block.cuh"
#include "ember/kernels/cuda/launch.cuh"
#include "ember/kernels/cuda/launchers.h"
#include "ember/kernels/cuda/overlapped_launch.cuh"
#include "ember/kernels/cuda/runtime.h"

namespace ember::kernels::cuda_impl {

namespace {

constexpr int kTile = 32;                      // a tile is kTile x kTile elements
constexpr int kTileRows = kBlockSize / kTile;  // rows of a tile that the block moves at once
constexpr int kTilesPerStep = 4;               // tiles read before any is written: more reads in flight
constexpr std::int64_t kChunk = 256;           // columns of src per block: 8 tiles, 2 steps

template <typename T> struct TransposeParams {
  T* dst;
  const T* src;
  std::int64_t m, k, ld;
  std::int64_t strips;  // ceil(m / kTile); block b takes strip b % strips, chunk b / strips
  double* partials;     // [chunks, m] when row sums are wanted, else null
  T* row_sums;
  unsigned* ticket;
};

template <typename T> __global__ void __launch_bounds__(kBlockSize) transpose_kernel(TransposeParams<T> p) {
  overlap_prologue();
  __shared__ T tile[kTilesPerStep][kTile][kTile + 1];  // +1: the column reads do not hit one bank
  const int tx = static_cast<int>(threadIdx.x) % kTile, ty = static_cast<int>(threadIdx.x) / kTile;
  const std::int64_t strip = blockIdx.x % p.strips, chunk = blockIdx.x / p.strips;
  const std::int64_t i0 = strip * kTile, j_begin = chunk * kChunk;
  const std::int64_t j_end = j_begin + kChunk < p.k ? j_begin + kChunk : p.k;
  constexpr int kLoads = kTile / kTileRows;
  double sum = 0;  // of row i0 + tx, over the columns this thread reads
  for (std::int64_t j0 = j_begin; j0 < j_end; j0 += kTile * kTilesPerStep) {
    // Every read of the step is issued before the first shared-memory store (which the compiler
    // may not move above a global read it cannot prove disjoint).
    T v[kTilesPerStep][kLoads];
#pragma unroll
    for (int t = 0; t < kTilesPerStep; ++t) {
#pragma unroll
      for (int r = 0; r < kLoads; ++r) {
        const std::int64_t i = i0 + tx, j = j0 + t * kTile + ty + r * kTileRows;
        v[t][r] = i < p.m && j < j_end ? p.src[i + j * p.ld] : T(0);
      }
    }
#pragma unroll
    for (int t = 0; t < kTilesPerStep; ++t) {
#pragma unroll
      for (int r = 0; r < kLoads; ++r) {
        tile[t][ty + r * kTileRows][tx] = v[t][r];
        sum += static_cast<double>(v[t][r]);
      }
    }
    __syncthreads();
#pragma unroll
    for (int t = 0; t < kTilesPerStep; ++t) {
#pragma unroll
      for (int r = 0; r < kLoads; ++r) {
        const std::int64_t i = i0 + ty + r * kTileRows, j = j0 + t * kTile + tx;
        if (i < p.m && j < j_end) p.dst[i * p.k + j] = tile[t][tx][ty + r * kTileRows];
      }
    }
    __syncthreads();
  }
  if (p.row_sums == nullptr) return;  // the same in every block: no block waits for a ticket

  __shared__ double row_parts[kTileRows][kTile];
  row_parts[ty][tx] = sum;
  __syncthreads();
  if (ty == 0 && i0 + tx < p.m) {
    double total = 0;
#pragma unroll
    for (int r = 0; r < kTileRows; ++r) total += row_parts[r][tx];
    p.partials[chunk * p.m + i0 + tx] = total;
  }
  if (!is_last_block(p.ticket)) return;
  const std::int64_t chunks = (p.k + kChunk - 1) / kChunk;
  for (std::int64_t i = threadIdx.x; i < p.m; i += blockDim.x) {
    double total = 0;
    for (std::int64_t c = 0; c < chunks; ++c) total += __ldcg(&p.partials[c * p.m + i]);
    p.row_sums[i] = static_cast<T>(total);
  }
}

}  // namespace

void transpose_to_rows(int device, const TensorRef& dst, const TensorRef& src, const TensorRef& row_sums) {
  EMBER_CHECK(src.ndim() == 2 && dst.ndim() == 2 && src.sizes == dst.sizes && src.dtype == dst.dtype &&
                  src.dtype == DType::Float32,
              "ember (CUDA backend) transpose_to_rows: expects two float32 matrices of equal sizes, got ",
              src.sizes.str(), " and ", dst.sizes.str());
  const std::int64_t m = src.sizes[0], k = src.sizes[1];
  EMBER_CHECK(dst.is_contiguous() && (src.strides[0] == 1 || m == 1) && (src.strides[1] >= m || k == 1),
              "ember (CUDA backend) transpose_to_rows: src must be column-major (strides ", src.strides.str(),
              ") and dst contiguous (strides ", dst.strides.str(), ")");
  EMBER_CHECK(row_sums.data == nullptr || (row_sums.numel() == m && row_sums.dtype == src.dtype),
              "ember (CUDA backend) transpose_to_rows: row_sums needs ", m, " elements of the matrices' dtype");
  if (m == 0) return;
  if (k == 0) {
    if (row_sums.data != nullptr) fill(device, row_sums, 0.0);
    return;
  }
  const std::int64_t strips = (m + kTile - 1) / kTile, chunks = (k + kChunk - 1) / kChunk;
  EMBER_CHECK(strips * chunks <= std::int64_t{1} << 31, "ember (CUDA backend) transpose_to_rows: ", m, " x ", k,
              " is too large for one grid");
  const DeviceGuard guard(device);
  DeviceContext& ctx = context(device);
  // Stream order makes it safe to hand the partials back right after the launch (caching_allocator.h).
  const CachedBuffer partials = row_sums.data != nullptr
                                    ? CachedBuffer(allocator(), static_cast<std::size_t>(chunks * m) * sizeof(double), device)
                                    : CachedBuffer();
  const TransposeParams<float> params{
      .dst = dst.ptr<float>(),
      .src = src.ptr<const float>(),
      .m = m,
      .k = k,
      .ld = k == 1 ? m : src.strides[1],
      .strips = strips,
      .partials = partials.as<double>(),
      .row_sums = row_sums.ptr<float>(),
      .ticket = ctx.ticket(Ticket::kTranspose),
  };
  launch_overlapped<transpose_kernel<float>>(ctx, static_cast<unsigned>(strips * chunks), kBlockSize, params);
}

}  // namespace ember::kernels::cuda_impl
