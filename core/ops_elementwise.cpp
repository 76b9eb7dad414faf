// Element-wise ops: checks, broadcasting and output allocation around the registered kernels.
#include "ember/core/log.h"
#include "ember/core/ops.h"
#include "ember/kernels/elementwise_math.h"

namespace ember::ops {

kernels::TensorRef ref(const TensorBase& t) {
  const TensorImpl& impl = t.impl();
  return {t.raw_data(), impl.dtype, impl.shape, impl.strides};
}

void check_same_dtype_device(const char* op, const TensorBase& a, const TensorBase& b) {
  EMBER_CHECK(a.defined() && b.defined(), op, ": an operand is an undefined tensor");
  EMBER_CHECK(a.device() == b.device(), op, ": operands are on different devices (", a.device(),
              " and ", b.device(), "); move one with .to(device) first");
  EMBER_CHECK(a.dtype() == b.dtype(), op, ": operands have different dtypes (", a.dtype(),
              " and ", b.dtype(), "); convert one with .to(dtype) first");
}

void check_arithmetic_dtype(const char* op, const TensorBase& t) {
  EMBER_CHECK(has_arithmetic(t.dtype()), op, ": dtype ", t.dtype(),
              " is not supported (floating dtypes only: float32, float64, bfloat16, float16); convert "
              "with .to(ember::kFloat32)");
}

namespace {
// The ref of `t` broadcast to `shape`: leading dims added, size-1 dims given stride 0.
kernels::TensorRef broadcast_ref(const TensorBase& t, const Shape& shape) {
  kernels::TensorRef r = ref(t);
  if (r.sizes == shape) return r;
  const int lead = shape.size() - r.sizes.size();
  Strides strides = Shape::filled(shape.size(), 0);
  for (int i = 0; i < r.sizes.size(); ++i) {
    strides[lead + i] = r.sizes[i] == 1 ? 0 : r.strides[i];
  }
  r.sizes = shape;
  r.strides = strides;
  return r;
}
}  // namespace

TensorBase unary(UnaryOp op, const TensorBase& x) {
  check_arithmetic_dtype(kernels::op_name(op), x);
  TensorBase out = empty(x.shape(), x.options());
  if (x.numel() > 0) kernels::call<kernels::Kernel::unary>(x.device(), op, ref(out), ref(x));
  return out;
}

TensorBase unary_backward(UnaryOp op, const TensorBase& g, const TensorBase& saved) {
  const TensorBase& s = saved.defined() ? saved : g;
  check_same_dtype_device(kernels::backward_name(op), g, s);
  check_arithmetic_dtype(kernels::backward_name(op), g);
  EMBER_CHECK(g.shape() == s.shape(), kernels::backward_name(op), ": gradient of shape ", g.shape(),
              " for an output of shape ", s.shape());
  TensorBase out = empty(g.shape(), g.options());
  if (out.numel() > 0) kernels::call<kernels::Kernel::unary_backward>(g.device(), op, ref(out), ref(g), ref(s));
  return out;
}

TensorBase binary(BinaryOp op, const TensorBase& a, const TensorBase& b, const char* name) {
  check_same_dtype_device(name, a, b);
  if (!kernels::math::returns_bool(op)) check_arithmetic_dtype(name, a);  // comparisons: any dtype
  const Shape shape = broadcast_shapes(a.shape(), b.shape(), name);
  TensorBase out = empty(shape, a.options().dtype(kernels::math::result_dtype(op, a.dtype())));
  if (out.numel() > 0) {
    kernels::call<kernels::Kernel::binary>(a.device(), op, ref(out), broadcast_ref(a, shape), broadcast_ref(b, shape));
  }
  return out;
}

TensorBase binary_scalar(BinaryOp op, const TensorBase& a, double scalar, bool scalar_first, const char* name) {
  check_arithmetic_dtype(name, a);
  if (op == BinaryOp::Pow && !scalar_first) {
    // The exponent rounded to the tensor's dtype, as the kernel would see it.
    const double s = a.dtype() == kFloat32 ? static_cast<double>(static_cast<float>(scalar)) : scalar;
    if (s == 2.0) return unary(UnaryOp::Square, a);
    if (s == 3.0) return binary(BinaryOp::Mul, unary(UnaryOp::Square, a), a, "pow");  // (x * x) * x
    if (s == 0.5) return unary(UnaryOp::Sqrt, a);
    if (s == -1.0) return unary(UnaryOp::Reciprocal, a);
  }
  TensorBase out = empty(a.shape(), a.options().dtype(kernels::math::result_dtype(op, a.dtype())));
  if (out.numel() > 0) {
    kernels::call<kernels::Kernel::binary_scalar>(a.device(), op, ref(out), ref(a), scalar, scalar_first);
  }
  return out;
}

MseResult mse_loss(const TensorBase& input, const TensorBase& target, double divisor, std::optional<double> grad_scale) {
  check_same_dtype_device("mse_loss", input, target);
  check_arithmetic_dtype("mse_loss", input);
  EMBER_CHECK(input.shape() == target.shape(), "mse_loss: input shape ", input.shape(),
              " and target shape ", target.shape(), " differ; they must be equal");
  MseResult result{empty({}, input.options()), grad_scale ? empty(input.shape(), input.options()) : TensorBase()};
  kernels::MseArgs args{.loss = ref(result.loss), .input = ref(input), .target = ref(target), .divisor = divisor};
  if (grad_scale) {
    args.grad_input = ref(result.grad_input);
    args.grad_scale = *grad_scale;
  }
  kernels::call<kernels::Kernel::mse_loss>(input.device(), args);
  return result;
}

void copy_into(const TensorBase& dst, const TensorBase& src) {
  EMBER_CHECK(dst.device() == src.device(), "copy_: tensors are on different devices (",
              dst.device(), " and ", src.device(), ")");
  const Shape shape = broadcast_shapes(dst.shape(), src.shape(), "copy_");
  EMBER_CHECK(shape == dst.shape(), "copy_: source of shape ", src.shape(),
              " does not broadcast to the destination's shape ", dst.shape());
  dst.impl().storage->bump_version();
  if (dst.numel() > 0) {
    kernels::call<kernels::Kernel::copy>(dst.device(), ref(dst), broadcast_ref(src, shape));
  }
}

void fill(const TensorBase& dst, double value) {
  dst.impl().storage->bump_version();
  if (dst.numel() > 0) kernels::call<kernels::Kernel::fill>(dst.device(), ref(dst), value);
}

TensorBase contiguous(const TensorBase& x) { return x.is_contiguous() ? x : clone(x); }

TensorBase clone(const TensorBase& x) {
  TensorBase out = empty(x.shape(), x.options());
  if (x.numel() > 0) kernels::call<kernels::Kernel::copy>(x.device(), ref(out), ref(x));
  return out;
}

TensorBase to_dtype(const TensorBase& x, DType dtype) {
  if (x.dtype() == dtype) return x;
  TensorBase out = empty(x.shape(), x.options().dtype(dtype));
  if (x.numel() > 0) kernels::call<kernels::Kernel::copy>(x.device(), ref(out), ref(x));
  return out;
}

TensorBase to_device(const TensorBase& x, Device device) {
  if (x.device() == device) return x;
  const TensorBase src = contiguous(x);
  TensorBase out = empty(x.shape(), x.options().device(device));
  const std::size_t bytes = static_cast<std::size_t>(x.numel()) * element_size(x.dtype());
  logging::trace("to({}): {} bytes from {}", device.str(), bytes, x.device().str());
  if (bytes == 0) return out;
  if (src.device().is_cpu()) {
    kernels::runtime(device).copy_from_host(out.raw_data(), src.raw_data(), bytes, device.index());
  } else if (device.is_cpu()) {
    kernels::runtime(src.device()).copy_to_host(out.raw_data(), src.raw_data(), bytes, src.device().index());
  } else {
    // Between two GPUs: through the host keeps the device runtime small; peer copies can come later.
    return to_device(to_device(src, Device::cpu()), device);
  }
  return out;
}

}  // namespace ember::ops
