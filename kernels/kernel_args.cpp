// The argument checks and epilogue views every device's gemm and mse_loss kernels share.
#include "ember/kernels/kernel_args.h"

#include "ember/core/error.h"

namespace ember::kernels {

void check_epilogue_args(const GemmArgs& args, const char* who) {
  if (args.bias.data == nullptr && args.row_sums.data == nullptr && !args.relu) return;
  const std::int64_t m = args.c.sizes[1], n = args.c.sizes[2];
  EMBER_CHECK(args.c.sizes[0] == 1, "ember: ", who, ": epilogues need one matrix, got a batch of ", args.c.sizes[0]);
  if (args.bias.data != nullptr) {
    EMBER_CHECK(args.beta == 0.0 && args.bias.dtype == args.c.dtype && args.bias.numel() == n &&
                    args.bias.is_contiguous(),
                "ember: ", who, ": the bias must be a contiguous ", dtype_name(args.c.dtype), " vector of ",
                n, " (got ", args.bias.sizes.str(), ") and beta 0");
  }
  if (args.relu) {
    EMBER_CHECK(args.beta == 0.0 && args.row_sums.data == nullptr, "ember: ", who,
                ": the relu epilogue needs beta 0 and no row_sums");
  }
  if (args.row_sums.data != nullptr) {
    EMBER_CHECK(args.row_sums.dtype == args.c.dtype && args.row_sums.numel() == m && args.row_sums.is_contiguous(),
                "ember: ", who, ": row_sums must be a contiguous ", dtype_name(args.c.dtype), " vector of ", m,
                " (got ", args.row_sums.sizes.str(), ")");
  }
}

void check_mse_args(const MseArgs& args, const char* who) {
  const TensorRef& a = args.input;
  EMBER_CHECK(a.sizes == args.target.sizes, "ember (", who, ") mse_loss: input sizes ", a.sizes.str(),
              " and target sizes ", args.target.sizes.str(), " differ");
  EMBER_CHECK(a.dtype == args.target.dtype && a.dtype == args.loss.dtype, "ember (", who,
              ") mse_loss: input, target and loss must share a dtype, got ", dtype_name(a.dtype), ", ",
              dtype_name(args.target.dtype), ", ", dtype_name(args.loss.dtype));
  EMBER_CHECK(args.loss.numel() == 1, "ember (", who, ") mse_loss: the loss must have one element, has sizes ",
              args.loss.sizes.str());
  if (args.grad_input.data != nullptr) {
    EMBER_CHECK(args.grad_input.sizes == a.sizes && args.grad_input.dtype == a.dtype &&
                    args.grad_input.is_contiguous(),
                "ember (", who, ") mse_loss: grad_input must be a contiguous ", dtype_name(a.dtype),
                " tensor of the input's sizes ", a.sizes.str(), ", got ", args.grad_input.sizes.str());
  }
}

void check_nll_args(const NllArgs& args, const char* who) {
  const TensorRef &in = args.input, &t = args.target;
  EMBER_CHECK(in.ndim() == 3 && t.ndim() == 2 && t.sizes[0] == in.sizes[0] && t.sizes[1] == in.sizes[2],
              "ember (", who, ") nll_loss: input ", in.sizes.str(), " and target ", t.sizes.str(),
              " are not [N, C, D] and [N, D]");
  EMBER_CHECK(t.dtype == DType::Int64, "ember (", who, ") nll_loss: target must be int64, got ", dtype_name(t.dtype));
  EMBER_CHECK(in.is_contiguous() && t.is_contiguous(), "ember (", who, ") nll_loss: input and target must be contiguous");
  EMBER_CHECK(args.out.dtype == in.dtype && args.total_weight.dtype == in.dtype, "ember (", who,
              ") nll_loss: out and total_weight must have the input's dtype ", dtype_name(in.dtype));
  if (args.weight.data != nullptr) {
    EMBER_CHECK(args.weight.ndim() == 1 && args.weight.sizes[0] == in.sizes[1] && args.weight.dtype == in.dtype &&
                    args.weight.is_contiguous(),
                "ember (", who, ") nll_loss: weight must be a contiguous [", in.sizes[1], "] ",
                dtype_name(in.dtype), " tensor, got ", args.weight.sizes.str(), " ", dtype_name(args.weight.dtype));
  }
}

void check_pool_args(const PoolArgs& args, bool backward, const char* who) {
  const char* op = args.kind == PoolKind::Max ? (backward ? "max_pool2d backward" : "max_pool2d")
                                              : (backward ? "avg_pool2d backward" : "avg_pool2d");
  const TensorRef &in = args.input, &out = args.output;
  EMBER_CHECK(in.ndim() == 4 && out.ndim() == 4 && in.is_contiguous() && out.is_contiguous() &&
                  in.sizes[0] == out.sizes[0] && in.sizes[1] == out.sizes[1],
              "ember (", who, ") ", op, ": expects contiguous NCHW input and output with the same N and C, got ",
              in.sizes.str(), " and ", out.sizes.str());
  EMBER_CHECK(in.dtype == out.dtype, "ember (", who, ") ", op, ": input and output must share a dtype, got ",
              dtype_name(in.dtype), " and ", dtype_name(out.dtype));
  for (int d = 0; d < 2; ++d) {
    EMBER_CHECK(args.kernel[d] > 0 && args.stride[d] > 0 && args.dilation[d] > 0 && args.padding[d] >= 0, "ember (",
                who, ") ", op, ": kernel, stride and dilation must be positive and padding not negative");
  }
  if (args.kind == PoolKind::Avg) {
    EMBER_CHECK(args.dilation[0] == 1 && args.dilation[1] == 1, "ember (", who, ") ", op, ": dilation must be 1");
    return;
  }
  const bool needs_indices = backward || args.indices.data != nullptr;
  if (needs_indices) {
    EMBER_CHECK(args.indices.data != nullptr && args.indices.dtype == DType::Int64 && args.indices.sizes == out.sizes &&
                    args.indices.is_contiguous(),
                "ember (", who, ") ", op, ": indices must be a contiguous int64 ref of the output's sizes ",
                out.sizes.str(), ", got ", args.indices.sizes.str());
  }
}

TensorRef bias_as_rows(const GemmArgs& args) {
  TensorRef r = args.bias;
  r.sizes = args.c.sizes;
  r.strides = Strides{0, 0, 1};
  return r;
}

TensorRef row_sums_as_reduce_output(const GemmArgs& args) {
  const std::int64_t m = args.c.sizes[1];
  TensorRef r = args.row_sums;
  r.sizes = Shape{1, m, 1};
  r.strides = Strides{m, 1, 1};
  return r;
}

namespace {

// A [C] ref of batch_norm: null, or a contiguous vector of `channels` in `dtype`.
void check_channel_ref(const TensorRef& t, const char* name, std::int64_t channels, DType dtype, const char* who) {
  if (t.data == nullptr) return;
  EMBER_CHECK(t.numel() == channels && t.ndim() <= 1 && t.is_contiguous() && t.dtype == dtype, "ember (", who,
              ") batch_norm: ", name, " must be a contiguous ", dtype_name(dtype), " vector of ", channels,
              ", got sizes ", t.sizes.str(), " ", dtype_name(t.dtype));
}

void check_ncs(const TensorRef& t, const TensorRef& like, const char* name, const char* who) {
  EMBER_CHECK(t.ndim() == 3 && t.sizes == like.sizes && t.dtype == like.dtype && t.is_contiguous(), "ember (", who,
              ") batch_norm: ", name, " must be a contiguous [N, C, S] view of sizes ", like.sizes.str(), " and dtype ",
              dtype_name(like.dtype), ", got ", t.sizes.str(), " ", dtype_name(t.dtype));
}

}  // namespace

void check_batch_norm_args(const BatchNormArgs& args, bool training, const char* who) {
  const TensorRef& in = args.input;
  EMBER_CHECK(in.ndim() == 3 && in.is_contiguous(), "ember (", who,
              ") batch_norm: input must be a contiguous [N, C, S] view, got sizes ", in.sizes.str());
  check_ncs(args.output, in, "output", who);
  const std::int64_t channels = in.sizes[1];
  check_channel_ref(args.weight, "weight", channels, in.dtype, who);
  check_channel_ref(args.bias, "bias", channels, in.dtype, who);
  check_channel_ref(args.running_mean, "running_mean", channels, in.dtype, who);
  check_channel_ref(args.running_var, "running_var", channels, in.dtype, who);
  if (!training) {
    EMBER_CHECK(args.running_mean.data != nullptr && args.running_var.data != nullptr, "ember (", who,
                ") batch_norm: evaluation needs running_mean and running_var");
    return;
  }
  EMBER_CHECK(in.sizes[0] * in.sizes[2] > 1, "ember (", who,
              ") batch_norm: training needs more than one value per channel, got sizes ", in.sizes.str());
  const DType stats = batch_norm_stats_dtype(in.dtype);
  EMBER_CHECK(args.save_mean.data != nullptr && args.save_invstd.data != nullptr, "ember (", who,
              ") batch_norm: training writes save_mean and save_invstd, which are missing");
  check_channel_ref(args.save_mean, "save_mean", channels, stats, who);
  check_channel_ref(args.save_invstd, "save_invstd", channels, stats, who);
  if (args.num_batches_tracked.data != nullptr) {
    EMBER_CHECK(args.num_batches_tracked.numel() == 1 && args.num_batches_tracked.dtype == DType::Int64, "ember (",
                who, ") batch_norm: num_batches_tracked must be one int64, got sizes ",
                args.num_batches_tracked.sizes.str(), " ", dtype_name(args.num_batches_tracked.dtype));
  }
  EMBER_CHECK(args.momentum.has_value() || args.num_batches_tracked.data != nullptr ||
                  (args.running_mean.data == nullptr && args.running_var.data == nullptr),
              "ember (", who, ") batch_norm: a cumulative average (no momentum) needs num_batches_tracked");
}

void check_batch_norm_backward_args(const BatchNormBackwardArgs& args, const char* who) {
  const TensorRef& in = args.input;
  EMBER_CHECK(in.ndim() == 3 && in.is_contiguous(), "ember (", who,
              ") batch_norm backward: input must be a contiguous [N, C, S] view, got sizes ", in.sizes.str());
  check_ncs(args.grad_out, in, "grad_out", who);
  if (args.grad_input.data != nullptr) check_ncs(args.grad_input, in, "grad_input", who);
  const std::int64_t channels = in.sizes[1];
  check_channel_ref(args.weight, "weight", channels, in.dtype, who);
  check_channel_ref(args.grad_weight, "grad_weight", channels, in.dtype, who);
  check_channel_ref(args.grad_bias, "grad_bias", channels, in.dtype, who);
  if (args.training) {
    const DType stats = batch_norm_stats_dtype(in.dtype);
    EMBER_CHECK(args.save_mean.data != nullptr && args.save_invstd.data != nullptr, "ember (", who,
                ") batch_norm backward: training mode needs save_mean and save_invstd");
    check_channel_ref(args.save_mean, "save_mean", channels, stats, who);
    check_channel_ref(args.save_invstd, "save_invstd", channels, stats, who);
  } else {
    EMBER_CHECK(args.running_mean.data != nullptr && args.running_var.data != nullptr, "ember (", who,
                ") batch_norm backward: evaluation mode needs running_mean and running_var");
    check_channel_ref(args.running_mean, "running_mean", channels, in.dtype, who);
    check_channel_ref(args.running_var, "running_var", channels, in.dtype, who);
  }
}

}  // namespace ember::kernels
