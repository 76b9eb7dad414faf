// The element-wise ops, listed once. Each list is an X-macro: X(Name, function), where Name is the
// op's enum value and its functor in kernels/elementwise_math.h, and `function` is the name of the
// user-facing function (ember::function(x), in autograd/public_ops.h) and of the Tensor method.
//
// Everything about an op that is not its math is generated from these lists: the enums, the
// printed names, the backends' dispatch (math::visit, used by the CPU loops and the CUDA kernels),
// the Tensor methods and, for unary ops, the differentiable function with its backward node.
// Adding an element-wise op is: one line here, its functor (value and derivative) in
// elementwise_math.h, and its test. docs/adding-an-op.md walks through it.
#pragma once

#include <cstdint>

// Functions of one tensor. Each functor gives the value and, beside it, the derivative.
#define EMBER_UNARY_OPS(X) \
  X(Neg, neg)              \
  X(Exp, exp)              \
  X(Log, log)              \
  X(Sqrt, sqrt)            \
  X(Abs, abs)              \
  X(Sign, sign)            \
  X(Square, square)        \
  X(Reciprocal, reciprocal) \
  X(Relu, relu)            \
  X(Tanh, tanh)            \
  X(Sigmoid, sigmoid)      \
  X(Gelu, gelu)            \
  X(GeluTanh, gelu_tanh)   \
  X(Silu, silu)

// Functions of two tensors (broadcast) or of a tensor and a scalar. Their backward formulas are
// compositions of these ops, written in autograd/ops_elementwise.cpp. The comparisons (Eq to Ge)
// have none; they work on every dtype and give a kBool tensor.
#define EMBER_BINARY_OPS(X) \
  X(Add, add)               \
  X(Sub, sub)               \
  X(Mul, mul)               \
  X(Div, div)               \
  X(Pow, pow)               \
  X(Maximum, maximum)       \
  X(Minimum, minimum)       \
  X(Eq, eq)                 \
  X(Ne, ne)                 \
  X(Gt, gt)                 \
  X(Ge, ge)                 \
  X(Lt, lt)                 \
  X(Le, le)

namespace ember::kernels {

#define EMBER_OP_ENUM(Name, function) Name,
enum class UnaryOp : std::uint8_t { EMBER_UNARY_OPS(EMBER_OP_ENUM) };
enum class BinaryOp : std::uint8_t { EMBER_BINARY_OPS(EMBER_OP_ENUM) };
#undef EMBER_OP_ENUM

#define EMBER_OP_COUNT(Name, function) +1
inline constexpr int kUnaryOpCount = 0 EMBER_UNARY_OPS(EMBER_OP_COUNT);
inline constexpr int kBinaryOpCount = 0 EMBER_BINARY_OPS(EMBER_OP_COUNT);
#undef EMBER_OP_COUNT
// Tripwires: a test sweeps every op (tests/elementwise_math_test.cpp) and docs/adding-an-op.md
// lists them; moving these numbers is the reminder to extend both.
static_assert(kUnaryOpCount == 14, "a unary op was added or removed: update the sweep test and docs");
static_assert(kBinaryOpCount == 13, "a binary op was added or removed: update the sweep test and docs");

// The user-facing name ("gelu_tanh"), for messages.
constexpr const char* op_name(UnaryOp op) {
#define EMBER_OP_NAME(Name, function) #function,
  constexpr const char* kNames[] = {EMBER_UNARY_OPS(EMBER_OP_NAME)};
#undef EMBER_OP_NAME
  return kNames[static_cast<int>(op)];
}
constexpr const char* op_name(BinaryOp op) {
#define EMBER_OP_NAME(Name, function) #function,
  constexpr const char* kNames[] = {EMBER_BINARY_OPS(EMBER_OP_NAME)};
#undef EMBER_OP_NAME
  return kNames[static_cast<int>(op)];
}
// The autograd node's name ("GeluTanhBackward"), as PyTorch names its nodes.
constexpr const char* backward_name(UnaryOp op) {
#define EMBER_OP_NAME(Name, function) #Name "Backward",
  constexpr const char* kNames[] = {EMBER_UNARY_OPS(EMBER_OP_NAME)};
#undef EMBER_OP_NAME
  return kNames[static_cast<int>(op)];
}

}  // namespace ember::kernels
