// Negative log-likelihood and its input gradient on the CPU (kernels/kernel_args.h, NllArgs).
#include <cstdint>
#include <cstring>

#include "ember/core/dtype.h"
#include "ember/core/error.h"
#include "ember/kernels/cpu/cpu_kernels.h"

namespace ember::kernels::cpu {

namespace {

// The class of element e, checked: ignore_index, or a class in [0, classes).
std::int64_t class_of(const std::int64_t* target, std::int64_t e, std::int64_t classes, std::int64_t ignore_index) {
  const std::int64_t t = target[e];
  EMBER_CHECK(t == ignore_index || (t >= 0 && t < classes), "nll_loss: target ", t, " at position ", e,
              " is out of range: classes are 0 to ", classes - 1, " (ignore_index is ", ignore_index, ")");
  return t;
}

template <typename T> void nll_typed(const NllArgs& a) {
  using C = compute_t<T>;
  const std::int64_t n = a.input.sizes[0], classes = a.input.sizes[1], d = a.input.sizes[2];
  const T* x = a.input.ptr<const T>();
  const auto* target = a.target.ptr<const std::int64_t>();
  const T* w = a.weight.data != nullptr ? a.weight.ptr<const T>() : nullptr;
  T* out = a.out.ptr<T>();
  double sum = 0.0, total_weight = 0.0;
  for (std::int64_t i = 0; i < n; ++i) {
    for (std::int64_t j = 0; j < d; ++j) {
      const std::int64_t e = i * d + j;
      const std::int64_t t = class_of(target, e, classes, a.ignore_index);
      if (t == a.ignore_index) {
        if (a.reduction == LossReduction::None) out[e] = T(0);
        continue;
      }
      const C weight = w != nullptr ? static_cast<C>(w[t]) : C(1);
      const C loss = -weight * static_cast<C>(x[(i * classes + t) * d + j]);
      if (a.reduction == LossReduction::None) out[e] = T(loss);
      sum += static_cast<double>(loss);
      total_weight += static_cast<double>(weight);
    }
  }
  a.total_weight.ptr<T>()[0] = T(static_cast<C>(total_weight));
  if (a.reduction == LossReduction::Sum) out[0] = T(static_cast<C>(sum));
  if (a.reduction == LossReduction::Mean) out[0] = T(static_cast<C>(sum) / static_cast<C>(total_weight));
}

template <typename T> void nll_backward_typed(const NllBackwardArgs& a) {
  using C = compute_t<T>;
  const std::int64_t n = a.grad_input.sizes[0], classes = a.grad_input.sizes[1], d = a.grad_input.sizes[2];
  const auto* target = a.target.ptr<const std::int64_t>();
  const T* w = a.weight.data != nullptr ? a.weight.ptr<const T>() : nullptr;
  const T* g = a.grad_out.ptr<const T>();
  T* gi = a.grad_input.ptr<T>();
  std::memset(static_cast<void*>(gi), 0, static_cast<std::size_t>(n * classes * d) * sizeof(T));
  C scale = a.reduction == LossReduction::None ? C(0) : static_cast<C>(g[0]);
  if (a.reduction == LossReduction::Mean) scale /= static_cast<C>(a.total_weight.ptr<const T>()[0]);
  for (std::int64_t i = 0; i < n; ++i) {
    for (std::int64_t j = 0; j < d; ++j) {
      const std::int64_t e = i * d + j;
      const std::int64_t t = class_of(target, e, classes, a.ignore_index);
      if (t == a.ignore_index) continue;
      const C weight = w != nullptr ? static_cast<C>(w[t]) : C(1);
      const C ge = a.reduction == LossReduction::None ? static_cast<C>(g[e]) : scale;
      gi[(i * classes + t) * d + j] = T(-weight * ge);
    }
  }
}

}  // namespace

void nll_loss(int /*device*/, const NllArgs& args) {
  check_nll_args(args, "CPU backend");
  dispatch_arithmetic(args.input.dtype, "nll_loss", [&](auto tag) { nll_typed<decltype(tag)>(args); });
}

void nll_loss_backward(int /*device*/, const NllBackwardArgs& args) {
  dispatch_arithmetic(args.grad_input.dtype, "nll_loss backward",
                      [&](auto tag) { nll_backward_typed<decltype(tag)>(args); });
}

}  // namespace ember::kernels::cpu
