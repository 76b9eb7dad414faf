// TensorRef: what a kernel sees of a tensor. A pointer to its first element, its dtype, sizes and
// strides (in elements). Kernels know nothing of Tensor, storage ownership or autograd.
#pragma once

#include "ember/core/dtype.h"
#include "ember/core/shape.h"

namespace ember::kernels {

struct TensorRef {
  void* data = nullptr;  // first element, storage offset already applied
  DType dtype = DType::Float32;
  Shape sizes;
  Strides strides;

  std::int64_t numel() const { return sizes.numel(); }
  int ndim() const { return sizes.size(); }
  bool is_contiguous() const;  // row-major with no gaps (size-1 dims may have any stride)
  template <typename T> T* ptr() const { return static_cast<T*>(data); }
};

inline bool TensorRef::is_contiguous() const {
  std::int64_t expected = 1;
  for (int d = ndim() - 1; d >= 0; --d) {
    if (sizes[d] == 1) continue;
    if (strides[d] != expected) return false;
    expected *= sizes[d];
  }
  return true;
}

}  // namespace ember::kernels
