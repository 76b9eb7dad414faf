// Batched matrix products C[i] = alpha * A[i] @ B[i] + beta * C[i] through cuBLAS, except tiny
// ones (small_gemm.cu).
//
// Row-major trick: cuBLAS is column-major, and a row-major matrix read as column-major is its
// transpose. So instead of C = A B we ask cuBLAS for C^T = B^T A^T: with the operands swapped,
// every buffer is passed as it lies in memory and C comes out row-major.
//
// Transposed views cost nothing: an operand whose column stride is 1 is row-major (op N, leading
// dimension = its row stride); one whose row stride is 1 is a transposed view (op T, leading
// dimension = its column stride). A batch stride of 0 shares one matrix across the batch.
//
// Compute types: float32 uses CUBLAS_COMPUTE_32F, or CUBLAS_COMPUTE_32F_FAST_TF32 (tensor cores,
// ~1e-3 relative error) when allow_tf32; float64 uses CUBLAS_COMPUTE_64F.
#include <cublas_v2.h>

#include <algorithm>
#include <climits>
#include <cstdint>

#include "ember/core/error.h"
#include "ember/kernels/cuda/check.h"
#include "ember/kernels/cuda/device.h"
#include "ember/kernels/cuda/gemm_lt.h"
#include "ember/kernels/cuda/launchers.h"
#include "ember/kernels/cuda/runtime.h"

