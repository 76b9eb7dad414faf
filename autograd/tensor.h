// Tensor: the tensor users hold. A TensorBase (core/tensor.h: data, metadata, autograd state) with
// the differentiable ops as members, x.exp(), x.matmul(w), loss.backward(), each forwarding to the
// free function of autograd/public_ops.h, where its backward is recorded. libtorch splits its
// at::TensorBase and at::Tensor the same way, for the same reason: the layers below autograd
// (core/, kernels/) work on TensorBase and link without autograd/.
//
// A Tensor adds no state to a TensorBase, so each converts to the other freely: core's ops return
// TensorBase, and assigning one to a Tensor is a handle copy.
#pragma once

#include <cstdint>
#include <memory>
#include <utility>

#include "ember/core/tensor.h"
#include "ember/kernels/op_list.h"

namespace ember {

class Tensor : public TensorBase {
 public:
  Tensor() = default;  // undefined: holds no data
  Tensor(TensorBase base) : TensorBase(std::move(base)) {}  // NOLINT(google-explicit-constructor)
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : TensorBase(std::move(impl)) {}

  // --- TensorBase's members that return a tensor, returning a Tensor so that chains go on ----
  Tensor& requires_grad_(bool value = true) { TensorBase::requires_grad_(value); return *this; }
  Tensor grad() const { return TensorBase::grad(); }
  Tensor detach() const { return TensorBase::detach(); }
  Tensor& zero_() { TensorBase::zero_(); return *this; }
  Tensor& fill_(double value) { TensorBase::fill_(value); return *this; }
  Tensor& copy_(const TensorBase& src) { TensorBase::copy_(src); return *this; }

  // --- Autograd -----------------------------------------------------------------------------
  // Back-propagates from this tensor. A non-scalar tensor needs `gradient` of the same shape.
  void backward(const Tensor& gradient = Tensor(), bool retain_graph = false) const;

  // --- Differentiable ops as members (see autograd/public_ops.h) ----------------------------
  Tensor reshape(const Shape& shape) const;
  Tensor view(const Shape& shape) const;  // like reshape but never copies; throws if it would
  Tensor flatten(std::int64_t start_dim = 0, std::int64_t end_dim = -1) const;
  Tensor transpose(std::int64_t dim0, std::int64_t dim1) const;
  Tensor t() const;
  Tensor permute(const Shape& dims) const;
  Tensor unsqueeze(std::int64_t dim) const;
  Tensor squeeze(std::int64_t dim) const;
  Tensor expand(const Shape& shape) const;
  Tensor contiguous() const;
  Tensor slice(std::int64_t dim, std::int64_t start, std::int64_t end, std::int64_t step = 1) const;
  Tensor select(std::int64_t dim, std::int64_t index) const;
  Tensor operator[](std::int64_t index) const { return select(0, index); }
  Tensor clone() const;
  Tensor to(DType dtype) const;
  Tensor to(Device device) const;

  Tensor sum() const;
  Tensor sum(std::int64_t dim, bool keepdim = false) const;
  Tensor mean() const;
  Tensor mean(std::int64_t dim, bool keepdim = false) const;
  Tensor max() const;
  Tensor max(std::int64_t dim, bool keepdim = false) const;

  // One method per element-wise op of kernels/op_list.h: x.exp(), x.gelu(), x.add(y), x.eq(y), ...
#define EMBER_DECLARE_UNARY_METHOD(Name, function) Tensor function() const;
  EMBER_UNARY_OPS(EMBER_DECLARE_UNARY_METHOD)
#undef EMBER_DECLARE_UNARY_METHOD
#define EMBER_DECLARE_BINARY_METHOD(Name, function) Tensor function(const Tensor& other) const;
  EMBER_BINARY_OPS(EMBER_DECLARE_BINARY_METHOD)
#undef EMBER_DECLARE_BINARY_METHOD
  Tensor pow(double exponent) const;
  Tensor matmul(const Tensor& other) const;
  Tensor softmax(std::int64_t dim) const;
  Tensor log_softmax(std::int64_t dim) const;
  Tensor argmax() const;
  Tensor argmax(std::int64_t dim, bool keepdim = false) const;
};

}  // namespace ember
