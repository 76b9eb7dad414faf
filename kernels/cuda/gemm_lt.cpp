// Linear layers' products through cuBLASLt, with their extra work in the GEMM's epilogue:
//   bias      (CUBLASLT_EPILOGUE_BIAS):  C = A @ B + bias, no separate pass writing the bias;
//   row_sums  (CUBLASLT_EPILOGUE_BGRADB): the bias gradient, summed while dW = g^T @ x reads g;
//   relu      (CUBLASLT_EPILOGUE_RELU_BIAS, or _RELU without a bias): max(C, 0) on the way out.
// Same row-major trick as gemm.cpp: cuBLASLt computes C^T = B^T A^T, so its D has our n rows and
// m columns; our bias (length n) is its per-row bias, our row sums of A (length m) are its "bias
// gradient of B", a reduction over k.
//
// A plan (descriptors and the algorithm cuBLASLt's heuristic picked) is cached per shape, layout,
// dtype, epilogue and pointer alignment: after the first call a product costs one cublasLtMatmul.
// When cuBLASLt has no algorithm for a case (some dtypes and epilogues), gemm_lt returns false and
// gemm.cpp does the epilogue as a separate kernel.
#include <cublasLt.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <tuple>

#include "ember/core/log.h"
#include "ember/kernels/cuda/check.h"
#include "ember/kernels/cuda/device.h"
#include "ember/kernels/cuda/gemm_lt.h"
#include "ember/kernels/cuda/handles.h"
#include "ember/kernels/cuda/runtime.h"

