// The 16-bit floating-point storage types, bfloat16 and IEEE half (float16), for the host and the
// device alike: plain 16-bit patterns with conversions to and from float32, rounding to nearest
// even as PyTorch's c10::BFloat16 and c10::Half do. Arithmetic on them is done in float32 (they
// convert implicitly to float), which is what PyTorch computes 16-bit element-wise ops in.
#pragma once

#include <cstdint>
#include <cstring>
#include <type_traits>

#include "ember/core/host_device.h"


namespace ember {

namespace detail {
EMBER_HOST_DEVICE std::uint32_t float_bits(float f) {
  std::uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}
EMBER_HOST_DEVICE float bits_float(std::uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}
}  // namespace detail

struct BFloat16 {
  std::uint16_t bits = 0;

  BFloat16() = default;
  EMBER_HOST_DEVICE explicit BFloat16(float f) : bits(from_float(f)) {}
  // From any other arithmetic type through float32, as c10::BFloat16 converts.
  template <typename U, std::enable_if_t<std::is_arithmetic_v<U> && !std::is_same_v<U, float>, int> = 0>
  EMBER_HOST_DEVICE explicit BFloat16(U v) : BFloat16(static_cast<float>(v)) {}
  EMBER_HOST_DEVICE operator float() const { return detail::bits_float(static_cast<std::uint32_t>(bits) << 16); }

  // The upper half of the float32, rounded to nearest even; NaN stays a (quiet) NaN.
  static EMBER_HOST_DEVICE std::uint16_t from_float(float f) {
    const std::uint32_t u = detail::float_bits(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<std::uint16_t>((u >> 16) | 0x0040u);
    return static_cast<std::uint16_t>((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
  }
};

struct Half {
  std::uint16_t bits = 0;

  Half() = default;
  EMBER_HOST_DEVICE explicit Half(float f) : bits(from_float(f)) {}
  template <typename U, std::enable_if_t<std::is_arithmetic_v<U> && !std::is_same_v<U, float>, int> = 0>
  EMBER_HOST_DEVICE explicit Half(U v) : Half(static_cast<float>(v)) {}
  EMBER_HOST_DEVICE operator float() const { return to_float(bits); }

  // IEEE binary16 <-> binary32, exact in that direction and rounded to nearest even in this one,
  // subnormals, infinities and NaN included (the FP16 library's branch-light algorithms, which
  // c10::Half uses too). They rely on float32 arithmetic that keeps subnormals (no flush to zero).
  static EMBER_HOST_DEVICE float to_float(std::uint16_t h) {
    const std::uint32_t w = static_cast<std::uint32_t>(h) << 16;
    const std::uint32_t sign = w & 0x80000000u;
    // Infinities and NaN by their bits: arithmetic on a NaN keeps its payload on a CPU but gives
    // the canonical NaN on a GPU, and the two devices must convert to the same bits.
    if ((h & 0x7C00u) == 0x7C00u) return detail::bits_float(sign | 0x7F800000u | ((h & 0x03FFu) << 13));
    const std::uint32_t two_w = w + w;
    const float normalized = detail::bits_float((two_w >> 4) + (0xE0u << 23)) * 0x1.0p-112f;
    const float denormalized = detail::bits_float((two_w >> 17) | (126u << 23)) - 0.5f;
    const std::uint32_t magnitude =
        two_w < (1u << 27) ? detail::float_bits(denormalized) : detail::float_bits(normalized);
    return detail::bits_float(sign | magnitude);
  }
  static EMBER_HOST_DEVICE std::uint16_t from_float(float f) {
    float base = ((f < 0.0f ? -f : f) * 0x1.0p+112f) * 0x1.0p-110f;
    const std::uint32_t w = detail::float_bits(f);
    const std::uint32_t shl1_w = w + w;
    const std::uint32_t sign = w & 0x80000000u;
    std::uint32_t bias = shl1_w & 0xFF000000u;
    if (bias < 0x71000000u) bias = 0x71000000u;
    base = detail::bits_float((bias >> 1) + 0x07800000u) + base;
    const std::uint32_t bits = detail::float_bits(base);
    const std::uint32_t exp_bits = (bits >> 13) & 0x00007C00u;
    const std::uint32_t mantissa_bits = bits & 0x00000FFFu;
    const std::uint32_t nonsign = exp_bits + mantissa_bits;
    return static_cast<std::uint16_t>((sign >> 16) | (shl1_w > 0xFF000000u ? 0x7E00u : nonsign));
  }
};

static_assert(sizeof(BFloat16) == 2 && sizeof(Half) == 2);

// The conversion of one element from dtype From to dtype To, as copies and .to(dtype) make it on
// every device: static_cast, except that a floating value becomes uint8 through int64 (c10's
// rule), so that -1.0 gives 255 on the CPU and the GPU alike; a direct cast of a negative float to
// an unsigned type is undefined, and CPUs wrap where GPUs saturate.
template <typename To, typename From> EMBER_HOST_DEVICE To convert(From v) {
  constexpr bool from_floating = std::is_floating_point_v<From> || std::is_same_v<From, BFloat16> ||
                                 std::is_same_v<From, Half>;
  if constexpr (std::is_same_v<To, std::uint8_t> && from_floating) {
    return static_cast<std::uint8_t>(static_cast<std::int64_t>(v));
  } else {
    return static_cast<To>(v);
  }
}
static_assert(std::is_trivially_copyable_v<BFloat16> && std::is_trivially_copyable_v<Half>);

}  // namespace ember

