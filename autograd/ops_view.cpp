// Shape and layout ops, with their backward: each maps the gradient back onto the input's layout.
#include "ember/autograd/public_ops.h"
#include "ember/autograd/record.h"
#include "ember/autograd/factories.h"
#include "ember/core/ops.h"

namespace ember {

using autograd::Grads;
using autograd::record;

namespace {
// Ops whose backward only needs the input's shape to undo them.
template <typename Backward>
Tensor with_backward(const char* name, Tensor out, const Tensor& x, Backward backward) {
  if (autograd::any_requires_grad({&x})) record(name, out, {&x}, std::move(backward));
  return out;
}
}  // namespace

Tensor reshape(const Tensor& x, const Shape& shape) {
  return with_backward("ReshapeBackward", ops::reshape(x, shape), x,
                       [s = x.shape()](const Tensor& g, Grads& grads) { grads[0] = ops::reshape(g, s); });
}

Tensor view(const Tensor& x, const Shape& shape) {
  return with_backward("ViewBackward", ops::view(x, shape), x,
                       [s = x.shape()](const Tensor& g, Grads& grads) { grads[0] = ops::reshape(g, s); });
}

// torch.flatten: dims start_dim to end_dim (inclusive, negative from the end) merged into one; a
// 0-d tensor becomes [1].
Tensor flatten(const Tensor& x, std::int64_t start_dim, std::int64_t end_dim) {
  if (x.dim() == 0) return reshape(x, {1});
  const int start = wrap_dim(start_dim, x.dim(), "flatten");
  const int end = wrap_dim(end_dim, x.dim(), "flatten");
  EMBER_CHECK(start <= end, "flatten: start_dim ", start_dim, " comes after end_dim ", end_dim,
              " for an input of shape ", x.shape());
  Shape shape;
  std::int64_t merged = 1;
  for (int d = 0; d < x.dim(); ++d) {
    if (d < start || d > end) {
      shape.push_back(x.shape()[d]);
    } else {
      merged *= x.shape()[d];
      if (d == end) shape.push_back(merged);
    }
  }
  return reshape(x, shape);
}

Tensor transpose(const Tensor& x, std::int64_t dim0, std::int64_t dim1) {
  return with_backward("TransposeBackward", ops::transpose(x, dim0, dim1), x,
                       [dim0, dim1](const Tensor& g, Grads& grads) { grads[0] = ops::transpose(g, dim0, dim1); });
}

Tensor permute(const Tensor& x, const Shape& dims) {
  Tensor out = ops::permute(x, dims);
  Shape inverse = dims;
  for (int i = 0; i < dims.size(); ++i) inverse[wrap_dim(dims[i], x.dim(), "permute")] = i;
  return with_backward("PermuteBackward", out, x,
                       [inverse](const Tensor& g, Grads& grads) { grads[0] = ops::permute(g, inverse); });
}

Tensor unsqueeze(const Tensor& x, std::int64_t dim) {
  return with_backward("UnsqueezeBackward", ops::unsqueeze(x, dim), x,
                       [s = x.shape()](const Tensor& g, Grads& grads) { grads[0] = ops::reshape(g, s); });
}

Tensor squeeze(const Tensor& x, std::int64_t dim) {
  return with_backward("SqueezeBackward", ops::squeeze(x, dim), x,
                       [s = x.shape()](const Tensor& g, Grads& grads) { grads[0] = ops::reshape(g, s); });
}

Tensor expand(const Tensor& x, const Shape& shape) {
  return with_backward("ExpandBackward", ops::expand(x, shape), x,
                       [s = x.shape()](const Tensor& g, Grads& grads) { grads[0] = ops::sum_to(g, s); });
}

Tensor contiguous(const Tensor& x) {
  if (x.is_contiguous()) return x;
  return with_backward("CloneBackward", ops::clone(x), x, [](const Tensor& g, Grads& grads) { grads[0] = g; });
}

Tensor clone(const Tensor& x) {
  return with_backward("CloneBackward", ops::clone(x), x, [](const Tensor& g, Grads& grads) { grads[0] = g; });
}

namespace {
// The gradient of a slice or select: zeros of the input's shape with g written where the view was.
template <typename MakeView>
Tensor scatter_into_zeros(const Tensor& g, const Shape& shape, MakeView make) {
  Tensor grad = zeros(shape, g.options());
  ops::copy_into(make(grad), g);
  return grad;
}
}  // namespace

Tensor slice(const Tensor& x, std::int64_t dim, std::int64_t start, std::int64_t end, std::int64_t step) {
  return with_backward("SliceBackward", ops::slice(x, dim, start, end, step), x,
                       [s = x.shape(), dim, start, end, step](const Tensor& g, Grads& grads) {
                         grads[0] = scatter_into_zeros(g, s, [&](const Tensor& t) { return ops::slice(t, dim, start, end, step); });
                       });
}

Tensor select(const Tensor& x, std::int64_t dim, std::int64_t index) {
  return with_backward("SelectBackward", ops::select(x, dim, index), x,
                       [s = x.shape(), dim, index](const Tensor& g, Grads& grads) {
                         grads[0] = scatter_into_zeros(g, s, [&](const Tensor& t) { return ops::select(t, dim, index); });
                       });
}

Tensor to(const Tensor& x, DType dtype) {
  if (x.dtype() == dtype) return x;
  return with_backward("ToCopyBackward", ops::to_dtype(x, dtype), x,
                       [from = x.dtype()](const Tensor& g, Grads& grads) { grads[0] = ops::to_dtype(g, from); });
}

Tensor to(const Tensor& x, Device device) {
  if (x.device() == device) return x;
  return with_backward("ToCopyBackward", ops::to_device(x, device), x,
                       [from = x.device()](const Tensor& g, Grads& grads) { grads[0] = ops::to_device(g, from); });
}

}  // namespace ember
