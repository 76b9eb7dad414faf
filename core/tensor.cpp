// TensorBase's data access, metadata and in-place writes.
#include "ember/core/tensor.h"

#include <cmath>
#include <cstring>

#include "ember/core/grad_mode.h"
#include "ember/core/host_pool.h"
#include "ember/core/ops.h"

namespace ember {


std::int64_t TensorBase::size(std::int64_t dim) const {
  return shape()[wrap_dim(dim, this->dim(), "TensorBase::size")];
}

std::int64_t TensorBase::stride(std::int64_t dim) const {
  return strides()[wrap_dim(dim, this->dim(), "TensorBase::stride")];
}

bool TensorBase::is_contiguous() const { return ops::ref(*this).is_contiguous(); }

void* TensorBase::raw_data() const {
  const TensorImpl& t = impl();
  return static_cast<char*>(t.storage->data()) +
         t.offset * static_cast<std::int64_t>(element_size(t.dtype));
}

template <typename T> T* TensorBase::data_ptr() const {
  EMBER_CHECK(dtype() == dtype_of_v<T>, "TensorBase::data_ptr: tensor has dtype ", dtype(),
              " but ", dtype_of_v<T>, " was asked for");
  EMBER_CHECK(device().is_cpu(), "TensorBase::data_ptr: tensor is on ", device(),
              "; move it to the CPU with .to(Device::cpu()) first");
  return static_cast<T*>(raw_data());
}
#define EMBER_INSTANTIATE_DATA_PTR(Name, type, name, floating, accumulate) \
  template type* TensorBase::data_ptr<type>() const;
EMBER_DTYPES(EMBER_INSTANTIATE_DATA_PTR)
#undef EMBER_INSTANTIATE_DATA_PTR

template <typename T> std::vector<T> TensorBase::to_vector() const {
  // One conversion and one host copy, whatever the layout: make a contiguous tensor of dtype T
  // on this device, then copy its bytes to the host.
  TensorBase src = ops::contiguous(ops::to_dtype(*this, dtype_of_v<T>));
  if constexpr (std::is_same_v<T, bool>) {
    // std::vector<bool> packs bits: read bytes, then convert.
    const std::vector<std::uint8_t> bytes = ops::to_dtype(src, kUInt8).to_vector<std::uint8_t>();
    return std::vector<bool>(bytes.begin(), bytes.end());
  } else {
    const auto n = static_cast<std::size_t>(src.numel());
    std::vector<T> out(n);
    if (n > 0) {
      kernels::runtime(src.device()).copy_to_host(out.data(), src.raw_data(), n * sizeof(T), src.device().index());
    }
    return out;
  }
}

template <typename T> T TensorBase::item() const {
  EMBER_CHECK(numel() == 1, "TensorBase::item: only a one-element tensor converts to a number, this "
              "one has shape ", shape(), " (", numel(), " elements)");
  return to_vector<T>()[0];
}
#define EMBER_INSTANTIATE_READ(Name, type, name, floating, accumulate) \
  template std::vector<type> TensorBase::to_vector<type>() const;          \
  template type TensorBase::item<type>() const;
EMBER_DTYPES(EMBER_INSTANTIATE_READ)
#undef EMBER_INSTANTIATE_READ

TensorBase& TensorBase::requires_grad_(bool value) {
  EMBER_CHECK(is_leaf(), "TensorBase::requires_grad_: only leaf tensors can change requires_grad; "
              "use detach() to get a leaf from the output of an op");
  impl().requires_grad = value;
  return *this;
}

TensorBase TensorBase::grad() const { return TensorBase(impl().grad); }

void TensorBase::set_grad(const TensorBase& g) {
  if (g.defined()) {
    EMBER_CHECK(g.shape() == shape() && g.dtype() == dtype() && g.device() == device(),
                "TensorBase::set_grad: gradient of shape ", g.shape(), ", ", g.dtype(), " on ",
                g.device(), " does not match the tensor's shape ", shape(), ", ", dtype(), " on ",
                device());
  }
  impl().grad = g.impl_ptr();
}

TensorBase TensorBase::detach() const {
  TensorBase out = make_view(*this, shape(), strides(), storage_offset());
  return out;
}

void TensorBase::set_data(const TensorBase& other) {
  TensorImpl& self = impl();
  const TensorImpl& src = other.impl();
  self.storage = src.storage;
  self.shape = src.shape;
  self.strides = src.strides;
  self.offset = src.offset;
  self.dtype = src.dtype;
  self.device = src.device;
}

namespace {
void check_in_place(const TensorBase& t, const char* op) {
  EMBER_CHECK(!(GradMode::is_enabled() && t.requires_grad() && t.is_leaf()), op,
              ": a leaf tensor that requires grad cannot be modified in place while grad mode is "
              "on; wrap the update in ember::NoGradGuard (shape ", t.shape(), ")");
}
}  // namespace

TensorBase& TensorBase::zero_() { return fill_(0.0); }

TensorBase& TensorBase::fill_(double value) {
  check_in_place(*this, "TensorBase::fill_");
  ops::fill(*this, value);
  return *this;
}

TensorBase& TensorBase::copy_(const TensorBase& src) {
  check_in_place(*this, "TensorBase::copy_");
  EMBER_CHECK(src.defined(), "TensorBase::copy_: source tensor is undefined");
  const TensorBase same_device = src.device() == device() ? src : ops::to_device(src, device());
  ops::copy_into(*this, same_device);
  return *this;
}

TensorBase ops::empty(const Shape& shape, TensorOptions options) {
  auto impl = host_pool::make_pooled<TensorImpl>();
  const std::int64_t n = shape.numel();
  EMBER_CHECK(static_cast<std::uint64_t>(n) <= SIZE_MAX / element_size(options.dtype()), "empty: shape ",
              shape, " of ", options.dtype(), " needs more bytes than this machine can address");
  impl->storage = Storage::allocate(static_cast<std::size_t>(n) * element_size(options.dtype()),
                                    options.device());
  impl->shape = shape;
  impl->strides = contiguous_strides(shape);
  impl->dtype = options.dtype();
  impl->device = options.device();
  impl->requires_grad = options.requires_grad();
  return TensorBase(std::move(impl));
}

TensorBase make_view(const TensorBase& base, const Shape& shape, const Strides& strides, std::int64_t offset) {
  auto impl = host_pool::make_pooled<TensorImpl>();
  const TensorImpl& b = base.impl();
  impl->storage = b.storage;
  impl->shape = shape;
  impl->strides = strides;
  impl->offset = offset;
  impl->dtype = b.dtype;
  impl->device = b.device;
  return TensorBase(std::move(impl));
}

bool allclose(const TensorBase& a, const TensorBase& b, double rtol, double atol) {
  if (a.shape() != b.shape()) return false;
  const std::vector<double> va = a.to_vector<double>(), vb = b.to_vector<double>();
  for (std::size_t i = 0; i < va.size(); ++i) {
    if (va[i] == vb[i]) continue;  // also equal infinities
    if (!(std::abs(va[i] - vb[i]) <= atol + rtol * std::abs(vb[i]))) return false;
  }
  return true;
}

}  // namespace ember
