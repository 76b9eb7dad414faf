// Element-wise ops, each with its backward beside it. Broadcasting in the forward becomes
// sum_to in the backward: the gradient of a broadcast input is summed over the broadcast dims.
#include "ember/autograd/public_ops.h"
#include "ember/autograd/record.h"
#include "ember/core/ops.h"
#include "ember/kernels/elementwise_math.h"

namespace ember {

using autograd::Grads;
using autograd::record;
using autograd::SavedTensor;
using kernels::BinaryOp;
using kernels::UnaryOp;

Tensor add(const Tensor& a, const Tensor& b) {
  Tensor out = ops::binary(BinaryOp::Add, a, b, "add");
  if (autograd::any_requires_grad({&a, &b})) {
    record("AddBackward", out, {&a, &b}, [sa = a.shape(), sb = b.shape()](const Tensor& g, Grads& grads) {
      if (grads.needs(0)) grads[0] = ops::sum_to(g, sa);
      if (grads.needs(1)) grads[1] = ops::sum_to(g, sb);
    });
  }
  return out;
}

Tensor sub(const Tensor& a, const Tensor& b) {
  Tensor out = ops::binary(BinaryOp::Sub, a, b, "sub");
  if (autograd::any_requires_grad({&a, &b})) {
    record("SubBackward", out, {&a, &b}, [sa = a.shape(), sb = b.shape()](const Tensor& g, Grads& grads) {
      if (grads.needs(0)) grads[0] = ops::sum_to(g, sa);
      if (grads.needs(1)) grads[1] = ops::sum_to(ops::unary(UnaryOp::Neg, g), sb);
    });
  }
  return out;
}

Tensor mul(const Tensor& a, const Tensor& b) {
  Tensor out = ops::binary(BinaryOp::Mul, a, b, "mul");
  if (autograd::any_requires_grad({&a, &b})) {
    // Each input's gradient needs the other input only.
    SavedTensor saved_a(b.requires_grad() ? a : Tensor()), saved_b(a.requires_grad() ? b : Tensor());
    record("MulBackward", out, {&a, &b},
           [sa = saved_a, sb = saved_b, shape_a = a.shape(), shape_b = b.shape()](const Tensor& g, Grads& grads) {
             if (grads.needs(0)) grads[0] = ops::sum_to(g * sb.get("mul"), shape_a);
             if (grads.needs(1)) grads[1] = ops::sum_to(g * sa.get("mul"), shape_b);
           });
  }
  return out;
}

Tensor div(const Tensor& a, const Tensor& b) {
  Tensor out = ops::binary(BinaryOp::Div, a, b, "div");
  if (autograd::any_requires_grad({&a, &b})) {
    record("DivBackward", out, {&a, &b},
           [sa = SavedTensor(a), sb = SavedTensor(b)](const Tensor& g, Grads& grads) {
             const Tensor& a_ = sa.get("div");
             const Tensor& b_ = sb.get("div");
             if (grads.needs(0)) grads[0] = ops::sum_to(g / b_, a_.shape());
             if (grads.needs(1)) grads[1] = ops::sum_to(-(g * a_) / (b_ * b_), b_.shape());
           });
  }
  return out;
}

Tensor pow(const Tensor& base, const Tensor& exponent) {
  Tensor out = ops::binary(BinaryOp::Pow, base, exponent, "pow");
  if (autograd::any_requires_grad({&base, &exponent})) {
    record("PowBackward", out, {&base, &exponent},
           [sb = SavedTensor(base), se = SavedTensor(exponent), so = SavedTensor(out.detach())](
               const Tensor& g, Grads& grads) {
             const Tensor& b = sb.get("pow");
             const Tensor& e = se.get("pow");
             // d/dbase = e * base^(e-1); d/dexp = base^e * log(base) (NaN for base < 0, as in
             // PyTorch; -inf * 0 at base == 0 is NaN here where PyTorch masks it to 0).
             if (grads.needs(0)) grads[0] = ops::sum_to(g * e * pow(b, e - 1.0), b.shape());
             if (grads.needs(1)) grads[1] = ops::sum_to(g * so.get("pow") * log(b), e.shape());
           });
  }
  return out;
}

Tensor pow(const Tensor& base, double exponent) {
  Tensor out = ops::binary_scalar(BinaryOp::Pow, base, exponent, false, "pow");
  if (autograd::any_requires_grad({&base})) {
    record("PowBackward", out, {&base}, [sb = SavedTensor(base), exponent](const Tensor& g, Grads& grads) {
      if (exponent == 0.0) {
        grads[0] = ops::binary_scalar(BinaryOp::Mul, g, 0.0, false, "pow");
      } else {
        grads[0] = g * (exponent * pow(sb.get("pow"), exponent - 1.0));
      }
    });
  }
  return out;
}

namespace {
// maximum/minimum: the gradient goes to the input that won, half to each on a tie (as PyTorch).
Tensor extremum(BinaryOp op, const char* name, const char* node_name, const Tensor& a, const Tensor& b) {
  Tensor out = ops::binary(op, a, b, name);
  if (autograd::any_requires_grad({&a, &b})) {
    record(node_name, out, {&a, &b},
           [sa = SavedTensor(a), sb = SavedTensor(b), op](const Tensor& g, Grads& grads) {
             const Tensor& a_ = sa.get("maximum/minimum");
             const Tensor& b_ = sb.get("maximum/minimum");
             // The comparisons give kBool masks; as 0/1 in the inputs' dtype they weigh the gradient.
             const Tensor wins = ops::to_dtype(op == BinaryOp::Maximum ? ops::binary(BinaryOp::Gt, a_, b_, "maximum")
                                                                       : ops::binary(BinaryOp::Gt, b_, a_, "minimum"),
                                               a_.dtype());
             const Tensor ties = ops::to_dtype(ops::binary(BinaryOp::Eq, a_, b_, "maximum"), a_.dtype());
             const Tensor share_a = wins + ties * 0.5;
             if (grads.needs(0)) grads[0] = ops::sum_to(g * share_a, a_.shape());
             if (grads.needs(1)) grads[1] = ops::sum_to(g * (1.0 - share_a), b_.shape());
           });
  }
  return out;
}
}  // namespace

Tensor maximum(const Tensor& a, const Tensor& b) { return extremum(BinaryOp::Maximum, "maximum", "MaximumBackward", a, b); }
Tensor minimum(const Tensor& a, const Tensor& b) { return extremum(BinaryOp::Minimum, "minimum", "MinimumBackward", a, b); }

// --- Scalar operands: the scalar is a constant, so only the tensor gets a gradient ------------
namespace {
Tensor scalar_op(BinaryOp op, const Tensor& a, double s, bool scalar_first, const char* name) {
  Tensor out = ops::binary_scalar(op, a, s, scalar_first, name);
  if (autograd::any_requires_grad({&a})) {
    switch (op) {
      case BinaryOp::Add:
        record("AddBackward", out, {&a}, [](const Tensor& g, Grads& grads) { grads[0] = g; });
        break;
      case BinaryOp::Sub:
        record("SubBackward", out, {&a}, [scalar_first](const Tensor& g, Grads& grads) {
          grads[0] = scalar_first ? ops::unary(UnaryOp::Neg, g) : TensorBase(g);
        });
        break;
      case BinaryOp::Mul:
        record("MulBackward", out, {&a}, [s](const Tensor& g, Grads& grads) {
          grads[0] = ops::binary_scalar(BinaryOp::Mul, g, s, false, "mul");
        });
        break;
      case BinaryOp::Div:
        if (scalar_first) {  // d(s / a)/da = -s / a^2 = -out / a
          record("DivBackward", out, {&a}, [sa = SavedTensor(a), so = SavedTensor(out.detach())](const Tensor& g, Grads& grads) {
            grads[0] = -(g * so.get("div")) / sa.get("div");
          });
        } else {
          record("DivBackward", out, {&a}, [s](const Tensor& g, Grads& grads) {
            grads[0] = ops::binary_scalar(BinaryOp::Div, g, s, false, "div");
          });
        }
        break;
      default: EMBER_FAIL(name, ": no backward for this scalar op");
    }
  }
  return out;
}
}  // namespace

Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }
Tensor operator+(const Tensor& a, double s) { return scalar_op(BinaryOp::Add, a, s, false, "add"); }
Tensor operator-(const Tensor& a, double s) { return scalar_op(BinaryOp::Sub, a, s, false, "sub"); }
Tensor operator*(const Tensor& a, double s) { return scalar_op(BinaryOp::Mul, a, s, false, "mul"); }
Tensor operator/(const Tensor& a, double s) { return scalar_op(BinaryOp::Div, a, s, false, "div"); }
Tensor operator+(double s, const Tensor& a) { return scalar_op(BinaryOp::Add, a, s, true, "add"); }
Tensor operator-(double s, const Tensor& a) { return scalar_op(BinaryOp::Sub, a, s, true, "sub"); }
Tensor operator*(double s, const Tensor& a) { return scalar_op(BinaryOp::Mul, a, s, true, "mul"); }
Tensor operator/(double s, const Tensor& a) { return scalar_op(BinaryOp::Div, a, s, true, "div"); }
Tensor operator-(const Tensor& a) { return neg(a); }

