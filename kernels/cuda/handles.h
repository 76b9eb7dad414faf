// Owning wrappers for CUDA-family handles: std::unique_ptr with deleters that release the handle.
// Deleters ignore errors on purpose: they also run at process exit, when the CUDA driver may
// already be shutting down, and a destructor must neither throw nor abort there.
#pragma once

#include <cublasLt.h>
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <memory>
#include <type_traits>

namespace ember::kernels::cuda_impl {

struct StreamDeleter {
  void operator()(cudaStream_t stream) const noexcept { (void)cudaStreamDestroy(stream); }
};
struct EventDeleter {
  void operator()(cudaEvent_t event) const noexcept { (void)cudaEventDestroy(event); }
};
struct CublasDeleter {
  void operator()(cublasHandle_t handle) const noexcept { (void)cublasDestroy(handle); }
};
struct CublasLtDeleter {
  void operator()(cublasLtHandle_t handle) const noexcept { (void)cublasLtDestroy(handle); }
};
struct MatmulDescDeleter {
  void operator()(cublasLtMatmulDesc_t desc) const noexcept { (void)cublasLtMatmulDescDestroy(desc); }
};
struct MatrixLayoutDeleter {
  void operator()(cublasLtMatrixLayout_t layout) const noexcept { (void)cublasLtMatrixLayoutDestroy(layout); }
};
struct MatmulPreferenceDeleter {
  void operator()(cublasLtMatmulPreference_t pref) const noexcept { (void)cublasLtMatmulPreferenceDestroy(pref); }
};
struct PinnedHostDeleter {
  void operator()(void* ptr) const noexcept { (void)cudaFreeHost(ptr); }
};
struct DeviceMemoryDeleter {
  void operator()(void* ptr) const noexcept { (void)cudaFree(ptr); }
};

// The CUDA handle types are pointers to opaque structs; unique_ptr owns the pointee type.
using Stream = std::unique_ptr<std::remove_pointer_t<cudaStream_t>, StreamDeleter>;
using Event = std::unique_ptr<std::remove_pointer_t<cudaEvent_t>, EventDeleter>;
using CublasHandle = std::unique_ptr<std::remove_pointer_t<cublasHandle_t>, CublasDeleter>;
using CublasLtHandle = std::unique_ptr<std::remove_pointer_t<cublasLtHandle_t>, CublasLtDeleter>;
using MatmulDesc = std::unique_ptr<std::remove_pointer_t<cublasLtMatmulDesc_t>, MatmulDescDeleter>;
using MatrixLayout = std::unique_ptr<std::remove_pointer_t<cublasLtMatrixLayout_t>, MatrixLayoutDeleter>;
using MatmulPreference = std::unique_ptr<std::remove_pointer_t<cublasLtMatmulPreference_t>, MatmulPreferenceDeleter>;
using PinnedHostMemory = std::unique_ptr<void, PinnedHostDeleter>;
using DeviceMemory = std::unique_ptr<void, DeviceMemoryDeleter>;

}  // namespace ember::kernels::cuda_impl
