// Tensor's members that are differentiable ops: each forwards to the free function in ops.h.
#include "ember/autograd/public_ops.h"

namespace ember {

Tensor Tensor::reshape(const Shape& s) const { return ember::reshape(*this, s); }
Tensor Tensor::view(const Shape& s) const { return ember::view(*this, s); }
Tensor Tensor::flatten(std::int64_t start_dim, std::int64_t end_dim) const {
  return ember::flatten(*this, start_dim, end_dim);
}
Tensor Tensor::transpose(std::int64_t d0, std::int64_t d1) const { return ember::transpose(*this, d0, d1); }
Tensor Tensor::t() const {
  EMBER_CHECK(dim() <= 2, "Tensor::t: expects a tensor of at most 2 dims, got shape ", shape(),
              "; use transpose(dim0, dim1)");
  return dim() < 2 ? *this : ember::transpose(*this, 0, 1);
}
Tensor Tensor::permute(const Shape& dims) const { return ember::permute(*this, dims); }
Tensor Tensor::unsqueeze(std::int64_t d) const { return ember::unsqueeze(*this, d); }
Tensor Tensor::squeeze(std::int64_t d) const { return ember::squeeze(*this, d); }
Tensor Tensor::expand(const Shape& s) const { return ember::expand(*this, s); }
Tensor Tensor::contiguous() const { return ember::contiguous(*this); }
Tensor Tensor::slice(std::int64_t d, std::int64_t start, std::int64_t end, std::int64_t step) const {
  return ember::slice(*this, d, start, end, step);
}
Tensor Tensor::select(std::int64_t d, std::int64_t index) const { return ember::select(*this, d, index); }
Tensor Tensor::clone() const { return ember::clone(*this); }
Tensor Tensor::to(DType d) const { return ember::to(*this, d); }
Tensor Tensor::to(Device d) const { return ember::to(*this, d); }

Tensor Tensor::sum() const { return ember::sum(*this); }
Tensor Tensor::sum(std::int64_t d, bool keepdim) const { return ember::sum(*this, d, keepdim); }
Tensor Tensor::mean() const { return ember::mean(*this); }
Tensor Tensor::mean(std::int64_t d, bool keepdim) const { return ember::mean(*this, d, keepdim); }
Tensor Tensor::max() const { return ember::max(*this); }
Tensor Tensor::max(std::int64_t d, bool keepdim) const { return ember::max(*this, d, keepdim); }

#define EMBER_DEFINE_UNARY_METHOD(Name, function) \
  Tensor Tensor::function() const { return ember::function(*this); }
EMBER_UNARY_OPS(EMBER_DEFINE_UNARY_METHOD)
#undef EMBER_DEFINE_UNARY_METHOD
#define EMBER_DEFINE_BINARY_METHOD(Name, function) \
  Tensor Tensor::function(const Tensor& other) const { return ember::function(*this, other); }
EMBER_BINARY_OPS(EMBER_DEFINE_BINARY_METHOD)
#undef EMBER_DEFINE_BINARY_METHOD
Tensor Tensor::pow(double e) const { return ember::pow(*this, e); }
Tensor Tensor::matmul(const Tensor& o) const { return ember::matmul(*this, o); }
Tensor Tensor::softmax(std::int64_t d) const { return ember::softmax(*this, d); }
Tensor Tensor::log_softmax(std::int64_t d) const { return ember::log_softmax(*this, d); }
Tensor Tensor::argmax() const { return ember::argmax(*this); }
Tensor Tensor::argmax(std::int64_t d, bool keepdim) const { return ember::argmax(*this, d, keepdim); }

}  // namespace ember
