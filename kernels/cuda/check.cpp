// The throwing side of check.h: builds "<call> failed at file:line: <library> error <code> (<text>)".
#include "ember/kernels/cuda/check.h"

#include "ember/core/error.h"

namespace ember::kernels::cuda_impl {

namespace {

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

#if defined(EMBER_WITH_CUDNN)
void throw_status(cudnnStatus_t status, const char* call, const char* file, int line) {
  fail(call, file, line, "cuDNN", static_cast<int>(status), cudnnGetErrorString(status));
}
#endif

}  // namespace ember::kernels::cuda_impl
