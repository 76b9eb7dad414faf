// Tensor: a strided view of a Storage, with a dtype, a device and (optionally) autograd state.
// Copying a Tensor copies a handle: both refer to the same data, as in PyTorch.
//
// This header declares the whole user-facing interface. Data access is defined in core/; the
// members that are differentiable ops (reshape, sum, matmul, ...) are defined in autograd/, where
// their backward lives, and simply forward to the free functions of autograd/public_ops.h.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <memory>
#include <optional>
#include <vector>

#include "ember/core/device.h"
#include "ember/core/dtype.h"
#include "ember/core/error.h"
#include "ember/core/shape.h"
#include "ember/core/storage.h"
#include "ember/kernels/op_list.h"

namespace ember {

namespace autograd {
class Node;
struct LeafHooks;
}

struct TensorImpl {
  std::shared_ptr<Storage> storage;
  Shape shape;
  Strides strides;
  std::int64_t offset = 0;  // in elements
  DType dtype = kFloat32;
  Device device;

  // Autograd state; core only stores it. A tensor with a grad_fn is the output of a recorded op.
  bool requires_grad = false;
  std::shared_ptr<TensorImpl> grad;
  std::shared_ptr<autograd::Node> grad_fn;
  // Hooks run after backward accumulates this leaf's gradient (autograd/hooks.h); null for all
  // but the few leaves that have one, such as the parameters under DistributedDataParallel.
  std::shared_ptr<autograd::LeafHooks> hooks;
};

// Options for factories: dtype, device and requires_grad. Converts from a DType or a Device, so
// `zeros({2, 3}, kFloat64)` and `zeros({2, 3}, Device::cuda())` both read naturally.
struct TensorOptions {
  TensorOptions() = default;
  TensorOptions(DType d) : dtype_(d) {}          // NOLINT(google-explicit-constructor)
  TensorOptions(Device d) : device_(d) {}        // NOLINT(google-explicit-constructor)
  TensorOptions dtype(DType d) const { auto o = *this; o.dtype_ = d; return o; }
  TensorOptions device(Device d) const { auto o = *this; o.device_ = d; return o; }
  TensorOptions requires_grad(bool r) const { auto o = *this; o.requires_grad_ = r; return o; }
  DType dtype() const { return dtype_; }
  Device device() const { return device_; }
  bool requires_grad() const { return requires_grad_; }

 private:
  DType dtype_ = kFloat32;
  Device device_ = Device::cpu();
  bool requires_grad_ = false;
};

class Tensor {
 public:
  Tensor() = default;  // undefined: holds no data
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  // --- Metadata --------------------------------------------------------------------------
  bool defined() const { return impl_ != nullptr; }
  const Shape& shape() const { return impl().shape; }
  const Shape& sizes() const { return impl().shape; }
  std::int64_t size(std::int64_t dim) const;
  const Strides& strides() const { return impl().strides; }
  std::int64_t stride(std::int64_t dim) const;
  std::int64_t storage_offset() const { return impl().offset; }
  int dim() const { return impl().shape.size(); }
  std::int64_t numel() const { return impl().shape.numel(); }
  DType dtype() const { return impl().dtype; }
  Device device() const { return impl().device; }
  bool is_cuda() const { return device().is_cuda(); }
  bool is_contiguous() const;
  bool is_same(const Tensor& other) const { return impl_ == other.impl_; }
  TensorOptions options() const { return TensorOptions(dtype()).device(device()); }

  // Pointer to the first element; CPU tensors only, T must match the dtype.
  template <typename T> T* data_ptr() const;
  // The raw pointer to the first element on the tensor's device.
  void* raw_data() const;

  // --- Reading values back (these wait for the device) -------------------------------------
  template <typename T> T item() const;                  // one-element tensors
  template <typename T> std::vector<T> to_vector() const;  // all elements, row-major

  // --- Autograd ---------------------------------------------------------------------------
  bool requires_grad() const { return impl().requires_grad || impl().grad_fn != nullptr; }
  // Marks a leaf tensor as needing a gradient (throws for non-leaf tensors).
  Tensor& requires_grad_(bool value = true);
  bool is_leaf() const { return impl().grad_fn == nullptr; }
  Tensor grad() const;              // undefined until backward() has written one
  void set_grad(const Tensor& g);   // replaces the gradient (undefined to clear it)
  const std::shared_ptr<autograd::Node>& grad_fn() const { return impl().grad_fn; }
  // Back-propagates from this tensor. A non-scalar tensor needs `gradient` of the same shape.
  void backward(const Tensor& gradient = Tensor(), bool retain_graph = false) const;
  // Same data, cut from the graph.
  Tensor detach() const;

  // Replaces this tensor's data (storage, shape, dtype, device) with `other`'s while keeping its
  // identity: every handle to it, an optimizer's included, sees the new data. Module::to uses it.
  void set_data(const Tensor& other);

  // --- In-place writes (not recorded; rejected on leaves that require grad while grad mode is on)
  Tensor& zero_();
  Tensor& fill_(double value);
  Tensor& copy_(const Tensor& src);  // src broadcasts to this shape; may be another dtype or device

  // --- Differentiable ops as members (see autograd/public_ops.h) ----------------------------------
  Tensor reshape(const Shape& shape) const;
  Tensor view(const Shape& shape) const;  // like reshape but never copies; throws if it would
  Tensor flatten() const;
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

  TensorImpl& impl() const {
    EMBER_CHECK(impl_ != nullptr, "ember: operation on an undefined Tensor");
    return *impl_;
  }
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }

 private:
  std::shared_ptr<TensorImpl> impl_;
};

// A new, uninitialised tensor: contiguous storage of `shape` on `options.device()`.
Tensor empty(const Shape& shape, TensorOptions options = {});
// A view of `base`'s storage with other sizes, strides and offset (no autograd link).
Tensor make_view(const Tensor& base, const Shape& shape, const Strides& strides, std::int64_t offset);

// True when both have the same shape and |a - b| <= atol + rtol * |b| everywhere (NaN never
// matches). Works across devices and dtypes by comparing in float64 on the host.
bool allclose(const Tensor& a, const Tensor& b, double rtol = 1e-5, double atol = 1e-8);

// PyTorch-style printing: tensor([[1.0000, 2.0000], ...], dtype=float64, device='cuda:0').
std::ostream& operator<<(std::ostream& out, const Tensor& t);
std::ostream& operator<<(std::ostream& out, const Shape& s);
std::ostream& operator<<(std::ostream& out, Device d);
std::ostream& operator<<(std::ostream& out, DType d);

}  // namespace ember
