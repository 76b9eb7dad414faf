// Philox 4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC 2011), the
// counter-based generator cuRAND and PyTorch's CUDA backend use. Element i of a random tensor is a
// pure function of (seed, offset + i), so the CPU and CUDA backends draw identical numbers and a
// generator's whole state is two integers.
#pragma once

#include <cmath>
#include <math.h>
#include <cstdint>

#include "ember/core/host_device.h"

namespace ember::kernels::philox {

struct U32x4 {
  std::uint32_t v[4];
};

EMBER_HOST_DEVICE void mulhilo(std::uint32_t a, std::uint32_t b, std::uint32_t& hi, std::uint32_t& lo) {
  const std::uint64_t product = static_cast<std::uint64_t>(a) * b;
  hi = static_cast<std::uint32_t>(product >> 32);
  lo = static_cast<std::uint32_t>(product);
}

// Ten rounds of Philox on the 128-bit counter `ctr` under the 64-bit key.
EMBER_HOST_DEVICE U32x4 philox4x32_10(std::uint64_t counter, std::uint64_t key) {
  std::uint32_t c0 = static_cast<std::uint32_t>(counter), c1 = static_cast<std::uint32_t>(counter >> 32);
  std::uint32_t c2 = 0, c3 = 0;
  std::uint32_t k0 = static_cast<std::uint32_t>(key), k1 = static_cast<std::uint32_t>(key >> 32);
  for (int round = 0; round < 10; ++round) {
    std::uint32_t hi0, lo0, hi1, lo1;
    mulhilo(0xD2511F53u, c0, hi0, lo0);
    mulhilo(0xCD9E8D57u, c2, hi1, lo1);
    const std::uint32_t n0 = hi1 ^ c1 ^ k0, n1 = lo1, n2 = hi0 ^ c3 ^ k1, n3 = lo0;
    c0 = n0; c1 = n1; c2 = n2; c3 = n3;
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
  return {{c0, c1, c2, c3}};
}

// Uniform in [0, 1) with 53 random bits, from two 32-bit words.
EMBER_HOST_DEVICE double to_unit_double(std::uint32_t hi, std::uint32_t lo) {
  const std::uint64_t bits = (static_cast<std::uint64_t>(hi) << 21) ^ (lo >> 11);
  return static_cast<double>(bits & ((1ull << 53) - 1)) * (1.0 / 9007199254740992.0);
}

// The uniform draw for element `index`: each element consumes one Philox block of its own, so the
// value does not depend on how the work is split across threads.
EMBER_HOST_DEVICE double uniform(std::uint64_t seed, std::uint64_t index) {
  const U32x4 r = philox4x32_10(index, seed);
  return to_unit_double(r.v[0], r.v[1]);
}

// The standard normal draw for element `index` (Box-Muller on two uniforms of the same block).
EMBER_HOST_DEVICE double normal(std::uint64_t seed, std::uint64_t index) {
  const U32x4 r = philox4x32_10(index, seed);
  const double u1 = 1.0 - to_unit_double(r.v[0], r.v[1]);  // (0, 1]: log(u1) is finite
  const double u2 = to_unit_double(r.v[2], r.v[3]);
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586476925 * u2);
}

// Rounding a + (b - a) * u to float can land on the excluded upper bound b; step back below it so
// uniform draws stay in [a, b) in every dtype, as PyTorch's do.
EMBER_HOST_DEVICE float below_bound(float v, double a, double b) {
  const float hi = static_cast<float>(b);
  return (b > a && v >= hi) ? nextafterf(hi, static_cast<float>(a)) : v;
}
EMBER_HOST_DEVICE double below_bound(double v, double a, double b) {
  return (b > a && v >= b) ? nextafter(b, a) : v;
}
// bfloat16 and float16 (T has the 16-bit pattern `bits`, sign and magnitude): step the pattern
// down one value at a time (toward minus infinity) until it is below b.
template <typename T> EMBER_HOST_DEVICE T below_bound(T v, double a, double b) {
  if (!(b > a)) return v;
  while (static_cast<double>(static_cast<float>(v)) >= b) {
    if (v.bits == 0) v.bits = 0x8001;                 // +0 -> the negative value nearest zero
    else if (v.bits & 0x8000) v.bits = static_cast<decltype(v.bits)>(v.bits + 1);  // more negative
    else v.bits = static_cast<decltype(v.bits)>(v.bits - 1);
  }
  return v;
}

}  // namespace ember::kernels::philox
