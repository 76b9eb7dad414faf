// BackendDescriptor (cudnn_descriptor.h): create, set, finalize, get and destroy, each checked.
// A failure's message names the call, the descriptor's type and the attribute (by its cuDNN enum
// value, cudnnBackendAttributeName_t in cudnn_graph.h), built only on failure.
#include "ember/kernels/cuda/cudnn_descriptor.h"

#include <algorithm>
#include <string>
#include <utility>

#include "ember/kernels/cuda/check.h"

namespace ember::kernels::cuda_impl {

namespace {

// The descriptor types Ember makes, by name; others by number.
std::string type_name(cudnnBackendDescriptorType_t type) {
#define EMBER_CUDNN_TYPE_NAME(t) \
  case t:                        \
    return #t;
  switch (type) {
    EMBER_CUDNN_TYPE_NAME(CUDNN_BACKEND_TENSOR_DESCRIPTOR)
    EMBER_CUDNN_TYPE_NAME(CUDNN_BACKEND_CONVOLUTION_DESCRIPTOR)
    EMBER_CUDNN_TYPE_NAME(CUDNN_BACKEND_OPERATION_CONVOLUTION_FORWARD_DESCRIPTOR)
    EMBER_CUDNN_TYPE_NAME(CUDNN_BACKEND_OPERATION_CONVOLUTION_BACKWARD_DATA_DESCRIPTOR)
    EMBER_CUDNN_TYPE_NAME(CUDNN_BACKEND_OPERATION_CONVOLUTION_BACKWARD_FILTER_DESCRIPTOR)
    EMBER_CUDNN_TYPE_NAME(CUDNN_BACKEND_OPERATIONGRAPH_DESCRIPTOR)
    EMBER_CUDNN_TYPE_NAME(CUDNN_BACKEND_ENGINEHEUR_DESCRIPTOR)
    EMBER_CUDNN_TYPE_NAME(CUDNN_BACKEND_ENGINECFG_DESCRIPTOR)
    EMBER_CUDNN_TYPE_NAME(CUDNN_BACKEND_ENGINE_DESCRIPTOR)
    EMBER_CUDNN_TYPE_NAME(CUDNN_BACKEND_EXECUTION_PLAN_DESCRIPTOR)
    EMBER_CUDNN_TYPE_NAME(CUDNN_BACKEND_VARIANT_PACK_DESCRIPTOR)
    default:
      return "descriptor type " + std::to_string(static_cast<int>(type));
  }
#undef EMBER_CUDNN_TYPE_NAME
}

[[noreturn]] void fail(cudnnStatus_t status, const char* call, cudnnBackendDescriptorType_t type,
                       int attribute) {
  std::string what = std::string(call) + "(" + type_name(type);
  if (attribute >= 0) what += ", attribute " + std::to_string(attribute);
  what += ")";
  throw_status(status, what.c_str(), __FILE__, __LINE__);
}

void check(cudnnStatus_t status, const char* call, cudnnBackendDescriptorType_t type,
           int attribute = -1) {
  if (status != CUDNN_STATUS_SUCCESS) [[unlikely]]
    fail(status, call, type, attribute);
}

}  // namespace

BackendDescriptor::BackendDescriptor(cudnnBackendDescriptorType_t type) : type_(type) {
  check(cudnnBackendCreateDescriptor(type, &desc_), "cudnnBackendCreateDescriptor", type);
}

BackendDescriptor::BackendDescriptor(BackendDescriptor&& other) noexcept
    : desc_(std::exchange(other.desc_, nullptr)), type_(other.type_) {}

BackendDescriptor& BackendDescriptor::operator=(BackendDescriptor&& other) noexcept {
  if (this != &other) {
    if (desc_ != nullptr) (void)cudnnBackendDestroyDescriptor(desc_);
    desc_ = std::exchange(other.desc_, nullptr);
    type_ = other.type_;
  }
  return *this;
}

BackendDescriptor::~BackendDescriptor() {
  if (desc_ != nullptr) (void)cudnnBackendDestroyDescriptor(desc_);
}

void BackendDescriptor::set(cudnnBackendAttributeName_t name, cudnnBackendAttributeType_t type,
                            std::int64_t count, const void* values) {
  check(cudnnBackendSetAttribute(desc_, name, type, count, values), "cudnnBackendSetAttribute",
        type_, static_cast<int>(name));
}

void BackendDescriptor::set(cudnnBackendAttributeName_t name, std::int64_t value) {
  set(name, CUDNN_TYPE_INT64, 1, &value);
}
void BackendDescriptor::set(cudnnBackendAttributeName_t name,
                            std::span<const std::int64_t> values) {
  set(name, CUDNN_TYPE_INT64, static_cast<std::int64_t>(values.size()), values.data());
}
void BackendDescriptor::set(cudnnBackendAttributeName_t name, cudnnDataType_t value) {
  set(name, CUDNN_TYPE_DATA_TYPE, 1, &value);
}
void BackendDescriptor::set(cudnnBackendAttributeName_t name, bool value) {
  set(name, CUDNN_TYPE_BOOLEAN, 1, &value);
}
void BackendDescriptor::set(cudnnBackendAttributeName_t name, float value) {
  set(name, CUDNN_TYPE_FLOAT, 1, &value);
}
void BackendDescriptor::set(cudnnBackendAttributeName_t name, double value) {
  set(name, CUDNN_TYPE_DOUBLE, 1, &value);
}
void BackendDescriptor::set(cudnnBackendAttributeName_t name, cudnnHandle_t value) {
  set(name, CUDNN_TYPE_HANDLE, 1, &value);
}
void BackendDescriptor::set(cudnnBackendAttributeName_t name, cudnnConvolutionMode_t value) {
  set(name, CUDNN_TYPE_CONVOLUTION_MODE, 1, &value);
}
void BackendDescriptor::set(cudnnBackendAttributeName_t name, cudnnBackendHeurMode_t value) {
  set(name, CUDNN_TYPE_HEUR_MODE, 1, &value);
}
void BackendDescriptor::set_pointers(cudnnBackendAttributeName_t name,
                                     std::span<void* const> pointers) {
  set(name, CUDNN_TYPE_VOID_PTR, static_cast<std::int64_t>(pointers.size()), pointers.data());
}
void BackendDescriptor::set_pointer(cudnnBackendAttributeName_t name, void* pointer) {
  set(name, CUDNN_TYPE_VOID_PTR, 1, &pointer);
}
void BackendDescriptor::set(cudnnBackendAttributeName_t name, const BackendDescriptor& value) {
  cudnnBackendDescriptor_t raw = value.get();
  set(name, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &raw);
}
void BackendDescriptor::set_descriptors(cudnnBackendAttributeName_t name,
                                        std::span<const cudnnBackendDescriptor_t> values) {
  set(name, CUDNN_TYPE_BACKEND_DESCRIPTOR, static_cast<std::int64_t>(values.size()), values.data());
}

void BackendDescriptor::finalize() {
  check(cudnnBackendFinalize(desc_), "cudnnBackendFinalize", type_);
}

cudnnStatus_t BackendDescriptor::try_finalize() noexcept { return cudnnBackendFinalize(desc_); }

std::int64_t BackendDescriptor::get_int64(cudnnBackendAttributeName_t name) const {
  std::int64_t value = 0, returned = 0;
  check(cudnnBackendGetAttribute(desc_, name, CUDNN_TYPE_INT64, 1, &returned, &value),
        "cudnnBackendGetAttribute", type_, static_cast<int>(name));
  return value;
}

std::int64_t BackendDescriptor::count(cudnnBackendAttributeName_t name,
                                      cudnnBackendAttributeType_t type) const {
  std::int64_t returned = 0;
  check(cudnnBackendGetAttribute(desc_, name, type, 0, &returned, nullptr),
        "cudnnBackendGetAttribute", type_, static_cast<int>(name));
  return returned;
}

std::vector<BackendDescriptor> BackendDescriptor::get_descriptors(
    cudnnBackendAttributeName_t name, cudnnBackendDescriptorType_t element_type,
    std::int64_t max) const {
  std::vector<BackendDescriptor> out;
  std::vector<cudnnBackendDescriptor_t> raw;
  for (std::int64_t i = 0; i < max; ++i) {
    out.emplace_back(element_type);
    raw.push_back(out.back().get());
  }
  std::int64_t returned = 0;
  check(cudnnBackendGetAttribute(desc_, name, CUDNN_TYPE_BACKEND_DESCRIPTOR, max, &returned,
                                 raw.data()),
        "cudnnBackendGetAttribute", type_, static_cast<int>(name));
  out.resize(static_cast<std::size_t>(std::min(returned, max)));
  return out;
}

std::vector<int> BackendDescriptor::get_enum_array(cudnnBackendAttributeName_t name,
                                                   cudnnBackendAttributeType_t type,
                                                   std::int64_t max) const {
  // cuDNN's enums are int-sized; the library writes `returned` of them.
  std::vector<int> values(static_cast<std::size_t>(max));
  std::int64_t returned = 0;
  check(cudnnBackendGetAttribute(desc_, name, type, max, &returned, values.data()),
        "cudnnBackendGetAttribute", type_, static_cast<int>(name));
  values.resize(static_cast<std::size_t>(std::min(returned, max)));
  return values;
}

}  // namespace ember::kernels::cuda_impl
