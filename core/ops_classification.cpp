// Softmax, log-softmax, argmax and the negative log-likelihood: the ops behind classification.
// Each views its input as [outer, n, inner] around one dim (a contiguous copy when it is not
// contiguous already) so that one kernel signature serves every dim.
#include <algorithm>

#include "ember/core/ops.h"

namespace ember::ops {

namespace {

// t (contiguous) as [outer, t.size(dim), inner].
kernels::TensorRef lines_ref(const TensorBase& t, int dim) {
  std::int64_t outer = 1, inner = 1;
  for (int d = 0; d < dim; ++d) outer *= t.shape()[d];
  for (int d = dim + 1; d < t.dim(); ++d) inner *= t.shape()[d];
  const std::int64_t n = t.dim() == 0 ? 1 : t.shape()[dim];
  const Shape sizes{outer, n, inner};
  return {t.raw_data(), t.dtype(), sizes, contiguous_strides(sizes)};
}

int softmax_dim(const TensorBase& x, std::int64_t dim, const char* name) {
  return x.dim() == 0 ? 0 : wrap_dim(dim, x.dim(), name);  // a 0-d tensor is one line of one
}

}  // namespace

TensorBase softmax(const TensorBase& x, std::int64_t dim, bool log) {
  const char* name = log ? "log_softmax" : "softmax";
  check_arithmetic_dtype(name, x);
  const int d = softmax_dim(x, dim, name);
  const TensorBase in = contiguous(x);
  TensorBase out = empty(x.shape(), x.options());
  if (out.numel() > 0) {
    kernels::call<kernels::Kernel::softmax>(x.device(), lines_ref(out, d), lines_ref(in, d), log);
  }
  return out;
}

TensorBase softmax_backward(const TensorBase& grad_out, const TensorBase& out, std::int64_t dim, bool log) {
  const char* name = log ? "log_softmax backward" : "softmax backward";
  check_same_dtype_device(name, grad_out, out);
  EMBER_CHECK(grad_out.shape() == out.shape(), name, ": gradient of shape ", grad_out.shape(),
              " for an output of shape ", out.shape());
  const int d = softmax_dim(out, dim, name);
  const TensorBase g = contiguous(grad_out), y = contiguous(out);
  TensorBase grad_in = empty(out.shape(), out.options());
  if (grad_in.numel() > 0) {
    kernels::call<kernels::Kernel::softmax_backward>(out.device(), lines_ref(grad_in, d), lines_ref(g, d),
                                                     lines_ref(y, d), log);
  }
  return grad_in;
}

TensorBase argmax(const TensorBase& x, std::optional<std::int64_t> dim, bool keepdim) {
  check_arithmetic_dtype("argmax", x);
  EMBER_CHECK(x.numel() > 0, "argmax: the tensor of shape ", x.shape(), " is empty: it has no maximum");
  if (!dim) {  // over every element, as over dim 0 of the flattened tensor
    const TensorBase flat = reshape(x, Shape{x.numel()});
    const TensorBase index = argmax(flat, 0, false);
    return keepdim ? reshape(index, Shape(std::vector<std::int64_t>(static_cast<std::size_t>(x.dim()), 1))) : index;
  }
  const int d = x.dim() == 0 ? 0 : wrap_dim(*dim, x.dim(), "argmax");
  EMBER_CHECK(x.dim() == 0 || x.shape()[d] > 0, "argmax: dim ", d, " of shape ", x.shape(), " is empty");
  Shape kept = x.shape();
  if (x.dim() > 0) kept[d] = 1;
  const TensorBase in = contiguous(x);
  TensorBase out = empty(kept, x.options().dtype(kInt64));
  kernels::TensorRef out_ref = lines_ref(out, d);
  kernels::call<kernels::Kernel::argmax>(x.device(), out_ref, lines_ref(in, d));
  if (keepdim || x.dim() == 0) return out;
  return squeeze(out, d);
}

NllResult nll_loss(const TensorBase& input, const TensorBase& target, const TensorBase& weight,
                   std::int64_t ignore_index, kernels::LossReduction reduction) {
  check_arithmetic_dtype("nll_loss", input);
  EMBER_CHECK(target.defined() && target.dtype() == kInt64, "nll_loss: target must be an int64 tensor of class "
              "indices, got ", target.defined() ? dtype_name(target.dtype()) : "an undefined tensor");
  EMBER_CHECK(target.device() == input.device(), "nll_loss: input is on ", input.device(), " and target on ",
              target.device(), "; move one with .to(device)");
  // input [C] with target [] (one example), [N, C] with [N], or [N, C, d1, ...] with [N, d1, ...].
  const bool unbatched = input.dim() == 1;
  EMBER_CHECK(input.dim() >= 1, "nll_loss: input must have a class dim, got shape ", input.shape());
  const std::int64_t n = unbatched ? 1 : input.shape()[0];
  const std::int64_t classes = unbatched ? input.shape()[0] : input.shape()[1];
  Shape expected_target;
  if (!unbatched) {
    expected_target.push_back(n);
    for (int d = 2; d < input.dim(); ++d) expected_target.push_back(input.shape()[d]);
  }
  EMBER_CHECK(target.shape() == expected_target, "nll_loss: input of shape ", input.shape(), " needs a target of shape ",
              expected_target, " (the input's shape without its class dim 1), got ", target.shape());
  if (weight.defined()) {
    check_same_dtype_device("nll_loss (weight)", input, weight);
    EMBER_CHECK(weight.dim() == 1 && weight.shape()[0] == classes, "nll_loss: weight must have shape [", classes,
                "] (one per class), got ", weight.shape());
  }
  const std::int64_t spatial = unbatched ? 1 : input.numel() / std::max<std::int64_t>(n * classes, 1);
  const TensorBase in = contiguous(input), t = contiguous(target);
  const TensorBase w = weight.defined() ? contiguous(weight) : TensorBase();
  const Shape in3{n, classes, spatial}, t2{n, spatial};
  NllResult result;
  result.loss = empty(reduction == kernels::LossReduction::None ? target.shape() : Shape{}, input.options());
  result.total_weight = empty({}, input.options());
  kernels::NllArgs args{
      .out = reduction == kernels::LossReduction::None
                 ? kernels::TensorRef{result.loss.raw_data(), input.dtype(), t2, contiguous_strides(t2)}
                 : ref(result.loss),
      .total_weight = ref(result.total_weight),
      .input = {in.raw_data(), in.dtype(), in3, contiguous_strides(in3)},
      .target = {t.raw_data(), kInt64, t2, contiguous_strides(t2)},
      .weight = w.defined() ? ref(w) : kernels::TensorRef{},
      .ignore_index = ignore_index,
      .reduction = reduction,
  };
  kernels::call<kernels::Kernel::nll_loss>(input.device(), args);
  return result;
}

TensorBase nll_loss_backward(const TensorBase& grad_out, const Shape& input_shape, const TensorBase& target,
                             const TensorBase& weight, const TensorBase& total_weight, std::int64_t ignore_index,
                             kernels::LossReduction reduction) {
  const bool unbatched = input_shape.size() == 1;
  const std::int64_t n = unbatched ? 1 : input_shape[0];
  const std::int64_t classes = unbatched ? input_shape[0] : input_shape[1];
  const std::int64_t spatial = unbatched ? 1 : input_shape.numel() / std::max<std::int64_t>(n * classes, 1);
  const Shape in3{n, classes, spatial}, t2{n, spatial};
  TensorBase grad_input = empty(input_shape, grad_out.options());
  if (grad_input.numel() == 0) return grad_input;
  const TensorBase g = contiguous(grad_out), t = contiguous(target);
  const TensorBase w = weight.defined() ? contiguous(weight) : TensorBase();
  kernels::NllBackwardArgs args{
      .grad_input = {grad_input.raw_data(), grad_out.dtype(), in3, contiguous_strides(in3)},
      .grad_out = reduction == kernels::LossReduction::None
                      ? kernels::TensorRef{g.raw_data(), g.dtype(), t2, contiguous_strides(t2)}
                      : ref(g),
      .target = {t.raw_data(), kInt64, t2, contiguous_strides(t2)},
      .weight = w.defined() ? ref(w) : kernels::TensorRef{},
      .total_weight = ref(total_weight),
      .ignore_index = ignore_index,
      .reduction = reduction,
  };
  kernels::call<kernels::Kernel::nll_loss_backward>(grad_out.device(), args);
  return grad_input;
}

}  // namespace ember::ops
