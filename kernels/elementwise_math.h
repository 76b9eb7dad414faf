// The math of every element-wise op, written once for both backends: g++ compiles it into the CPU
// loops (kernels/cpu/elementwise.cpp) and nvcc into the CUDA kernels (kernels/cuda/elementwise.cu).
//
// A unary functor has
//   operator()(x)      the value, y = f(x);
//   backward(g, s)     the input's gradient for an output gradient g, written in PyTorch's order of
//                      operations (so float32 results round as PyTorch's do);
//   saves              what backward reads as `s`: the input x, the output y, or nothing.
// A binary functor has operator()(a, b) only; autograd composes binary backward formulas.
//
// Same results on both devices: neither build fuses a * b + c into an FMA (-ffp-contract=off for
// the library's C++, --fmad=false for elementwise.cu), so every formula rounds the same way on the
// CPU and the GPU, and the devices differ only where their math libraries do:
//  - exp and log call each device's own (glibc's within 0.5 ulp, CUDA's expf within 2 and logf
//    within 1), so the two agree within 2 ulp (tests/cuda_elementwise_test.cpp).
//  - pow and GELU's normal CDF (erfc) of float32 are evaluated in float64 and rounded once: CUDA's
//    powf is documented up to 4 ulp off, and rounding a float64 result makes the devices agree. It
//    is not free: on an H200, sigmoid with its exp in float64 took 197 us over 64M elements against
//    157 us with expf (docs/benchmarks.md, 2026-12-03), which is why exp is not done that way.
//  - float32 tanh is Eigen 3.4's rational approximation, written out: the same instructions on both
//    devices, which the CPU vectorises; tests/elementwise_math_test.cpp holds it to 5 ulp of float64.
#pragma once

#include <cmath>
#include <type_traits>

#include "ember/core/dtype.h"
#include "ember/core/error.h"
#include "ember/core/host_device.h"
#include "ember/kernels/op_list.h"


