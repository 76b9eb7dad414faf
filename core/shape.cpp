#include "ember/core/shape.h"

#include <limits>
#include <sstream>

#include "ember/core/error.h"

namespace ember {

Shape Shape::filled(int ndim, std::int64_t fill) {
  EMBER_CHECK(ndim >= 0 && ndim <= kMaxDims, "ember: a tensor has at most ", kMaxDims,
              " dims, asked for ", ndim);
  Shape s;
  s.ndim_ = ndim;
  for (int i = 0; i < ndim; ++i) s.dims_[static_cast<std::size_t>(i)] = fill;
  return s;
}

void Shape::push_back(std::int64_t d) {
  EMBER_CHECK(ndim_ < kMaxDims, "ember: a tensor has at most ", kMaxDims, " dims");
  dims_[static_cast<std::size_t>(ndim_++)] = d;
}

void Shape::insert(int pos, std::int64_t d) {
  EMBER_CHECK(ndim_ < kMaxDims, "ember: a tensor has at most ", kMaxDims, " dims");
  for (int i = ndim_; i > pos; --i) dims_[static_cast<std::size_t>(i)] = dims_[static_cast<std::size_t>(i - 1)];
  dims_[static_cast<std::size_t>(pos)] = d;
  ++ndim_;
}

void Shape::erase(int pos) {
  for (int i = pos; i + 1 < ndim_; ++i) dims_[static_cast<std::size_t>(i)] = dims_[static_cast<std::size_t>(i + 1)];
  --ndim_;
}

std::int64_t Shape::numel() const {
  std::int64_t n = 1;
  for (int i = 0; i < ndim_; ++i) {
    const std::int64_t d = dims_[static_cast<std::size_t>(i)];
    if (d == 0) return 0;
    EMBER_CHECK(d > 0 && n <= std::numeric_limits<std::int64_t>::max() / d,
                "ember: shape ", str(), " has a negative size or more elements than int64 holds");
    n *= d;
  }
  return n;
}

std::string Shape::str() const {
  std::ostringstream out;
  out << '[';
  for (int i = 0; i < ndim_; ++i) out << (i ? ", " : "") << dims_[static_cast<std::size_t>(i)];
  out << ']';
  return out.str();
}

Strides contiguous_strides(const Shape& shape) {
  Strides strides = Shape::filled(shape.size(), 1);
  std::int64_t running = 1;
  for (int d = shape.size() - 1; d >= 0; --d) {
    strides[d] = running;
    // Only an empty tensor (a zero dim beside huge ones: numel() is 0 and did not throw) can
    // overflow here, and its strides never address memory; saturate rather than overflow.
    if (__builtin_mul_overflow(running, std::max<std::int64_t>(shape[d], 1), &running)) {
      running = std::numeric_limits<std::int64_t>::max();
    }
  }
  return strides;
}

Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op) {
  if (a == b) return a;
  const int ndim = std::max(a.size(), b.size());
  Shape out = Shape::filled(ndim, 1);
  for (int i = 0; i < ndim; ++i) {
    const int ia = i - (ndim - a.size()), ib = i - (ndim - b.size());
    const std::int64_t da = ia >= 0 ? a[ia] : 1, db = ib >= 0 ? b[ib] : 1;
    EMBER_CHECK(da == db || da == 1 || db == 1, op, ": shapes ", a.str(), " and ", b.str(),
                " cannot be broadcast together (dim ", i, " of the result: ", da, " vs ", db, ")");
    out[i] = da == 1 ? db : da;
  }
  return out;
}

int wrap_dim(std::int64_t dim, int ndim, const char* op) {
  const std::int64_t lo = -std::max(ndim, 1), hi = std::max(ndim, 1) - 1;
  EMBER_CHECK(dim >= lo && dim <= hi, op, ": dim ", dim, " is out of range for a tensor of ", ndim,
              " dims (expected a dim in [", lo, ", ", hi, "])");
  return static_cast<int>(dim < 0 ? dim + std::max(ndim, 1) : dim);
}

}  // namespace ember
