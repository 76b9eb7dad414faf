// The throwing side of check.h: builds "<call> failed at file:line: <library> error <code> (<text>)".
#include "ember/kernels/cuda/check.h"

#include "ember/core/error.h"

namespace ember::kernels::cuda_impl {

namespace {

// cuRAND has no status-to-string function; these are the names from curand.h.
const char* curand_status_name(curandStatus_t status) {
  switch (status) {
    case CURAND_STATUS_SUCCESS: return "CURAND_STATUS_SUCCESS";
    case CURAND_STATUS_VERSION_MISMATCH: return "CURAND_STATUS_VERSION_MISMATCH";
    case CURAND_STATUS_NOT_INITIALIZED: return "CURAND_STATUS_NOT_INITIALIZED";
    case CURAND_STATUS_ALLOCATION_FAILED: return "CURAND_STATUS_ALLOCATION_FAILED";
    case CURAND_STATUS_TYPE_ERROR: return "CURAND_STATUS_TYPE_ERROR";
    case CURAND_STATUS_OUT_OF_RANGE: return "CURAND_STATUS_OUT_OF_RANGE";
    case CURAND_STATUS_LENGTH_NOT_MULTIPLE: return "CURAND_STATUS_LENGTH_NOT_MULTIPLE";
    case CURAND_STATUS_DOUBLE_PRECISION_REQUIRED: return "CURAND_STATUS_DOUBLE_PRECISION_REQUIRED";
    case CURAND_STATUS_LAUNCH_FAILURE: return "CURAND_STATUS_LAUNCH_FAILURE";
    case CURAND_STATUS_PREEXISTING_FAILURE: return "CURAND_STATUS_PREEXISTING_FAILURE";
    case CURAND_STATUS_INITIALIZATION_FAILED: return "CURAND_STATUS_INITIALIZATION_FAILED";
    case CURAND_STATUS_ARCH_MISMATCH: return "CURAND_STATUS_ARCH_MISMATCH";
    case CURAND_STATUS_INTERNAL_ERROR: return "CURAND_STATUS_INTERNAL_ERROR";
  }
  return "unknown cuRAND status";
}

[[noreturn]] void fail(const char* call, const char* file, int line, const char* library, int code,
                       const char* text) {
  EMBER_FAIL("ember (CUDA backend): ", call, " failed at ", file, ":", line, ": ", library,
             " error ", code, " (", text, ")");
}

}  // namespace

void throw_status(cudaError_t status, const char* call, const char* file, int line) {
  // Clear the runtime's "last error" so that a later, unrelated check does not report this one
  // again (sticky errors, such as a kernel's illegal address, stay set whatever we do).
  (void)cudaGetLastError();
  fail(call, file, line, "CUDA", static_cast<int>(status), cudaGetErrorString(status));
}

void throw_status(cublasStatus_t status, const char* call, const char* file, int line) {
  fail(call, file, line, "cuBLAS", static_cast<int>(status), cublasGetStatusString(status));
}

void throw_status(curandStatus_t status, const char* call, const char* file, int line) {
  fail(call, file, line, "cuRAND", static_cast<int>(status), curand_status_name(status));
}

void throw_status(cudnnStatus_t status, const char* call, const char* file, int line) {
  fail(call, file, line, "cuDNN", static_cast<int>(status), cudnnGetErrorString(status));
}

}  // namespace ember::kernels::cuda_impl