namespace ember::kernels::cuda_impl {

namespace {

struct Plan {
  bool supported = false;
  MatmulDesc desc;
  MatrixLayout a, b, d;  // in cuBLASLt's roles: its A is our B, its B is our A
  cublasLtMatmulAlgo_t algo{};
};

// Largest power of two (up to 256) dividing the address: cuBLASLt's algorithms assume alignment.
std::uint32_t alignment(const void* p) {
  const auto bits = reinterpret_cast<std::uintptr_t>(p);
  std::uint32_t a = 256;
  while (a > 1 && bits % a != 0) a /= 2;
  return a;
}

using Key = std::tuple<int, std::int64_t, std::int64_t, std::int64_t,  // device, m, n, k
                       int, int, std::int64_t, std::int64_t, std::int64_t,  // ops, lds
                       int, bool, int,                                     // dtype, tf32, epilogue
                       std::uint32_t, std::uint32_t, std::uint32_t, std::uint32_t>;

MatrixLayout make_layout(cudaDataType_t type, std::int64_t rows, std::int64_t cols, std::int64_t ld) {
  cublasLtMatrixLayout_t layout = nullptr;
  EMBER_CUDA_CHECK(cublasLtMatrixLayoutCreate(&layout, type, static_cast<std::uint64_t>(rows),
                                              static_cast<std::uint64_t>(cols), ld));
  return MatrixLayout(layout);
}

template <typename T> void set_desc(cublasLtMatmulDesc_t desc, cublasLtMatmulDescAttributes_t attr, const T& value) {
  EMBER_CUDA_CHECK(cublasLtMatmulDescSetAttribute(desc, attr, &value, sizeof value));
}

}  // namespace

cudaDataType_t blas_data_type(DType dtype) {
  switch (dtype) {
    case DType::Float32: return CUDA_R_32F;
    case DType::Float64: return CUDA_R_64F;
    case DType::BFloat16: return CUDA_R_16BF;
    case DType::Float16: return CUDA_R_16F;
    default: break;  // the storage-only dtypes
  }
  EMBER_FAIL("ember (CUDA backend) gemm: no cuBLAS type for dtype ", dtype_name(dtype));
}

cublasComputeType_t blas_compute_type(DType dtype, bool allow_tf32) {
  if (dtype == DType::Float64) return CUBLAS_COMPUTE_64F;
  // bfloat16 and float16 run on tensor cores and accumulate in float32, as PyTorch's do; TF32 is
  // a float32-input mode and means nothing for them.
  if (dtype != DType::Float32) return CUBLAS_COMPUTE_32F;
  return allow_tf32 ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F;
}

bool gemm_lt(int device, const GemmArgs& args, const LtOperands& ops) {
  const bool is_double = args.c.dtype == DType::Float64;
  const cudaDataType_t type = blas_data_type(args.c.dtype);
  const cublasComputeType_t compute = blas_compute_type(args.c.dtype, args.allow_tf32);
  const bool bias = args.bias.data != nullptr;
  const cublasLtEpilogue_t epilogue = args.relu ? (bias ? CUBLASLT_EPILOGUE_RELU_BIAS : CUBLASLT_EPILOGUE_RELU)
                                      : bias    ? CUBLASLT_EPILOGUE_BIAS
                                                : CUBLASLT_EPILOGUE_BGRADB;
  const void* extra = bias ? args.bias.data : args.row_sums.data;  // null for a relu alone
  // cuBLASLt's A is our B and its B our A; C and D are both our C.
  const std::uint32_t align_a = alignment(args.b.data), align_b = alignment(args.a.data);
  const std::uint32_t align_cd = alignment(args.c.data), align_extra = alignment(extra);
  const Key key{device, ops.m, ops.n, ops.k, static_cast<int>(ops.op_first), static_cast<int>(ops.op_second),
                ops.ld_first, ops.ld_second, ops.ldc, static_cast<int>(type), args.allow_tf32,
                static_cast<int>(epilogue), align_a, align_b, align_cd, align_extra};

  static std::mutex mutex;
  static std::map<Key, Plan> plans;
  std::lock_guard lock(mutex);
  auto [it, fresh] = plans.try_emplace(key);
  Plan& plan = it->second;
  const DeviceGuard guard(device);
  DeviceContext& ctx = context(device);
  if (fresh) {
    cublasLtMatmulDesc_t desc = nullptr;
    // The scale type (alpha, beta) is the compute type's: float64 or float32 (also for 16-bit data).
    EMBER_CUDA_CHECK(cublasLtMatmulDescCreate(&desc, compute, is_double ? CUDA_R_64F : CUDA_R_32F));
    plan.desc.reset(desc);
    set_desc(desc, CUBLASLT_MATMUL_DESC_TRANSA, ops.op_first);
    set_desc(desc, CUBLASLT_MATMUL_DESC_TRANSB, ops.op_second);
    set_desc(desc, CUBLASLT_MATMUL_DESC_EPILOGUE, epilogue);
    if (extra != nullptr) set_desc(desc, CUBLASLT_MATMUL_DESC_BIAS_POINTER, extra);
    // cuBLASLt's A (our B) is n x k after its op, its B (our A) is k x m; D is n x m.
    const bool a_n = ops.op_first == CUBLAS_OP_N, b_n = ops.op_second == CUBLAS_OP_N;
    plan.a = make_layout(type, a_n ? ops.n : ops.k, a_n ? ops.k : ops.n, ops.ld_first);
    plan.b = make_layout(type, b_n ? ops.k : ops.m, b_n ? ops.m : ops.k, ops.ld_second);
    plan.d = make_layout(type, ops.n, ops.m, ops.ldc);

    cublasLtMatmulPreference_t pref_raw = nullptr;
    EMBER_CUDA_CHECK(cublasLtMatmulPreferenceCreate(&pref_raw));
    const MatmulPreference pref(pref_raw);
    const std::uint64_t workspace = kCublasWorkspaceBytes;
    EMBER_CUDA_CHECK(cublasLtMatmulPreferenceSetAttribute(pref.get(), CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES,
                                                          &workspace, sizeof workspace));
    const std::uint32_t align[4] = {align_a, align_b, align_cd, align_cd};
    const cublasLtMatmulPreferenceAttributes_t align_attr[4] = {
        CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES,
        CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES};
    for (int i = 0; i < 4; ++i) {
      EMBER_CUDA_CHECK(cublasLtMatmulPreferenceSetAttribute(pref.get(), align_attr[i], &align[i], sizeof align[i]));
    }
    cublasLtMatmulHeuristicResult_t result{};
    int found = 0;
    const cublasStatus_t status = cublasLtMatmulAlgoGetHeuristic(ctx.blas_lt(), desc, plan.a.get(), plan.b.get(),
                                                                 plan.d.get(), plan.d.get(), pref.get(), 1, &result, &found);
    plan.supported = status == CUBLAS_STATUS_SUCCESS && found > 0 && (extra == nullptr || align_extra >= 4);
    if (plan.supported) plan.algo = result.algo;
    logging::debug("CUDA: cuBLASLt {}{} epilogue for {}x{}x{} ({}): {}", args.relu ? "relu+" : "",
                   bias ? "bias" : (args.relu ? "" : "bias-gradient"), ops.m,
                   ops.n, ops.k, args.c.dtype != DType::Float32 ? dtype_name(args.c.dtype) : (args.allow_tf32 ? "tf32" : "float32"),
                   plan.supported ? "fused" : "not supported, separate kernel");
  }
  if (!plan.supported) return false;
  if (extra != nullptr) set_desc(plan.desc.get(), CUBLASLT_MATMUL_DESC_BIAS_POINTER, extra);
  const double alpha_d = args.alpha, beta_d = 0.0;
  const float alpha_f = static_cast<float>(args.alpha), beta_f = 0.0f;
  const void* alpha = is_double ? static_cast<const void*>(&alpha_d) : &alpha_f;
  const void* beta = is_double ? static_cast<const void*>(&beta_d) : &beta_f;
  EMBER_CUDA_CHECK(cublasLtMatmul(ctx.blas_lt(), plan.desc.get(), alpha, args.b.data, plan.a.get(), args.a.data,
                                  plan.b.get(), beta, args.c.data, plan.d.get(), args.c.data, plan.d.get(), &plan.algo,
                                  ctx.blas_workspace(), kCublasWorkspaceBytes, ctx.stream()));
  return true;
}

}  // namespace ember::kernels::cuda_impl
