// Distance in units in the last place between two floating-point values of one type, for tests
// that hold two computations of the same formula together.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>

namespace ember::testing {

// 0 when equal (+0 and -0 included), when both are NaN, or the same infinity; the number of
// representable values between them otherwise; the largest int64 when only one is NaN or infinite.
template <typename T> std::int64_t ulp_distance(T a, T b) {
  static_assert(std::is_floating_point_v<T>);
  if (std::isnan(a) && std::isnan(b)) return 0;
  if (a == b) return 0;
  if (std::isnan(a) || std::isnan(b) || std::isinf(a) || std::isinf(b)) {
    return std::numeric_limits<std::int64_t>::max();
  }
  using Bits = std::conditional_t<sizeof(T) == 4, std::int32_t, std::int64_t>;
  // Sign-magnitude bits to a number line where consecutive floats are consecutive integers.
  auto ordered = [](T v) -> std::int64_t {
    Bits bits;
    std::memcpy(&bits, &v, sizeof v);
    return bits < 0 ? -static_cast<std::int64_t>(bits & std::numeric_limits<Bits>::max()) : bits;
  };
  const std::int64_t d = ordered(a) - ordered(b);
  return d < 0 ? -d : d;
}

}  // namespace ember::testing
