// Size2: a pair of sizes for the two spatial dims (height, width) of 2-D ops, given as one int or as
// two, as PyTorch's kernel_size=3 or kernel_size=(3, 2):
//
//   max_pool2d(x, 3);                               // 3 x 3
//   max_pool2d(x, {3, 2}, {.stride = {2, 1}});      // 3 x 2, stride 2 x 1
//
// Pooling takes kernel sizes, strides, paddings and dilations as Size2. (Convolution's padding,
// which may also be "same" or "valid", is a type of its own; the two may be unified later.)
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <ostream>

namespace ember {

struct Size2 {
  std::int64_t h = 0, w = 0;

  constexpr Size2() = default;
  constexpr Size2(std::int64_t both) : h(both), w(both) {}  // NOLINT(google-explicit-constructor): 3 means 3 x 3
  constexpr Size2(std::int64_t height, std::int64_t width) : h(height), w(width) {}

  constexpr std::array<std::int64_t, 2> array() const { return {h, w}; }
  constexpr bool operator==(const Size2&) const = default;
};

// A Size2 that may be unset, as PyTorch's stride=None (which means "the kernel size"): written as
// a Size2 is ({.stride = 2}, {.stride = {2, 1}}), unset by default or with std::nullopt. (A
// std::optional<Size2> would not take {2, 1}: braces give an optional's constructor two arguments.)
class OptionalSize2 {
 public:
  constexpr OptionalSize2() = default;
  constexpr OptionalSize2(std::nullopt_t) {}                          // NOLINT(google-explicit-constructor)
  constexpr OptionalSize2(std::int64_t both) : value_(Size2(both)) {}  // NOLINT(google-explicit-constructor)
  constexpr OptionalSize2(std::int64_t height, std::int64_t width) : value_(Size2(height, width)) {}
  constexpr OptionalSize2(Size2 size) : value_(size) {}  // NOLINT(google-explicit-constructor)

  constexpr bool has_value() const { return value_.has_value(); }
  constexpr Size2 value_or(Size2 fallback) const { return value_.value_or(fallback); }

 private:
  std::optional<Size2> value_;
};

// Printed as [h, w], the way shapes print, so that messages read alike.
inline std::ostream& operator<<(std::ostream& os, const Size2& s) { return os << '[' << s.h << ", " << s.w << ']'; }

}  // namespace ember
