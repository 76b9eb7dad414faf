// Views: new sizes, strides and offset over the same storage. Nothing here touches data, except
// reshape, which copies when no view can express the new shape.
#include <limits>

#include "ember/core/ops.h"

namespace ember::ops {

Shape infer_shape(const Shape& shape, std::int64_t numel, const Shape& from, const char* name) {
  Shape out = shape;
  int infer = -1;
  std::int64_t known = 1;
  for (int d = 0; d < shape.size(); ++d) {
    if (shape[d] == -1) {
      EMBER_CHECK(infer < 0, name, ": only one dim can be -1, got ", shape);
      infer = d;
    } else {
      EMBER_CHECK(shape[d] >= 0, name, ": invalid size ", shape[d], " in shape ", shape);
      EMBER_CHECK(shape[d] == 0 || known <= std::numeric_limits<std::int64_t>::max() / shape[d], name,
                  ": shape ", shape, " has more elements than int64 holds (for a tensor of shape ", from,
                  ")");
      known *= shape[d];
    }
  }
  if (infer >= 0) {
    EMBER_CHECK(known != 0 && numel % known == 0, name, ": shape ", shape,
                " is invalid for a tensor of shape ", from, " (", numel, " elements)");
    out[infer] = numel / known;
  }
  EMBER_CHECK(out.numel() == numel, name, ": shape ", shape, " is invalid for a tensor of shape ",
              from, " (", numel, " elements)");
  return out;
}

namespace {
// Strides for viewing x as `shape` without a copy, or false when its layout does not allow it.
// Works chunk by chunk: runs of x's dims that are contiguous with each other can be re-split freely.
bool view_strides(const TensorBase& x, const Shape& shape, Strides& out) {
  if (x.is_contiguous() || x.numel() == 0) {
    out = contiguous_strides(shape);
    return true;
  }
  out = Shape::filled(shape.size(), 1);
  const Shape& old_shape = x.shape();
  const Strides& old_strides = x.strides();
  int view_d = shape.size() - 1;
  std::int64_t chunk_base_stride = old_strides.size() ? old_strides.back() : 1;
  std::int64_t tensor_numel = 1, view_numel = 1;
  for (int d = old_shape.size() - 1; d >= 0; --d) {
    tensor_numel *= old_shape[d];
    // A chunk ends where dim d-1 is not laid out right after dim d.
    if (d == 0 || (old_shape[d - 1] != 1 && old_strides[d - 1] != tensor_numel * chunk_base_stride)) {
      while (view_d >= 0 && (view_numel < tensor_numel || shape[view_d] == 1)) {
        out[view_d] = view_numel * chunk_base_stride;
        view_numel *= shape[view_d];
        --view_d;
      }
      if (view_numel != tensor_numel) return false;
      if (d > 0) {
        chunk_base_stride = old_strides[d - 1];
        tensor_numel = 1;
        view_numel = 1;
      }
    }
  }
  return view_d == -1;
}
}  // namespace

TensorBase view(const TensorBase& x, const Shape& shape, const char* name) {
  const Shape target = infer_shape(shape, x.numel(), x.shape(), name);
  Strides strides;
  EMBER_CHECK(view_strides(x, target, strides), name, ": a tensor of shape ", x.shape(),
              " with strides ", x.strides(), " cannot be viewed as ", target,
              " without a copy; use reshape() or contiguous() first");
  return make_view(x, target, strides, x.storage_offset());
}

TensorBase reshape(const TensorBase& x, const Shape& shape) {
  const Shape target = infer_shape(shape, x.numel(), x.shape(), "reshape");
  Strides strides;
  if (view_strides(x, target, strides)) return make_view(x, target, strides, x.storage_offset());
  const TensorBase copy = clone(x);
  return make_view(copy, target, contiguous_strides(target), 0);
}

TensorBase transpose(const TensorBase& x, std::int64_t dim0, std::int64_t dim1) {
  const int d0 = wrap_dim(dim0, x.dim(), "transpose"), d1 = wrap_dim(dim1, x.dim(), "transpose");
  if (x.dim() == 0) return make_view(x, x.shape(), x.strides(), x.storage_offset());
  Shape shape = x.shape();
  Strides strides = x.strides();
  std::swap(shape[d0], shape[d1]);
  std::swap(strides[d0], strides[d1]);
  return make_view(x, shape, strides, x.storage_offset());
}

TensorBase permute(const TensorBase& x, const Shape& dims) {
  EMBER_CHECK(dims.size() == x.dim(), "permute: got ", dims.size(), " dims ", dims,
              " for a tensor of ", x.dim(), " dims");
  Shape shape = x.shape(), strides = x.strides();
  unsigned seen = 0;
  for (int i = 0; i < dims.size(); ++i) {
    const int d = wrap_dim(dims[i], x.dim(), "permute");
    EMBER_CHECK(!(seen & (1u << d)), "permute: dim ", d, " appears twice in ", dims);
    seen |= 1u << d;
    shape[i] = x.shape()[d];
    strides[i] = x.strides()[d];
  }
  return make_view(x, shape, strides, x.storage_offset());
}

TensorBase expand(const TensorBase& x, const Shape& shape) {
  EMBER_CHECK(shape.size() >= x.dim(), "expand: cannot expand shape ", x.shape(), " to ", shape,
              " (fewer dims)");
  const int lead = shape.size() - x.dim();
  Shape out_shape = shape;
  Strides strides = Shape::filled(shape.size(), 0);
  for (int d = 0; d < shape.size(); ++d) {
    if (d < lead) {
      EMBER_CHECK(shape[d] >= 0, "expand: invalid size ", shape[d], " in ", shape);
      continue;
    }
    const std::int64_t have = x.shape()[d - lead];
    const std::int64_t want = shape[d] == -1 ? have : shape[d];
    EMBER_CHECK(want >= 0, "expand: invalid size ", shape[d], " in ", shape);
    EMBER_CHECK(have == want || have == 1, "expand: cannot expand shape ", x.shape(), " to ",
                shape, " (dim ", d, ": ", have, " to ", want, ")");
    out_shape[d] = want;
    strides[d] = have == want ? x.strides()[d - lead] : 0;
  }
  if (out_shape == x.shape()) return x;
  try {
    (void)out_shape.numel();  // a view's element count must fit int64 like any tensor's
  } catch (const Error& e) {
    EMBER_FAIL("expand: cannot expand shape ", x.shape(), " to ", shape, ": ", e.what());
  }
  return make_view(x, out_shape, strides, x.storage_offset());
}

TensorBase unsqueeze(const TensorBase& x, std::int64_t dim) {
  const int d = wrap_dim(dim, x.dim() + 1, "unsqueeze");
  Shape shape = x.shape(), strides = x.strides();
  const std::int64_t stride = d < x.dim() ? x.strides()[d] * x.shape()[d] : 1;
  shape.insert(d, 1);
  strides.insert(d, stride);
  return make_view(x, shape, strides, x.storage_offset());
}

TensorBase squeeze(const TensorBase& x, std::int64_t dim) {
  if (x.dim() == 0) return x;
  const int d = wrap_dim(dim, x.dim(), "squeeze");
  if (x.shape()[d] != 1) return x;  // as in PyTorch: squeezing a non-1 dim is a no-op
  Shape shape = x.shape(), strides = x.strides();
  shape.erase(d);
  strides.erase(d);
  return make_view(x, shape, strides, x.storage_offset());
}

TensorBase slice(const TensorBase& x, std::int64_t dim, std::int64_t start, std::int64_t end, std::int64_t step) {
  const int d = wrap_dim(dim, x.dim(), "slice");
  EMBER_CHECK(x.dim() > 0, "slice: cannot slice a 0-d tensor");
  EMBER_CHECK(step > 0, "slice: step must be positive, got ", step);
  const std::int64_t size = x.shape()[d];
  // Python slicing semantics: negative indices count from the end, out-of-range ends clamp.
  auto clamp = [size](std::int64_t i) {
    if (i < 0) i += size;
    return std::clamp<std::int64_t>(i, 0, size);
  };
  const std::int64_t lo = clamp(start), hi = std::max(clamp(end), clamp(start));
  Shape shape = x.shape(), strides = x.strides();
  shape[d] = (hi - lo + step - 1) / step;
  strides[d] = x.strides()[d] * step;
  return make_view(x, shape, strides, x.storage_offset() + lo * x.strides()[d]);
}

TensorBase select(const TensorBase& x, std::int64_t dim, std::int64_t index) {
  EMBER_CHECK(x.dim() > 0, "select: cannot index a 0-d tensor");
  const int d = wrap_dim(dim, x.dim(), "select");
  const std::int64_t size = x.shape()[d];
  EMBER_CHECK(index >= -size && index < size, "select: index ", index,
              " is out of range for dim ", d, " of size ", size, " (shape ", x.shape(), ")");
  if (index < 0) index += size;
  Shape shape = x.shape(), strides = x.strides();
  shape.erase(d);
  strides.erase(d);
  return make_view(x, shape, strides, x.storage_offset() + index * x.strides()[d]);
}

}  // namespace ember::ops
