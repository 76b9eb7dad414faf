// The element functions of the element-wise ops, as device functors. Each takes and returns the
// element type T (float or double) and is written exactly as its op is documented in
// kernels/backend.h, so a reader can check the math against the contract in one place.
#pragma once

#include <cmath>

#include "ember/core/error.h"
#include "ember/kernels/backend.h"
#include "ember/kernels/cuda/exact_math.cuh"

namespace ember::kernels::cuda_impl::ops {

// --- Unary ---------------------------------------------------------------------------------
struct Neg {
  template <typename T> __device__ T operator()(T x) const { return -x; }
};
struct Exp {
  template <typename T> __device__ T operator()(T x) const { return std::exp(x); }
};
struct Log {
  template <typename T> __device__ T operator()(T x) const { return std::log(x); }
};
struct Sqrt {
  template <typename T> __device__ T operator()(T x) const { return std::sqrt(x); }
};
struct Relu {  // max(x, 0) keeping NaN, as torch.relu (and the CPU backend)
  template <typename T> __device__ T operator()(T x) const { return (x > T(0) || std::isnan(x)) ? x : T(0); }
};
struct Tanh {
  template <typename T> __device__ T operator()(T x) const { return std::tanh(x); }
};
struct Sigmoid {  // 1 / (1 + e^-x), written so that exp never overflows
  template <typename T> __device__ T operator()(T x) const {
    if (x >= T(0)) return T(1) / (T(1) + std::exp(-x));
    const T e = std::exp(x);  // x < 0: e in (0, 1)
    return e / (T(1) + e);
  }
};
struct Abs {
  template <typename T> __device__ T operator()(T x) const { return std::fabs(x); }
};
struct Sign {  // -1, 0 or 1; as torch.sign, NaN gives 0
  template <typename T> __device__ T operator()(T x) const {
    return static_cast<T>((T(0) < x) - (x < T(0)));
  }
};

// --- Binary --------------------------------------------------------------------------------
struct Add {
  template <typename T> __device__ T operator()(T a, T b) const { return a + b; }
};
struct Sub {
  template <typename T> __device__ T operator()(T a, T b) const { return a - b; }
};
struct Mul {
  template <typename T> __device__ T operator()(T a, T b) const { return a * b; }
};
struct Div {
  template <typename T> __device__ T operator()(T a, T b) const { return a / b; }
};
struct Pow {
  template <typename T> __device__ T operator()(T a, T b) const { return std::pow(a, b); }
};
struct Maximum {  // NaN in either operand gives NaN (torch.maximum)
  template <typename T> __device__ T operator()(T a, T b) const {
    if (std::isnan(a) || std::isnan(b)) return a + b;
    return a > b ? a : b;
  }
};
struct Minimum {
  template <typename T> __device__ T operator()(T a, T b) const {
    if (std::isnan(a) || std::isnan(b)) return a + b;
    return a < b ? a : b;
  }
};
struct Eq {
  template <typename T> __device__ T operator()(T a, T b) const { return a == b ? T(1) : T(0); }
};
struct Gt {
  template <typename T> __device__ T operator()(T a, T b) const { return a > b ? T(1) : T(0); }
};
struct ReluBackward {  // (grad, x): the gradient passes where the input was positive
  template <typename T> __device__ T operator()(T g, T x) const { return x > T(0) ? g : T(0); }
};
struct TanhBackward {  // (grad, y = tanh(x)): d tanh / dx = 1 - y^2 (rounded as the CPU does, no FMA)
  template <typename T> __device__ T operator()(T g, T y) const { return g * exact::sub(T(1), exact::mul(y, y)); }
};
struct SigmoidBackward {  // (grad, y = sigmoid(x)): d sigmoid / dx = y (1 - y), in PyTorch's order
  template <typename T> __device__ T operator()(T g, T y) const { return g * (T(1) - y) * y; }
};

// Calls fn with the functor for `op` (a runtime enum becomes a template argument here only).
template <typename Fn> void dispatch(UnaryOp op, Fn&& fn) {
  switch (op) {
    case UnaryOp::Neg: return fn(Neg{});
    case UnaryOp::Exp: return fn(Exp{});
    case UnaryOp::Log: return fn(Log{});
    case UnaryOp::Sqrt: return fn(Sqrt{});
    case UnaryOp::Relu: return fn(Relu{});
    case UnaryOp::Tanh: return fn(Tanh{});
    case UnaryOp::Sigmoid: return fn(Sigmoid{});
    case UnaryOp::Abs: return fn(Abs{});
    case UnaryOp::Sign: return fn(Sign{});
  }
  EMBER_FAIL("ember (CUDA backend): unknown unary op ", static_cast<int>(op));
}

template <typename Fn> void dispatch(BinaryOp op, Fn&& fn) {
  switch (op) {
    case BinaryOp::Add: return fn(Add{});
    case BinaryOp::Sub: return fn(Sub{});
    case BinaryOp::Mul: return fn(Mul{});
    case BinaryOp::Div: return fn(Div{});
    case BinaryOp::Pow: return fn(Pow{});
    case BinaryOp::Maximum: return fn(Maximum{});
    case BinaryOp::Minimum: return fn(Minimum{});
    case BinaryOp::Eq: return fn(Eq{});
    case BinaryOp::Gt: return fn(Gt{});
    case BinaryOp::ReluBackward: return fn(ReluBackward{});
    case BinaryOp::TanhBackward: return fn(TanhBackward{});
    case BinaryOp::SigmoidBackward: return fn(SigmoidBackward{});
  }
  EMBER_FAIL("ember (CUDA backend): unknown binary op ", static_cast<int>(op));
}

}  // namespace ember::kernels::cuda_impl::ops
