// The throwing side of check.h: builds "<call> failed at file:line: <library> error <code> (<text>)".
#include "ember/kernels/cuda/check.h"

#include <string>

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

void throw_status(cudnnStatus_t status, const char* call, const char* file, int line) {
  // cuDNN 9 keeps a longer account of the last failure on this thread (which check failed, on
  // which attribute); it is the part of the message that says what to change.
  char detail[512] = {};
  cudnnGetLastErrorString(detail, sizeof detail);
  const std::string text = detail[0] != '\0' ? std::string(cudnnGetErrorString(status)) + ": " + detail
                                              : std::string(cudnnGetErrorString(status));
  fail(call, file, line, "cuDNN", static_cast<int>(status), text.c_str());
}

}  // namespace ember::kernels::cuda_impl
