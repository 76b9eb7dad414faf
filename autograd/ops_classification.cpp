// softmax, log_softmax, argmax, nll_loss and cross_entropy with their backward.
#include <cmath>

#include "ember/autograd/factories.h"
#include "ember/autograd/public_ops.h"
#include "ember/autograd/record.h"
#include "ember/core/ops.h"

namespace ember {

using autograd::Grads;
using autograd::record;
using autograd::SavedTensor;

namespace {

kernels::LossReduction kernel_reduction(Reduction r) {
  switch (r) {
    case Reduction::None: return kernels::LossReduction::None;
    case Reduction::Sum: return kernels::LossReduction::Sum;
    case Reduction::Mean: break;
  }
  return kernels::LossReduction::Mean;
}

Tensor softmax_impl(const Tensor& x, std::int64_t dim, bool log) {
  Tensor out = ops::softmax(x, dim, log);
  if (autograd::any_requires_grad({&x})) {
    // The backward reads the output only (a detached view: the node must not own its output).
    record(log ? "LogSoftmaxBackward" : "SoftmaxBackward", out, {&x},
           [y = SavedTensor(out.detach()), dim, log](const Tensor& g, Grads& grads) {
             grads[0] = ops::softmax_backward(g, y.get(log ? "log_softmax" : "softmax"), dim, log);
           });
  }
  return out;
}

// nll_loss, and the total weight its mean divides by (cross_entropy's label smoothing needs it).
ops::NllResult nll_impl(const Tensor& input, const Tensor& target, const NLLLossOptions& options) {
  const kernels::LossReduction reduction = kernel_reduction(options.reduction);
  ops::NllResult result = ops::nll_loss(input, target, options.weight, options.ignore_index, reduction);
  if (autograd::any_requires_grad({&input})) {
    record("NllLossBackward", result.loss, {&input},
           [input_shape = input.shape(), t = SavedTensor(target), w = SavedTensor(options.weight),
            total = SavedTensor(Tensor(result.total_weight)), ignore = options.ignore_index,
            reduction](const Tensor& g, Grads& grads) {
             // The input gradient depends on the input's shape only, not on its values.
             grads[0] = ops::nll_loss_backward(g, input_shape, t.get("nll_loss"), w.get("nll_loss"),
                                               total.get("nll_loss"), ignore, reduction);
           });
  }
  return result;
}

}  // namespace

Tensor softmax(const Tensor& x, std::int64_t dim) { return softmax_impl(x, dim, false); }
Tensor log_softmax(const Tensor& x, std::int64_t dim) { return softmax_impl(x, dim, true); }

Tensor argmax(const Tensor& x) { return ops::argmax(x, std::nullopt, false); }
Tensor argmax(const Tensor& x, std::int64_t dim, bool keepdim) { return ops::argmax(x, dim, keepdim); }

Tensor nll_loss(const Tensor& input, const Tensor& target, const NLLLossOptions& options) {
  return nll_impl(input, target, options).loss;
}

Tensor cross_entropy(const Tensor& input, const Tensor& target, const CrossEntropyOptions& options) {
  const double eps = options.label_smoothing;
  EMBER_CHECK(eps >= 0.0 && eps <= 1.0, "cross_entropy: label_smoothing must be in [0, 1], got ", eps);
  EMBER_CHECK(input.dim() >= 1, "cross_entropy: input must have a class dim, got shape ", input.shape());
  const int class_dim = input.dim() == 1 ? 0 : 1;
  const std::int64_t classes = input.shape()[class_dim];
  const Tensor logp = log_softmax(input, class_dim);
  // The class weights shaped to broadcast along the class dim: [C, 1, ...].
  Tensor weight_along_classes;
  if (options.weight.defined()) {
    Shape s(std::vector<std::int64_t>(static_cast<std::size_t>(input.dim() - class_dim), 1));
    s[0] = classes;
    weight_along_classes = options.weight.reshape(s);
  }

  if (target.dtype() != kInt64) {
    // Class probabilities, of the input's shape: -sum_c w_c q_c log p_c per example, where
    // q = (1 - eps) target + eps / C; the mean divides by the number of examples.
    EMBER_CHECK(target.shape() == input.shape(), "cross_entropy: probabilities as target must have the input's shape ",
                input.shape(), ", got ", target.shape(), " (class indices must be int64)");
    const Tensor q = eps > 0.0 ? target * (1.0 - eps) + eps / static_cast<double>(classes) : target;
    Tensor per_class = logp * q;
    if (weight_along_classes.defined()) per_class = per_class * weight_along_classes;
    const Tensor per_example = -per_class.sum(class_dim);
    switch (options.reduction) {
      case Reduction::None: return per_example;
      case Reduction::Sum: return per_example.sum();
      case Reduction::Mean: break;
    }
    return per_example.sum() / static_cast<double>(input.numel() / std::max<std::int64_t>(classes, 1));
  }

  const ops::NllResult nll =
      nll_impl(logp, target, {.weight = options.weight, .ignore_index = options.ignore_index, .reduction = options.reduction});
  const Tensor nll_loss = nll.loss;
  if (eps == 0.0) return nll_loss;
  // Label smoothing, as PyTorch computes it: (1 - eps) nll + eps / C * smooth, smooth being
  // -sum_c w_c log p_c per element (0 where the target is ignored), reduced as the loss is, its
  // mean divided by the same total weight as nll's.
  Tensor per_class = weight_along_classes.defined() ? logp * weight_along_classes : logp;
  Tensor smooth = -per_class.sum(class_dim);
  const Tensor kept = ne(target, full(target.shape(), static_cast<double>(options.ignore_index),
                                      TensorOptions(kInt64).device(target.device())))
                          .to(input.dtype());
  smooth = smooth * kept;
  Tensor reduced;
  switch (options.reduction) {
    case Reduction::None: reduced = smooth; break;
    case Reduction::Sum: reduced = smooth.sum(); break;
    case Reduction::Mean: reduced = smooth.sum() / Tensor(nll.total_weight); break;
  }
  return nll_loss * (1.0 - eps) + reduced * (eps / static_cast<double>(classes));
}

}  // namespace ember
