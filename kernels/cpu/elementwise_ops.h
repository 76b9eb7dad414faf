// The math of each element-wise op, as functors the CPU loops are templated on (so it inlines).
//
// Each functor has f(), the value for one element, used on strided runs, and, where Eigen
// vectorizes the op with bit-identical results, kArray = true and arr(), the same op as an Eigen
// array expression used on contiguous runs. Ops whose Eigen packet version rounds differently
// from the scalar one (exp, log, sqrt: Eigen's SSE versions are approximations, and sqrt under
// EIGEN_FAST_MATH is not correctly rounded) stay scalar, so a result never depends on the layout.
#pragma once

#include <cmath>

#include <Eigen/Core>

namespace ember::kernels::cpu::ops {

// ---- Unary ----------------------------------------------------------------------------------

struct Neg {
  static constexpr bool kArray = true;
  template <typename T> static T f(T x) { return -x; }
  template <typename A> static auto arr(const A& a) { return -a; }
};

struct Exp {
  static constexpr bool kArray = false;
  template <typename T> static T f(T x) { return std::exp(x); }
};

struct Log {
  static constexpr bool kArray = false;
  template <typename T> static T f(T x) { return std::log(x); }
};

struct Sqrt {
  static constexpr bool kArray = false;
  template <typename T> static T f(T x) { return std::sqrt(x); }
};

// max(x, 0) that keeps NaN, as torch.relu does (a plain max would drop it).
struct Relu {
  static constexpr bool kArray = false;
  template <typename T> static T f(T x) { return (x > T(0) || std::isnan(x)) ? x : T(0); }
};

// Eigen's tanh: for float a rational approximation (a few ulp) about 8x faster than tanhf, and
// numext::tanh is the same approximation, so strided and contiguous runs agree. For double both
// are std::tanh.
struct Tanh {
  static constexpr bool kArray = true;
  template <typename T> static T f(T x) { return Eigen::numext::tanh(x); }
  template <typename A> static auto arr(const A& a) { return a.tanh(); }
};

// 1 / (1 + exp(-x)), PyTorch's CPU formula. For very negative x, exp(-x) overflows to inf and the
// result is 0, not NaN; for very positive x it is exactly 1.
struct Sigmoid {
  static constexpr bool kArray = false;
  template <typename T> static T f(T x) { return T(1) / (T(1) + std::exp(-x)); }
};

struct Abs {
  static constexpr bool kArray = true;
  template <typename T> static T f(T x) { return std::abs(x); }
  template <typename A> static auto arr(const A& a) { return a.abs(); }
};

// -1, 0 or 1; 0 for NaN, as PyTorch's CPU kernel computes it ((0 < x) - (x < 0)).
struct Sign {
  static constexpr bool kArray = false;
  template <typename T> static T f(T x) { return T((T(0) < x) - (x < T(0))); }
};

// pow(x, s) for the scalar exponents PyTorch special-cases (x*x is exact where powf may be off by
// an ulp, and all are much faster than pow).
struct Square {
  static constexpr bool kArray = true;
  template <typename T> static T f(T x) { return x * x; }
  template <typename A> static auto arr(const A& a) { return a * a; }
};

struct Cube {
  static constexpr bool kArray = true;
  template <typename T> static T f(T x) { return x * x * x; }
  template <typename A> static auto arr(const A& a) { return a * a * a; }
};

struct Reciprocal {
  static constexpr bool kArray = true;
  template <typename T> static T f(T x) { return T(1) / x; }
  template <typename A> static auto arr(const A& a) { return a.inverse(); }
};

// ---- Binary ---------------------------------------------------------------------------------

struct Add {
  static constexpr bool kArray = true;
  template <typename T> static T f(T a, T b) { return a + b; }
  template <typename A, typename B> static auto arr(const A& a, const B& b) { return a + b; }
};

struct Sub {
  static constexpr bool kArray = true;
  template <typename T> static T f(T a, T b) { return a - b; }
  template <typename A, typename B> static auto arr(const A& a, const B& b) { return a - b; }
};

struct Mul {
  static constexpr bool kArray = true;
  template <typename T> static T f(T a, T b) { return a * b; }
  template <typename A, typename B> static auto arr(const A& a, const B& b) { return a * b; }
};

struct Div {
  static constexpr bool kArray = true;
  template <typename T> static T f(T a, T b) { return a / b; }
  template <typename A, typename B> static auto arr(const A& a, const B& b) { return a / b; }
};

struct Pow {
  static constexpr bool kArray = false;
  template <typename T> static T f(T a, T b) { return std::pow(a, b); }
};

// NaN if either input is NaN, as torch.maximum / torch.minimum.
struct Maximum {
  static constexpr bool kArray = false;
  template <typename T> static T f(T a, T b) { return (a > b || std::isnan(a)) ? a : b; }
};

struct Minimum {
  static constexpr bool kArray = false;
  template <typename T> static T f(T a, T b) { return (a < b || std::isnan(a)) ? a : b; }
};

struct Eq {
  static constexpr bool kArray = false;
  template <typename T> static T f(T a, T b) { return a == b ? T(1) : T(0); }
};

struct Gt {
  static constexpr bool kArray = false;
  template <typename T> static T f(T a, T b) { return a > b ? T(1) : T(0); }
};

// (grad, x): grad where x > 0, else 0 (even when grad is inf or NaN, as threshold_backward).
struct ReluBackward {
  static constexpr bool kArray = false;
  template <typename T> static T f(T g, T x) { return x > T(0) ? g : T(0); }
};

// (grad, y = tanh(x)): grad * (1 - y^2), in PyTorch's order of operations.
struct TanhBackward {
  static constexpr bool kArray = true;
  template <typename T> static T f(T g, T y) { return g * (T(1) - y * y); }
  template <typename A, typename B> static auto arr(const A& g, const B& y) {
    using T = typename A::Scalar;
    return g * (T(1) - y * y);
  }
};

// (grad, y = sigmoid(x)): grad * (1 - y) * y, in PyTorch's order of operations.
struct SigmoidBackward {
  static constexpr bool kArray = true;
  template <typename T> static T f(T g, T y) { return g * (T(1) - y) * y; }
  template <typename A, typename B> static auto arr(const A& g, const B& y) {
    using T = typename A::Scalar;
    return g * (T(1) - y) * y;
  }
};

}  // namespace ember::kernels::cpu::ops
