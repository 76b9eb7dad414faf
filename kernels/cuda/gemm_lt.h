// cuBLASLt products with a linear layer's epilogue (gemm_lt.cpp), used by gemm.cpp.
#pragma once

#include <cublas_v2.h>

#include <cstdint>

#include "ember/kernels/kernel_args.h"

namespace ember::kernels::cuda_impl {

// The cuBLAS data and compute types of a product in `dtype`: float64 in float64; float32 in
// float32, or on TF32 tensor cores when allowed. Shared by gemm.cpp and gemm_lt.cpp.
cudaDataType_t blas_data_type(DType dtype);
cublasComputeType_t blas_compute_type(DType dtype, bool allow_tf32);

// cuBLAS's view of a batch-1 product, as gemm.cpp works it out: C^T (n x m) = op(first) @ op(second).
struct LtOperands {
  std::int64_t m, n, k;
  cublasOperation_t op_first, op_second;  // first: our B; second: our A
  std::int64_t ld_first, ld_second, ldc;
};

// Runs args (batch 1, with a bias, row_sums or relu epilogue) through cuBLASLt; false when cuBLASLt has
// no algorithm for it, and nothing was queued.
bool gemm_lt(int device, const GemmArgs& args, const LtOperands& ops);

}  // namespace ember::kernels::cuda_impl
