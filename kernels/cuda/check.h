// Error checks for every CUDA-family call: the runtime, cuBLAS / cuBLASLt and cuDNN.
// A failed call throws ember::Error naming the call, the status code and the library's own text,
// so a failure on a remote GPU machine is diagnosable from the message alone.
//
//   EMBER_CUDA_CHECK(cudaMemcpyAsync(...));     // any of the status types below
//   kernel<<<grid, block, 0, stream>>>(...);
//   EMBER_CUDA_CHECK_LAUNCH();                  // launch errors (bad config, no kernel image, ...)
//
// One macro serves all libraries: the status type picks the overload of check_status().
#pragma once

#include <cublasLt.h>
#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cudnn.h>

namespace ember::kernels::cuda_impl {

// The throwing halves live out of line (check.cpp): the checks below stay one compare and a branch.
[[noreturn]] void throw_status(cudaError_t status, const char* call, const char* file, int line);
[[noreturn]] void throw_status(cublasStatus_t status, const char* call, const char* file, int line);
[[noreturn]] void throw_status(cudnnStatus_t status, const char* call, const char* file, int line);

inline void check_status(cudaError_t status, const char* call, const char* file, int line) {
  if (status != cudaSuccess) [[unlikely]] throw_status(status, call, file, line);
}
inline void check_status(cublasStatus_t status, const char* call, const char* file, int line) {
  if (status != CUBLAS_STATUS_SUCCESS) [[unlikely]] throw_status(status, call, file, line);
}
inline void check_status(cudnnStatus_t status, const char* call, const char* file, int line) {
  if (status != CUDNN_STATUS_SUCCESS) [[unlikely]] throw_status(status, call, file, line);
}

}  // namespace ember::kernels::cuda_impl

#define EMBER_CUDA_CHECK(call) \
  ::ember::kernels::cuda_impl::check_status((call), #call, __FILE__, __LINE__)

// After a <<<...>>> launch: cudaGetLastError reports (and clears) launch-configuration errors.
// Errors raised while the kernel runs surface at the next synchronizing call.
#define EMBER_CUDA_CHECK_LAUNCH() \
  ::ember::kernels::cuda_impl::check_status(cudaGetLastError(), "kernel launch", __FILE__, __LINE__)
