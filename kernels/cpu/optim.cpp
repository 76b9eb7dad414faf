// Optimizer steps on the CPU: torch.optim.Adam / AdamW and torch.optim.SGD, element by element.
//
// These follow PyTorch 2.x's single-tensor (foreach=False, fused=False) code path op by op, so a
// float32 run tracks PyTorch's float32 trajectory to rounding:
//  - host-side scalars (bias corrections, step size, 1 - lr * weight_decay, ...) are computed in
//    double, as Python computes them, and then rounded to the tensor's dtype, as ATen rounds a
//    Python number combined with a float tensor;
//  - each tensor op's result is rounded to the dtype before the next op uses it, in the operand
//    order of the ATen CPU kernel (add with alpha: a + alpha * b; addcmul: a + v * b * c;
//    addcdiv: a + v * b / c; lerp: the small/large-weight branches of at::native::lerp).
// One known difference: ATen's AVX2/AVX-512 kernels evaluate add-with-alpha and lerp with a fused
// multiply-add on full vectors (not on the scalar tail), which rounds once where this code rounds
// twice; the two differ by at most an ulp per op.
#include <cmath>

#include "ember/core/dtype.h"
#include "ember/core/error.h"
#include "ember/kernels/cpu/cpu_kernels.h"

namespace ember::kernels::cpu {

namespace {

void check_state(const TensorRef& param, const TensorRef& other, const char* what, const char* op) {
  EMBER_CHECK(other.dtype == param.dtype && other.numel() == param.numel() &&
                  other.is_contiguous() && param.is_contiguous(),
              "ember: cpu ", op, ": ", what, " (", dtype_name(other.dtype), ", sizes ",
              other.sizes.str(), ") must be contiguous with the parameter's dtype and numel (",
              dtype_name(param.dtype), ", sizes ", param.sizes.str(), ")");
}

// at::native::lerp(self, end, weight) for a scalar weight, in T.
template <typename T> T lerp(T self, T end, T weight) {
  return std::abs(weight) < T(0.5) ? self + weight * (end - self)
                                   : end - (end - self) * (T(1) - weight);
}

// torch.maximum: NaN if either is NaN.
template <typename T> T maximum(T a, T b) { return (a > b || std::isnan(a)) ? a : b; }

template <typename T>
void adam_tensor(const AdamArgs& args, const TensorRef& param, const TensorRef& grad,
                 const TensorRef& exp_avg, const TensorRef& exp_avg_sq,
                 const TensorRef* max_exp_avg_sq) {
  // The Python-side scalars, in double (torch.optim.adam._single_tensor_adam).
  const double step = static_cast<double>(args.step);
  const double bias_correction1 = 1.0 - std::pow(args.beta1, step);
  const double bias_correction2 = 1.0 - std::pow(args.beta2, step);
  const double step_size = args.lr / bias_correction1;
  const double bias_correction2_sqrt = std::sqrt(bias_correction2);

  // ...each rounded to T where it meets a tensor.
  const bool has_wd = args.weight_decay != 0.0;
  const T decay = static_cast<T>(1.0 - args.lr * args.weight_decay);  // param.mul_(1 - lr*wd)
  const T wd = static_cast<T>(args.weight_decay);                     // grad.add(param, alpha=wd)
  const T w1 = static_cast<T>(1.0 - args.beta1);                      // exp_avg.lerp_(grad, 1-b1)
  const T beta2 = static_cast<T>(args.beta2);                         // exp_avg_sq.mul_(b2)
  const T one_minus_beta2 = static_cast<T>(1.0 - args.beta2);         // .addcmul_(g, g, 1-b2)
  const T bc2_sqrt = static_cast<T>(bias_correction2_sqrt);           // sqrt() / bc2_sqrt
  const T eps = static_cast<T>(args.eps);                             // .add_(eps)
  const T neg_step_size = static_cast<T>(-step_size);                 // addcdiv_(value=-step_size)

  T* p = param.ptr<T>();
  const T* g = grad.ptr<T>();
  T* m = exp_avg.ptr<T>();
  T* v = exp_avg_sq.ptr<T>();
  T* vmax = max_exp_avg_sq != nullptr ? max_exp_avg_sq->ptr<T>() : nullptr;
  const std::int64_t n = param.numel();
  for (std::int64_t i = 0; i < n; ++i) {
    T gi = args.maximize ? -g[i] : g[i];
    T pi = p[i];
    if (has_wd) {
      if (args.decoupled_weight_decay) {
        pi = pi * decay;
      } else {
        gi = gi + wd * pi;
      }
    }
    const T mi = lerp(m[i], gi, w1);
    T vi = v[i] * beta2;
    vi = vi + one_minus_beta2 * gi * gi;
    m[i] = mi;
    v[i] = vi;
    if (vmax != nullptr) {
      vi = maximum(vmax[i], vi);
      vmax[i] = vi;
    }
    const T denom = std::sqrt(vi) / bc2_sqrt + eps;
    p[i] = pi + neg_step_size * mi / denom;
  }
}

template <typename T>
void sgd_tensor(const SgdArgs& args, const TensorRef& param, const TensorRef& grad,
                const TensorRef* momentum_buffer) {
  const bool has_wd = args.weight_decay != 0.0;
  const T wd = static_cast<T>(args.weight_decay);                  // grad.add(param, alpha=wd)
  const T momentum = static_cast<T>(args.momentum);                // buf.mul_(momentum)
  const T one_minus_damp = static_cast<T>(1.0 - args.dampening);   // .add_(grad, alpha=1-damp)
  const T neg_lr = static_cast<T>(-args.lr);                       // param.add_(grad, alpha=-lr)

  T* p = param.ptr<T>();
  const T* g = grad.ptr<T>();
  T* buf = momentum_buffer != nullptr ? momentum_buffer->ptr<T>() : nullptr;
  const std::int64_t n = param.numel();
  for (std::int64_t i = 0; i < n; ++i) {
    T gi = args.maximize ? -g[i] : g[i];
    if (has_wd) gi = gi + wd * p[i];
    if (buf != nullptr) {
      // First step: the buffer is a clone of the gradient (no dampening), as PyTorch does.
      const T bi = args.first_step ? gi : buf[i] * momentum + one_minus_damp * gi;
      buf[i] = bi;
      gi = args.nesterov ? gi + momentum * bi : bi;
    }
    p[i] = p[i] + neg_lr * gi;
  }
}

}  // namespace

void adam(int /*device*/, const AdamArgs& args) {
  const std::size_t count = args.params.size();
  EMBER_CHECK(args.grads.size() == count && args.exp_avg.size() == count &&
                  args.exp_avg_sq.size() == count &&
                  (args.amsgrad ? args.max_exp_avg_sq.size() == count
                                : args.max_exp_avg_sq.empty()),
              "ember: cpu adam: ", count, " params but ", args.grads.size(), " grads, ",
              args.exp_avg.size(), " exp_avg, ", args.exp_avg_sq.size(), " exp_avg_sq and ",
              args.max_exp_avg_sq.size(), " max_exp_avg_sq (amsgrad=", args.amsgrad, ")");
  EMBER_CHECK(args.step >= 1, "ember: cpu adam: step must be >= 1, got ", args.step);
  EMBER_CHECK(args.steps.empty(), "ember: cpu adam: step counters on the device are for CUDA "
              "(capturable Adam); CPU parameters count steps on the host");
  for (std::size_t k = 0; k < count; ++k) {
    const TensorRef& param = args.params[k];
    check_state(param, args.grads[k], "grad", "adam");
    check_state(param, args.exp_avg[k], "exp_avg", "adam");
    check_state(param, args.exp_avg_sq[k], "exp_avg_sq", "adam");
    const TensorRef* vmax = args.amsgrad ? &args.max_exp_avg_sq[k] : nullptr;
    if (vmax != nullptr) check_state(param, *vmax, "max_exp_avg_sq", "adam");
    dispatch_float32_64(param.dtype, "adam", [&](auto tag) {
      adam_tensor<decltype(tag)>(args, param, args.grads[k], args.exp_avg[k], args.exp_avg_sq[k],
                                 vmax);
    });
  }
}

void sgd(int /*device*/, const SgdArgs& args) {
  const std::size_t count = args.params.size();
  const bool has_momentum = args.momentum != 0.0;
  EMBER_CHECK(args.grads.size() == count &&
                  args.momentum_buffers.size() == (has_momentum ? count : 0),
              "ember: cpu sgd: ", count, " params but ", args.grads.size(), " grads and ",
              args.momentum_buffers.size(), " momentum buffers (momentum=", args.momentum, ")");
  for (std::size_t k = 0; k < count; ++k) {
    const TensorRef& param = args.params[k];
    check_state(param, args.grads[k], "grad", "sgd");
    const TensorRef* buf = has_momentum ? &args.momentum_buffers[k] : nullptr;
    if (buf != nullptr) check_state(param, *buf, "momentum buffer", "sgd");
    dispatch_float32_64(param.dtype, "sgd", [&](auto tag) {
      sgd_tensor<decltype(tag)>(args, param, args.grads[k], buf);
    });
  }
}

}  // namespace ember::kernels::cpu