namespace ember::kernels::cuda_impl {

namespace {

// A row-major [rows, cols] operand as cuBLAS sees its transpose.
struct BlasOperand {
  cublasOperation_t op;
  std::int64_t ld;
};

// Strides of size-1 dims are arbitrary, so each layout is accepted when the dim whose stride
// should be 1 has stride 1 or size 1, and the leading dimension is made valid when it cannot
// matter (a single row or column).
BlasOperand blas_operand(const TensorRef& m, const char* name) {
  const std::int64_t rows = m.sizes[1], cols = m.sizes[2];
  const std::int64_t row_stride = m.strides[1], col_stride = m.strides[2];
  if (col_stride == 1 || cols == 1) {  // row-major: memory holds M^T column-major, ld >= cols
    const std::int64_t ld = rows == 1 ? std::max<std::int64_t>(cols, 1) : row_stride;
    if (ld >= std::max<std::int64_t>(cols, 1)) return {CUBLAS_OP_N, ld};
  }
  if (row_stride == 1 || rows == 1) {  // column-major: memory holds M column-major, ld >= rows
    const std::int64_t ld = cols == 1 ? std::max<std::int64_t>(rows, 1) : col_stride;
    if (ld >= std::max<std::int64_t>(rows, 1)) return {CUBLAS_OP_T, ld};
  }
  EMBER_FAIL("ember (CUDA backend) gemm: operand ", name, " with sizes ", m.sizes.str(), " and strides ",
             m.strides.str(), " is neither row- nor column-major (one of its last two strides must be 1)");
}

// Hopper's TF32 tensor-core instructions (wgmma) read TF32 operands K-major only. The weight
// gradient of linear, dW = g^T @ x, has A = g^T as a transposed view, and cuBLAS's kernel for that
// layout (op N with op T) took 529 us for 4096 x 4096 x 4096 against 328 us for row-major
// operands, plus 28 us for cuBLASLt's separate bias-gradient pass over g (H100, Nsight Compute,
// 2026-11-28). Copying A row-major first costs one read and one write of A and yields the bias
// gradient on the way. That pays when each element of A meets many columns of B (n): in the
// MLP's TF32 step it saved 168 us at n = 4096 and broke even at n = 1024 (59 us of copy against
// 57 us saved), so the path starts at n = 2048.
constexpr std::int64_t kStagedMinN = 2048;
constexpr std::int64_t kStagedMinSide = 128;

bool stage_a_row_major(int device, const GemmArgs& args, const BlasOperand& first, const BlasOperand& second) {
  const TensorRef &a = args.a, &c = args.c;
  const std::int64_t batch = c.sizes[0], m = c.sizes[1], n = c.sizes[2], k = a.sizes[2];
  if (!args.allow_tf32 || c.dtype != DType::Float32 || batch != 1 || args.bias.data != nullptr || args.relu) return false;
  if (first.op != CUBLAS_OP_N || second.op != CUBLAS_OP_T) return false;
  if (n < kStagedMinN || m < kStagedMinSide || k < kStagedMinSide || context(device).major < 9) return false;
  const CachedBuffer staged(allocator(), static_cast<std::size_t>(m * k) * sizeof(float), device);
  const TensorRef columns{a.data, a.dtype, Shape{m, k}, Strides{1, second.ld}};
  const TensorRef rows{staged.get(), a.dtype, Shape{m, k}, Strides{k, 1}};
  transpose_to_rows(device, rows, columns, args.row_sums);
  GemmArgs staged_args = args;
  staged_args.a = TensorRef{staged.get(), a.dtype, Shape{1, m, k}, Strides{m * k, k, 1}};
  staged_args.row_sums = {};
  gemm(device, staged_args);  // the buffer goes back after the launch: stream order keeps it alive
  return true;
}

int to_int(std::int64_t value, const char* what) {
  EMBER_CHECK(value >= 0 && value <= INT_MAX, "ember (CUDA backend) gemm: ", what, " = ", value,
              " exceeds cuBLAS's 32-bit limit");
  return static_cast<int>(value);
}

}  // namespace

void gemm(int device, const GemmArgs& args) {
  const TensorRef &a = args.a, &b = args.b, &c = args.c;
  EMBER_CHECK(a.ndim() == 3 && b.ndim() == 3 && c.ndim() == 3, "ember (CUDA backend) gemm: operands must be 3-D, got ",
              a.sizes.str(), ", ", b.sizes.str(), ", ", c.sizes.str());
  EMBER_CHECK(a.dtype == b.dtype && a.dtype == c.dtype, "ember (CUDA backend) gemm: operand dtypes differ");
  const std::int64_t batch = c.sizes[0], m = c.sizes[1], n = c.sizes[2], k = a.sizes[2];
  EMBER_CHECK(a.sizes[0] == batch && b.sizes[0] == batch && a.sizes[1] == m && b.sizes[1] == k && b.sizes[2] == n,
              "ember (CUDA backend) gemm: sizes ", a.sizes.str(), " @ ", b.sizes.str(), " -> ", c.sizes.str(),
              " do not match");
  check_epilogue_args(args, "CUDA gemm");
  const bool bias = args.bias.data != nullptr, row_sums = args.row_sums.data != nullptr, relu = args.relu;
  if (row_sums && (m == 0 || k == 0)) fill(device, args.row_sums, 0.0);  // an empty sum
  if (batch == 0 || m == 0 || n == 0) {
    if (row_sums && m > 0 && k > 0) reduce(device, ReduceKind::Sum, row_sums_as_reduce_output(args), a);
    return;
  }
  if (k == 0) {  // an empty sum: C = beta * C (or the bias), and C is not read when beta is 0
    if (bias) copy(device, c, bias_as_rows(args));
    else if (args.beta == 0.0) fill(device, c, 0.0);
    else if (args.beta != 1.0) binary_scalar(device, BinaryOp::Mul, c, c, args.beta, false);
    if (relu) unary(device, UnaryOp::Relu, c, c);
    return;
  }
  // Tiny products, epilogues included, take one kernel of ours instead of cuBLAS's several.
  if (small_gemm(device, args)) return;

  // C^T (n x m) = B^T (n x k) @ A^T (k x m), all column-major in cuBLAS's view.
  const BlasOperand first = blas_operand(b, "B"), second = blas_operand(a, "A");
  EMBER_CHECK(c.strides[2] == 1 || n == 1, "ember (CUDA backend) gemm: C must be contiguous per matrix, has strides ",
              c.strides.str());
  const std::int64_t ldc = m == 1 ? n : c.strides[1];
  EMBER_CHECK(ldc >= n, "ember (CUDA backend) gemm: C's row stride ", c.strides[1], " is smaller than its ", n,
              " columns");
  // Batch strides only matter with more than one matrix.
  const auto batch_stride = [batch](const TensorRef& t) { return batch == 1 ? 0 : t.strides[0]; };

  if (stage_a_row_major(device, args, first, second)) return;
  // Epilogues: in the GEMM through cuBLASLt where it has an algorithm, else separate kernels.
  if ((bias || row_sums || relu) &&
      gemm_lt(device, args, {m, n, k, first.op, second.op, first.ld, second.ld, ldc})) {
    return;
  }
  double beta_value = args.beta;
  if (bias) {
    copy(device, c, bias_as_rows(args));  // then C += A @ B
    beta_value = 1.0;
  }

  const DeviceGuard guard(device);
  cublasHandle_t handle = context(device).blas();
  const bool is_double = c.dtype == DType::Float64;
  const cudaDataType_t type = blas_data_type(c.dtype);
  const cublasComputeType_t compute = blas_compute_type(c.dtype, args.allow_tf32);
  // alpha and beta in the compute type's scalar type (host pointers, read at call time).
  const double alpha_d = args.alpha, beta_d = beta_value;
  const float alpha_f = static_cast<float>(args.alpha), beta_f = static_cast<float>(beta_value);
  const void* alpha = is_double ? static_cast<const void*>(&alpha_d) : &alpha_f;
  const void* beta = is_double ? static_cast<const void*>(&beta_d) : &beta_f;

  EMBER_CUDA_CHECK(cublasGemmStridedBatchedEx(
      handle, first.op, second.op, to_int(n, "N"), to_int(m, "M"), to_int(k, "K"), alpha,
      b.data, type, to_int(first.ld, "B's leading dimension"), batch_stride(b),
      a.data, type, to_int(second.ld, "A's leading dimension"), batch_stride(a), beta,
      c.data, type, to_int(ldc, "C's leading dimension"), batch_stride(c), to_int(batch, "batch"),
      compute, CUBLAS_GEMM_DEFAULT));
  if (relu) unary(device, UnaryOp::Relu, c, c);
  if (row_sums) reduce(device, ReduceKind::Sum, row_sums_as_reduce_output(args), a);
}

}  // namespace ember::kernels::cuda_impl
