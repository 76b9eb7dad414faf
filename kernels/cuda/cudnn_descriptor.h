// An owning wrapper for cuDNN's backend (graph API) descriptors: tensors, the convolution, the
// operation and its graph, heuristics, engine configurations, execution plans and variant packs.
// Each is created, given its attributes, finalized, and destroyed when the wrapper goes.
//
//   BackendDescriptor x(CUDNN_BACKEND_TENSOR_DESCRIPTOR);
//   x.set(CUDNN_ATTR_TENSOR_DIMENSIONS, std::span<const std::int64_t>(dims));
//   x.set(CUDNN_ATTR_TENSOR_UNIQUE_ID, std::int64_t{'x'});
//   x.finalize();
//
// Every call is checked: a failure throws ember::Error naming the call, the descriptor's type, the
// attribute and cuDNN's own text (check.h). try_finalize() returns the status instead, for
// descriptors that cuDNN may reject for a reason that is not an error (an engine configuration
// that does not support the problem).
#pragma once

#include <cudnn.h>

#include <cstdint>
#include <span>
#include <vector>

namespace ember::kernels::cuda_impl {

class BackendDescriptor {
 public:
  BackendDescriptor() = default;
  explicit BackendDescriptor(cudnnBackendDescriptorType_t type);
  BackendDescriptor(BackendDescriptor&& other) noexcept;
  BackendDescriptor& operator=(BackendDescriptor&& other) noexcept;
  BackendDescriptor(const BackendDescriptor&) = delete;
  BackendDescriptor& operator=(const BackendDescriptor&) = delete;
  ~BackendDescriptor();  // errors ignored: destructors also run while unwinding

  cudnnBackendDescriptor_t get() const { return desc_; }
  cudnnBackendDescriptorType_t type() const { return type_; }
  explicit operator bool() const { return desc_ != nullptr; }

  // The attribute as `count` elements of `type` at `values`.
  void set(cudnnBackendAttributeName_t name, cudnnBackendAttributeType_t type, std::int64_t count,
           const void* values);
  // Typed forms: the attribute type follows from the C++ type. Data pointers and lists of
  // descriptors are both void* underneath (cudnnBackendDescriptor_t), hence their own names.
  void set(cudnnBackendAttributeName_t name, std::int64_t value);
  void set(cudnnBackendAttributeName_t name, std::span<const std::int64_t> values);
  void set(cudnnBackendAttributeName_t name, cudnnDataType_t value);
  void set(cudnnBackendAttributeName_t name, bool value);
  void set(cudnnBackendAttributeName_t name, float value);
  void set(cudnnBackendAttributeName_t name, double value);
  void set(cudnnBackendAttributeName_t name, cudnnHandle_t value);
  void set(cudnnBackendAttributeName_t name, cudnnConvolutionMode_t value);
  void set(cudnnBackendAttributeName_t name, cudnnBackendHeurMode_t value);
  void set(cudnnBackendAttributeName_t name, const BackendDescriptor& value);
  void set_descriptors(cudnnBackendAttributeName_t name,
                       std::span<const cudnnBackendDescriptor_t> values);
  void set_pointers(cudnnBackendAttributeName_t name, std::span<void* const> pointers);
  void set_pointer(cudnnBackendAttributeName_t name, void* pointer);

  void finalize();
  cudnnStatus_t try_finalize() noexcept;

  // Reading attributes. get_int64 reads one element. get_descriptors reads up to `max` descriptor
  // elements into new descriptors of `element_type` (cuDNN fills descriptors the caller made).
  // get_enum_array reads up to `max` enum values of `type` (numerical or behaviour notes).
  std::int64_t get_int64(cudnnBackendAttributeName_t name) const;
  std::vector<BackendDescriptor> get_descriptors(cudnnBackendAttributeName_t name,
                                                 cudnnBackendDescriptorType_t element_type,
                                                 std::int64_t max) const;
  // The number of elements the attribute holds (for sizing get_descriptors).
  std::int64_t count(cudnnBackendAttributeName_t name, cudnnBackendAttributeType_t type) const;
  std::vector<int> get_enum_array(cudnnBackendAttributeName_t name,
                                  cudnnBackendAttributeType_t type, std::int64_t max) const;

 private:
  cudnnBackendDescriptor_t desc_ = nullptr;
  cudnnBackendDescriptorType_t type_ = CUDNN_BACKEND_TENSOR_DESCRIPTOR;
};

}  // namespace ember::kernels::cuda_impl