// --- Unary functions: one definition for every op of EMBER_UNARY_OPS ---------------------------
// The forward is the op's kernel; the backward is the op's own derivative (its functor's backward in
// kernels/elementwise_math.h), fed with the input or the output, whichever the functor reads.
namespace {
Tensor unary_op(UnaryOp op, const Tensor& x) {
  Tensor out = ops::unary(op, x);
  if (autograd::any_requires_grad({&x})) {
    const kernels::math::Saves saves = kernels::math::saves(op);
    SavedTensor saved(saves == kernels::math::Saves::Input    ? x
                      : saves == kernels::math::Saves::Output ? out.detach()
                                                              : Tensor());
    record(kernels::backward_name(op), out, {&x}, [saved, op](const Tensor& g, Grads& grads) {
      grads[0] = ops::unary_backward(op, g, saved.get(kernels::op_name(op)));
    });
  }
  return out;
}
}  // namespace

#define EMBER_DEFINE_UNARY(Name, function) \
  Tensor function(const Tensor& x) { return unary_op(UnaryOp::Name, x); }
EMBER_UNARY_OPS(EMBER_DEFINE_UNARY)
#undef EMBER_DEFINE_UNARY

Tensor eq(const Tensor& a, const Tensor& b) { return ops::binary(BinaryOp::Eq, a, b, "eq"); }
Tensor ne(const Tensor& a, const Tensor& b) { return ops::binary(BinaryOp::Ne, a, b, "ne"); }
Tensor gt(const Tensor& a, const Tensor& b) { return ops::binary(BinaryOp::Gt, a, b, "gt"); }
Tensor ge(const Tensor& a, const Tensor& b) { return ops::binary(BinaryOp::Ge, a, b, "ge"); }
Tensor lt(const Tensor& a, const Tensor& b) { return ops::binary(BinaryOp::Lt, a, b, "lt"); }
Tensor le(const Tensor& a, const Tensor& b) { return ops::binary(BinaryOp::Le, a, b, "le"); }

}  // namespace ember
