// TensorBase: a strided view of a Storage, with a dtype, a device and the autograd state that
// core/ stores but does not interpret. Copying one copies a handle: both refer to the same data, as
// in PyTorch.
//
// This is the tensor of the layers below autograd (core/'s ops take and return it). Users hold an
// ember::Tensor (autograd/tensor.h): a TensorBase with the differentiable ops as members (x.exp(),
// x.matmul(w), loss.backward()), as libtorch's at::Tensor extends at::TensorBase. Everything here
// is defined in core/, so core/ links without autograd/.
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

class TensorBase {
 public:
  TensorBase() = default;  // undefined: holds no data
  explicit TensorBase(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

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
  bool is_same(const TensorBase& other) const { return impl_ == other.impl_; }
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
  TensorBase& requires_grad_(bool value = true);
  bool is_leaf() const { return impl().grad_fn == nullptr; }
  TensorBase grad() const;              // undefined until backward() has written one
  void set_grad(const TensorBase& g);   // replaces the gradient (undefined to clear it)
  const std::shared_ptr<autograd::Node>& grad_fn() const { return impl().grad_fn; }
  // Same data, cut from the graph.
  TensorBase detach() const;

  // Replaces this tensor's data (storage, shape, dtype, device) with `other`'s while keeping its
  // identity: every handle to it, an optimizer's included, sees the new data. Module::to uses it.
  void set_data(const TensorBase& other);

  // --- In-place writes (not recorded; rejected on leaves that require grad while grad mode is on)
  TensorBase& zero_();
  TensorBase& fill_(double value);
  TensorBase& copy_(const TensorBase& src);  // src broadcasts to this shape; may be another dtype or device

  TensorImpl& impl() const {
    EMBER_CHECK(impl_ != nullptr, "ember: operation on an undefined Tensor");
    return *impl_;
  }
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }

 private:
  std::shared_ptr<TensorImpl> impl_;
};

namespace ops {
// A new, uninitialised tensor: contiguous storage of `shape` on `options.device()`. (Users call
// ember::empty, of autograd/factories.h, which returns the user-facing Tensor.)
TensorBase empty(const Shape& shape, TensorOptions options = {});
}  // namespace ops
// A view of `base`'s storage with other sizes, strides and offset (no autograd link).
TensorBase make_view(const TensorBase& base, const Shape& shape, const Strides& strides, std::int64_t offset);

// True when both have the same shape and |a - b| <= atol + rtol * |b| everywhere (NaN never
// matches). Works across devices and dtypes by comparing in float64 on the host.
bool allclose(const TensorBase& a, const TensorBase& b, double rtol = 1e-5, double atol = 1e-8);

// PyTorch-style printing: tensor([[1.0000, 2.0000], ...], dtype=float64, device='cuda:0').
std::ostream& operator<<(std::ostream& out, const TensorBase& t);
std::ostream& operator<<(std::ostream& out, const Shape& s);
std::ostream& operator<<(std::ostream& out, Device d);
std::ostream& operator<<(std::ostream& out, DType d);

}  // namespace ember
