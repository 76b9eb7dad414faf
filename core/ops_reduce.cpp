// Reductions (sum, max over a set of dims) and sum_to, the reverse of broadcasting.
#include "ember/core/ops.h"

namespace ember::ops {

TensorBase reduce(ReduceKind op, const TensorBase& x, unsigned dim_mask, bool keepdim, const char* name) {
  check_arithmetic_dtype(name, x);
  Shape kept = x.shape();
  Shape squeezed;
  for (int d = 0; d < x.dim(); ++d) {
    if (dim_mask & (1u << d)) {
      EMBER_CHECK(op != ReduceKind::Max || x.shape()[d] > 0, name,
                  ": cannot reduce over dim ", d, " of size 0 (shape ", x.shape(), ")");
      kept[d] = 1;
    } else {
      squeezed.push_back(x.shape()[d]);
    }
  }
  TensorBase out = empty(kept, x.options());
  if (out.numel() > 0) {
    kernels::call<kernels::Kernel::reduce>(x.device(), op, ref(out), ref(x));
  }
  if (keepdim) return out;
  return make_view(out, squeezed, contiguous_strides(squeezed), 0);
}

TensorBase sum_to(const TensorBase& g, const Shape& shape) {
  if (g.shape() == shape) return g;
  const int lead = g.dim() - shape.size();
  EMBER_CHECK(lead >= 0, "sum_to: cannot sum a tensor of shape ", g.shape(), " to shape ", shape);
  unsigned mask = 0;
  for (int d = 0; d < g.dim(); ++d) {
    if (d < lead || (shape[d - lead] == 1 && g.shape()[d] != 1)) mask |= 1u << d;
  }
  TensorBase summed = mask ? reduce(ReduceKind::Sum, g, mask, /*keepdim=*/true, "sum_to") : contiguous(g);
  return make_view(summed, shape, contiguous_strides(shape), 0);
}

}  // namespace ember::ops
