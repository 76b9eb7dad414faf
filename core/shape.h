// Shape: a tensor's sizes (or strides) held inline. Ops create one or two per call, so a heap
// allocation here would be a large share of an op's cost on small tensors.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <vector>

namespace ember {

// Tensors have at most kMaxDims dimensions; every op that would exceed it throws.
inline constexpr int kMaxDims = 8;

class Shape {
 public:
  Shape() = default;
  Shape(std::initializer_list<std::int64_t> dims) { assign(dims.begin(), dims.end()); }
  explicit Shape(std::span<const std::int64_t> dims) { assign(dims.begin(), dims.end()); }
  explicit Shape(const std::vector<std::int64_t>& dims) { assign(dims.begin(), dims.end()); }
  // A shape of `ndim` dimensions, each `fill`.
  static Shape filled(int ndim, std::int64_t fill);

  int size() const { return ndim_; }
  bool empty() const { return ndim_ == 0; }
  std::int64_t operator[](int i) const { return dims_[static_cast<std::size_t>(i)]; }
  std::int64_t& operator[](int i) { return dims_[static_cast<std::size_t>(i)]; }
  const std::int64_t* begin() const { return dims_.data(); }
  const std::int64_t* end() const { return dims_.data() + ndim_; }
  const std::int64_t* data() const { return dims_.data(); }
  std::int64_t back() const { return dims_[static_cast<std::size_t>(ndim_ - 1)]; }

  void push_back(std::int64_t d);
  void insert(int pos, std::int64_t d);
  void erase(int pos);

  // Product of the dims (1 for a 0-d shape). Throws if it overflows int64.
  std::int64_t numel() const;
  std::vector<std::int64_t> vec() const { return {begin(), end()}; }
  std::string str() const;  // "[2, 3]"

  friend bool operator==(const Shape& a, const Shape& b) {
    return a.ndim_ == b.ndim_ && std::equal(a.begin(), a.end(), b.begin());
  }

 private:
  template <typename It> void assign(It first, It last);

  std::array<std::int64_t, kMaxDims> dims_{};
  int ndim_ = 0;
};

using Strides = Shape;

// Row-major (C-contiguous) strides for `shape`, in elements.
Strides contiguous_strides(const Shape& shape);
// NumPy broadcasting of two shapes; throws ember::Error naming `op` when they do not broadcast.
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);
// Wraps a possibly negative dim into [0, ndim); throws naming `op` when out of range.
int wrap_dim(std::int64_t dim, int ndim, const char* op);

template <typename It> void Shape::assign(It first, It last) {
  for (; first != last; ++first) push_back(static_cast<std::int64_t>(*first));
}

}  // namespace ember