namespace ember::kernels::math {

// What a unary op's backward reads besides the output gradient.
enum class Saves : std::uint8_t { Nothing, Input, Output };

// ---- Building blocks --------------------------------------------------------------------------

template <typename T> EMBER_HOST_DEVICE T exp(T x) { return std::exp(x); }
template <typename T> EMBER_HOST_DEVICE T log(T x) { return std::log(x); }

template <typename T> EMBER_HOST_DEVICE T pow(T a, T b) {
  if constexpr (std::is_same_v<T, float>) {
    return static_cast<float>(std::pow(static_cast<double>(a), static_cast<double>(b)));
  } else {
    return std::pow(a, b);
  }
}
template <typename T> EMBER_HOST_DEVICE bool isnan(T x) { return x != x; }

// tanh. float32: Eigen 3.4's generic_fast_tanh_float (its non-FMA clamp), written branch-free so
// the CPU loop vectorises; NaN stays NaN (no comparison clamps it). float64: std::tanh.
template <typename T> EMBER_HOST_DEVICE T tanh(T a) {
  if constexpr (std::is_same_v<T, float>) {
    constexpr float kClamp = 7.90531110763549805f;
    const float x = a > kClamp ? kClamp : (a < -kClamp ? -kClamp : a);
    const float x2 = x * x;
    float p = x2 * -2.76076847742355e-16f + 2.00018790482477e-13f;
    p = x2 * p + -8.60467152213735e-11f;
    p = x2 * p + 5.12229709037114e-08f;
    p = x2 * p + 1.48572235717979e-05f;
    p = x2 * p + 6.37261928875436e-04f;
    p = x2 * p + 4.89352455891786e-03f;
    p = x * p;
    float q = x2 * 1.19825839466702e-06f + 1.18534705686654e-04f;
    q = x2 * q + 2.26843463243900e-03f;
    q = x2 * q + 4.89352518554385e-03f;
    // Every element computes both sides of each select; the CPU loop vectorises that only when
    // compiled with -fno-trapping-math (CMakeLists.txt: kernels/cpu/elementwise.cpp).
    const float ratio = p / q;
    const float abs_a = a < 0.0f ? -a : a;
    return abs_a < 0.0004f ? a : ratio;
  } else {
    return std::tanh(a);
  }
}

// <cmath>'s M_ constants, spelled out (they are POSIX, not C++), so that products of them round
// in float64 exactly as PyTorch's kernels compute them.
inline constexpr double kSqrt2 = 1.41421356237309504880;      // M_SQRT2
inline constexpr double kSqrt1_2 = 0.70710678118654752440;    // M_SQRT1_2
inline constexpr double kTwoOverSqrtPi = 1.12837916709551257390;  // M_2_SQRTPI

// The standard normal CDF, Phi(x) = 0.5 erfc(-x / sqrt 2). float32: the whole of it in float64,
// rounded once (see the header comment): in the lower tail even the rounding of x / sqrt 2 to
// float32 would cost tens of ulp, erfc's relative slope there being about x^2.
template <typename T> EMBER_HOST_DEVICE T normal_cdf(T x) {
  if constexpr (std::is_same_v<T, float>) {
    return static_cast<float>(0.5 * std::erfc(-static_cast<double>(x) * kSqrt1_2));
  } else {
    return T(0.5) * std::erfc(-x * kSqrt1_2);
  }
}

// ---- Unary ops --------------------------------------------------------------------------------

struct Neg {
  static constexpr Saves saves = Saves::Nothing;
  template <typename T> EMBER_HOST_DEVICE T operator()(T x) const { return -x; }
  template <typename T> EMBER_HOST_DEVICE T backward(T g, T) const { return -g; }
};

struct Exp {
  static constexpr Saves saves = Saves::Output;
  template <typename T> EMBER_HOST_DEVICE T operator()(T x) const { return math::exp(x); }
  template <typename T> EMBER_HOST_DEVICE T backward(T g, T y) const { return g * y; }
};

struct Log {
  static constexpr Saves saves = Saves::Input;
  template <typename T> EMBER_HOST_DEVICE T operator()(T x) const { return math::log(x); }
  template <typename T> EMBER_HOST_DEVICE T backward(T g, T x) const { return g / x; }
};

struct Sqrt {  // sqrt is correctly rounded on both devices: no float64 detour needed
  static constexpr Saves saves = Saves::Output;
  template <typename T> EMBER_HOST_DEVICE T operator()(T x) const { return std::sqrt(x); }
  template <typename T> EMBER_HOST_DEVICE T backward(T g, T y) const { return g / (y * T(2)); }
};

struct Sign {  // -1, 0 or 1; 0 for NaN, as torch.sign computes (0 < x) - (x < 0)
  static constexpr Saves saves = Saves::Nothing;
  template <typename T> EMBER_HOST_DEVICE T operator()(T x) const { return T((T(0) < x) - (x < T(0))); }
  template <typename T> EMBER_HOST_DEVICE T backward(T, T) const { return T(0); }
};

struct Abs {
  static constexpr Saves saves = Saves::Input;
  template <typename T> EMBER_HOST_DEVICE T operator()(T x) const { return std::fabs(x); }
  template <typename T> EMBER_HOST_DEVICE T backward(T g, T x) const { return g * Sign{}(x); }
};

// pow(x, 2) as PyTorch computes it (x * x, exact where pow may be an ulp off); its gradient is
// PyTorch's pow backward for exponent 2: g * (2 * x).
struct Square {
  static constexpr Saves saves = Saves::Input;
  template <typename T> EMBER_HOST_DEVICE T operator()(T x) const { return x * x; }
  template <typename T> EMBER_HOST_DEVICE T backward(T g, T x) const { return g * (T(2) * x); }
};

struct Reciprocal {  // d(1/x)/dx = -1/x^2 = -y^2
  static constexpr Saves saves = Saves::Output;
  template <typename T> EMBER_HOST_DEVICE T operator()(T x) const { return T(1) / x; }
  template <typename T> EMBER_HOST_DEVICE T backward(T g, T y) const { return -g * (y * y); }
};

// max(x, 0) that keeps NaN, as torch.relu. The output is positive exactly where the input is, so
// the backward reads the output (threshold_backward: g where y > 0, even when g is inf or NaN).
struct Relu {
  static constexpr Saves saves = Saves::Output;
  template <typename T> EMBER_HOST_DEVICE T operator()(T x) const { return (x > T(0) || math::isnan(x)) ? x : T(0); }
  template <typename T> EMBER_HOST_DEVICE T backward(T g, T y) const { return y > T(0) ? g : T(0); }
};

struct Tanh {
  static constexpr Saves saves = Saves::Output;
  template <typename T> EMBER_HOST_DEVICE T operator()(T x) const { return math::tanh(x); }
  template <typename T> EMBER_HOST_DEVICE T backward(T g, T y) const { return g * (T(1) - y * y); }
};

// 1 / (1 + e^-x), PyTorch's formula: for very negative x, e^-x is inf and the result 0, not NaN.
struct Sigmoid {
  static constexpr Saves saves = Saves::Output;
  template <typename T> EMBER_HOST_DEVICE T operator()(T x) const { return T(1) / (T(1) + math::exp(-x)); }
  template <typename T> EMBER_HOST_DEVICE T backward(T g, T y) const { return g * (T(1) - y) * y; }
};

// GELU, exact: x * Phi(x), Phi the standard normal CDF. PyTorch writes Phi(x) as
// 0.5 (1 + erf(x / sqrt 2)), which cancels for negative x (erf near -1: float64 lost every digit
// below x = -8, and CPU and GPU disagreed there); 0.5 erfc(-x / sqrt 2) is the same function
// without the cancellation. The rest is PyTorch's GeluKernel.
struct Gelu {
  static constexpr Saves saves = Saves::Input;
  template <typename T> EMBER_HOST_DEVICE T operator()(T x) const {
    return x * math::normal_cdf(x);
  }
  template <typename T> EMBER_HOST_DEVICE T backward(T g, T x) const {
    // float32: all of it in float64, rounded once, so that CUDA's expf and glibc's (2 ulp apart)
    // do not reach the result through the sum below.
    if constexpr (std::is_same_v<T, float>) {
      return static_cast<float>(backward(static_cast<double>(g), static_cast<double>(x)));
    } else {
      const T cdf = math::normal_cdf(x);
      const T pdf = T(kTwoOverSqrtPi * kSqrt1_2 * 0.5) * math::exp(x * x * T(-0.5));  // 1/sqrt(2 pi) e^(-x^2/2)
      return g * (cdf + x * pdf);
    }
  }
};

// GELU with the tanh approximation (torch's approximate="tanh", GPT-2's):
// 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
struct GeluTanh {
  static constexpr Saves saves = Saves::Input;
  static constexpr double kBeta = kSqrt2 * kTwoOverSqrtPi * 0.5;  // sqrt(2 / pi)
  static constexpr double kKappa = 0.044715;
  template <typename T> EMBER_HOST_DEVICE T operator()(T x) const {
    const T inner = T(kBeta) * (x + T(kKappa) * (x * x * x));
    return T(0.5) * x * (T(1) + math::tanh(inner));
  }
  template <typename T> EMBER_HOST_DEVICE T backward(T g, T x) const {
    const T x_sq = x * x;
    const T inner = T(kBeta) * (x + T(kKappa) * (x_sq * x));
    const T tanh_inner = math::tanh(inner);
    const T left = T(0.5) * x;
    const T left_derivative = T(0.5) * (T(1) + tanh_inner);
    const T inner_derivative = T(kBeta) * (T(1) + T(3 * kKappa) * x_sq);
    const T right_derivative = left * (T(1) - tanh_inner * tanh_inner) * inner_derivative;
    return g * (left_derivative + right_derivative);
  }
};

// SiLU (swish): x * sigmoid(x), as PyTorch computes it: x / (1 + e^-x).
struct Silu {
  static constexpr Saves saves = Saves::Input;
  template <typename T> EMBER_HOST_DEVICE T operator()(T x) const { return x / (T(1) + math::exp(-x)); }
  template <typename T> EMBER_HOST_DEVICE T backward(T g, T x) const {
    const T s = T(1) / (T(1) + math::exp(-x));
    return g * s * (T(1) + x * (T(1) - s));
  }
};

// ---- Binary ops -------------------------------------------------------------------------------

struct Add {
  template <typename T> EMBER_HOST_DEVICE T operator()(T a, T b) const { return a + b; }
};
struct Sub {
  template <typename T> EMBER_HOST_DEVICE T operator()(T a, T b) const { return a - b; }
};
struct Mul {
  template <typename T> EMBER_HOST_DEVICE T operator()(T a, T b) const { return a * b; }
};
struct Div {
  template <typename T> EMBER_HOST_DEVICE T operator()(T a, T b) const { return a / b; }
};
struct Pow {
  template <typename T> EMBER_HOST_DEVICE T operator()(T a, T b) const { return math::pow(a, b); }
};
// NaN if either input is NaN, as torch.maximum / torch.minimum.
struct Maximum {
  template <typename T> EMBER_HOST_DEVICE T operator()(T a, T b) const { return (a > b || math::isnan(a)) ? a : b; }
};
struct Minimum {
  template <typename T> EMBER_HOST_DEVICE T operator()(T a, T b) const { return (a < b || math::isnan(a)) ? a : b; }
};
// Comparisons give bool, whatever the operands' dtype (a kBool tensor, as in PyTorch). Any
// comparison with NaN is false but Ne's, as IEEE 754 says.
struct Eq {
  template <typename T> EMBER_HOST_DEVICE bool operator()(T a, T b) const { return a == b; }
};
struct Ne {
  template <typename T> EMBER_HOST_DEVICE bool operator()(T a, T b) const { return a != b; }
};
struct Gt {
  template <typename T> EMBER_HOST_DEVICE bool operator()(T a, T b) const { return a > b; }
};
struct Ge {
  template <typename T> EMBER_HOST_DEVICE bool operator()(T a, T b) const { return a >= b; }
};
struct Lt {
  template <typename T> EMBER_HOST_DEVICE bool operator()(T a, T b) const { return a < b; }
};
struct Le {
  template <typename T> EMBER_HOST_DEVICE bool operator()(T a, T b) const { return a <= b; }
};

// ---- From the op lists to the functors ----------------------------------------------------------

// A unary op's backward as a binary functor of (g, s), for the backends' element-wise loops.
template <typename Op> struct BackwardOf {
  template <typename T> EMBER_HOST_DEVICE T operator()(T g, T s) const { return Op{}.backward(g, s); }
};

// Op applied to elements stored as T. For bfloat16 and float16 the operands are widened to float
// (compute_t, core/dtype.h), the op computes in float and the result is rounded once on store, as
// PyTorch computes them; a comparison's bool stays bool. Operands may be of either type (a scalar
// operand is held in the compute type, not rounded to T first, also as PyTorch does).
template <typename Op, typename T> struct Widened {
  template <typename... X> EMBER_HOST_DEVICE auto operator()(X... x) const {
    const auto r = Op{}(static_cast<compute_t<T>>(x)...);
    if constexpr (std::is_same_v<std::remove_const_t<decltype(r)>, bool>) return r;
    else return T(r);
  }
};
// The functor the element-wise loops run for Op on T: Op itself where T is its own compute type.
template <typename Op, typename T>
using OnStorage = std::conditional_t<std::is_same_v<compute_t<T>, T>, Op, Widened<Op, T>>;

// True for the comparison functors, whose result is bool: they run on every dtype.
template <typename Op> inline constexpr bool is_comparison = std::is_same_v<decltype(Op{}(0.0f, 0.0f)), bool>;

// True for the binary ops whose result is bool (comparisons): their output tensor is kBool.
constexpr bool returns_bool(BinaryOp op) {
#define EMBER_OP_RETURNS_BOOL(Name, function) std::is_same_v<decltype(Name{}(0.0f, 0.0f)), bool>,
  constexpr bool kBools[] = {EMBER_BINARY_OPS(EMBER_OP_RETURNS_BOOL)};
#undef EMBER_OP_RETURNS_BOOL
  return kBools[static_cast<int>(op)];
}

// The dtype of binary op `op`'s result for operands of `operands`: bool for comparisons.
constexpr DType result_dtype(BinaryOp op, DType operands) { return returns_bool(op) ? kBool : operands; }

constexpr Saves saves(UnaryOp op) {
#define EMBER_OP_SAVES(Name, function) Name::saves,
  constexpr Saves kSaves[] = {EMBER_UNARY_OPS(EMBER_OP_SAVES)};
#undef EMBER_OP_SAVES
  return kSaves[static_cast<int>(op)];
}

// Calls fn with the functor of `op`: the one place where a runtime op becomes a template argument.
// An op listed in op_list.h without a functor here does not compile.
template <typename Fn> decltype(auto) visit(UnaryOp op, Fn&& fn) {
  switch (op) {
#define EMBER_OP_CASE(Name, function) \
  case UnaryOp::Name: return fn(Name{});
    EMBER_UNARY_OPS(EMBER_OP_CASE)
#undef EMBER_OP_CASE
  }
  EMBER_FAIL("ember: unknown unary op ", static_cast<int>(op));
}

template <typename Fn> decltype(auto) visit(BinaryOp op, Fn&& fn) {
  switch (op) {
#define EMBER_OP_CASE(Name, function) \
  case BinaryOp::Name: return fn(Name{});
    EMBER_BINARY_OPS(EMBER_OP_CASE)
#undef EMBER_OP_CASE
  }
  EMBER_FAIL("ember: unknown binary op ", static_cast<int>(op));
}

}  // namespace ember::kernels::math
