// Matrix products: torch.matmul's shape rules, and linear (x @ w^T + bias), on the backend's GEMM.
#include "ember/core/cuda.h"
#include "ember/core/ops.h"

namespace ember::ops {

namespace {

// Size-1 matrix dims may carry any stride; give them strides a BLAS accepts (one of the two is 1).
void normalize_unit_strides(std::int64_t rows, std::int64_t cols, std::int64_t& rs, std::int64_t& cs) {
  if (cols == 1) cs = 1;
  else if (rows == 1 && cs != 1) rs = 1;
}

// A [batch..., rows, cols] tensor as the 3-D ref GEMM takes: the batch dims must collapse into one
// stride (true for contiguous and for broadcast operands) and one of the matrix strides must be 1;
// otherwise the operand is copied into a contiguous tensor first, which `keep` holds alive.
kernels::TensorRef as_gemm_operand(const TensorBase& t, TensorBase& keep) {
  auto collapsible = [](const TensorBase& x) {
    const int nb = x.dim() - 2;
    for (int d = 0; d + 1 < nb; ++d) {
      if (x.shape()[d] == 1 || x.shape()[d + 1] == 1) continue;
      if (x.strides()[d] != x.strides()[d + 1] * x.shape()[d + 1]) return false;
    }
    const std::int64_t rs = x.strides()[x.dim() - 2], cs = x.strides()[x.dim() - 1];
    return rs == 1 || cs == 1 || x.shape()[x.dim() - 1] == 1 || x.shape()[x.dim() - 2] == 1;
  };
  keep = collapsible(t) ? t : clone(t);
  kernels::TensorRef r = ref(keep);
  std::int64_t batch = 1, batch_stride = 0;
  for (int d = 0; d < keep.dim() - 2; ++d) batch *= keep.shape()[d];
  // The batch stride is that of the innermost batch dim of size > 1 (dims collapse onto it).
  for (int d = keep.dim() - 3; d >= 0; --d) {
    if (keep.shape()[d] != 1) {
      batch_stride = keep.strides()[d];
      break;
    }
  }
  const int n = keep.dim();
  std::int64_t rs = keep.strides()[n - 2], cs = keep.strides()[n - 1];
  normalize_unit_strides(keep.shape()[n - 2], keep.shape()[n - 1], rs, cs);
  r.sizes = Shape{batch, keep.shape()[n - 2], keep.shape()[n - 1]};
  r.strides = Shape{batch_stride, rs, cs};
  return r;
}

// t ([..., cols], at least 1-D) as the [1, rows, cols] GEMM operand its leading dims fold into,
// or as that matrix's transpose [1, cols, rows], without making a view: on a small training step,
// the reshape, transpose and unsqueeze views cost more host time than the GEMM's own setup. When
// the leading dims do not fold into one stride, or neither matrix stride is 1, t is copied into a
// contiguous `keep` first.
kernels::TensorRef matrix_operand(const TensorBase& t, bool transposed, TensorBase& keep) {
  keep = t;
  for (bool copied = false;; copied = true) {
    const Shape& shape = keep.shape();
    const Strides& strides = keep.strides();
    const int n = keep.dim();
    std::int64_t rows = 1, rs = 0, cols = shape[n - 1], cs = strides[n - 1];
    bool folds = true;  // each leading dim of size > 1 lies right after the next inner one
    for (int d = n - 2; d >= 0; --d) {
      if (shape[d] == 1) continue;
      if (rows == 1) rs = strides[d];
      else if (strides[d] != rs * rows) folds = false;
      rows *= shape[d];
    }
    if (rows == 1) rs = cols;
    if (transposed) {
      std::swap(rows, cols);
      std::swap(rs, cs);
    }
    normalize_unit_strides(rows, cols, rs, cs);
    if ((!folds || (rs != 1 && cs != 1)) && !copied) {
      keep = contiguous(t);
      continue;
    }
    return {keep.raw_data(), keep.dtype(), Shape{1, rows, cols}, Strides{0, rs, cs}};
  }
}

bool broadcastable(const Shape& a, const Shape& b) {
  for (int i = 1; i <= std::min(a.size(), b.size()); ++i) {
    const std::int64_t da = a[a.size() - i], db = b[b.size() - i];
    if (da != db && da != 1 && db != 1) return false;
  }
  return true;
}

void run_gemm(const TensorBase& out, const kernels::TensorRef& a, const kernels::TensorRef& b,
              double beta, const TensorBase& bias = TensorBase(), const TensorBase& row_sums = TensorBase(), bool relu = false) {
  kernels::GemmArgs args;
  args.relu = relu;
  if (bias.defined()) args.bias = ref(bias);
  if (row_sums.defined()) args.row_sums = ref(row_sums);
  args.a = a;
  args.b = b;
  args.c = ref(out);
  const std::int64_t m = a.sizes[1], n = b.sizes[2];
  const std::int64_t batch = out.numel() / std::max<std::int64_t>(m * n, 1);
  args.c.sizes = Shape{batch, m, n};
  args.c.strides = Shape{m * n, n, 1};
  args.beta = beta;
  args.allow_tf32 = cuda::allow_tf32();
  kernels::call<kernels::Kernel::gemm>(out.device(), args);
}

}  // namespace

TensorBase matmul_matrices(const TensorBase& a, const TensorBase& b) {
  check_same_dtype_device("matmul", a, b);
  check_arithmetic_dtype("matmul", a);
  // 1-D operands are promoted to matrices by the differentiable matmul (autograd/ops_linalg.cpp),
  // so that their gradients flow through the promotion; this op takes matrices and batches.
  EMBER_CHECK(a.dim() >= 2 && b.dim() >= 2, "matmul: internal: operands of shapes ", a.shape(),
              " and ", b.shape(), " should have been promoted to matrices");
  const std::int64_t m = a.shape()[a.dim() - 2], k = a.shape()[a.dim() - 1];
  const std::int64_t k2 = b.shape()[b.dim() - 2], n = b.shape()[b.dim() - 1];
  EMBER_CHECK(k == k2, "matmul: shapes ", a.shape(), " and ", b.shape(),
              " cannot be multiplied (", m, "x", k, " and ", k2, "x", n, ")");
  // Broadcast the batch dims.
  Shape batch_a, batch_b;
  for (int d = 0; d < a.dim() - 2; ++d) batch_a.push_back(a.shape()[d]);
  for (int d = 0; d < b.dim() - 2; ++d) batch_b.push_back(b.shape()[d]);
  EMBER_CHECK(broadcastable(batch_a, batch_b), "matmul: shapes ", a.shape(), " and ", b.shape(),
              " cannot be multiplied: their batch dims ", batch_a, " and ", batch_b,
              " cannot be broadcast together");
  Shape out_shape = broadcast_shapes(batch_a, batch_b, "matmul");
  Shape shape_a = out_shape, shape_b = out_shape;
  shape_a.push_back(m); shape_a.push_back(k);
  shape_b.push_back(k); shape_b.push_back(n);
  out_shape.push_back(m);
  out_shape.push_back(n);
  TensorBase out = empty(out_shape, a.options());
  if (out.numel() == 0) return out;
  if (k == 0) {
    fill(out, 0.0);
    return out;
  }
  TensorBase keep_a, keep_b;
  run_gemm(out, as_gemm_operand(expand(a, shape_a), keep_a), as_gemm_operand(expand(b, shape_b), keep_b), 0.0);
  return out;
}

TensorBase linear(const TensorBase& x, const TensorBase& w, const TensorBase& bias, bool relu) {
  check_same_dtype_device("linear", x, w);
  check_arithmetic_dtype("linear", x);
  EMBER_CHECK(w.dim() == 2 && x.dim() >= 1 && x.shape().back() == w.shape()[1],
              "linear: input of shape ", x.shape(), " does not match weight of shape ", w.shape(),
              " (expected input [..., ", w.dim() == 2 ? w.shape()[1] : -1, "] and weight [out, in])");
  const std::int64_t in = w.shape()[1], out_features = w.shape()[0];
  Shape out_shape = x.shape();
  out_shape[out_shape.size() - 1] = out_features;
  TensorBase out = empty(out_shape, x.options());
  if (bias.defined()) {
    check_same_dtype_device("linear", x, bias);
    EMBER_CHECK(bias.dim() == 1 && bias.shape()[0] == out_features, "linear: bias of shape ",
                bias.shape(), " does not match weight of shape ", w.shape(), " (expected [",
                out_features, "])");
  }
  if (out.numel() == 0) return out;
  if (in == 0) {  // an empty product: the bias alone
    if (bias.defined()) copy_into(out, bias);
    else fill(out, 0.0);
    return relu ? unary(kernels::UnaryOp::Relu, out) : out;
  }
  TensorBase keep_x, keep_w;
  // x as [1, rows, in] and w^T as [1, in, out]; the GEMM reads w transposed. The bias (and the
  // relu) ride in the GEMM's epilogue: no separate pass over the output.
  run_gemm(out, matrix_operand(x, false, keep_x), matrix_operand(w, true, keep_w), 0.0,
           bias.defined() ? contiguous(bias) : TensorBase(), TensorBase(), relu);
  return out;
}

std::pair<TensorBase, TensorBase> linear_weight_grads(const TensorBase& g, const TensorBase& x, bool bias) {
  check_same_dtype_device("linear backward", g, x);
  bool same_rows = g.dim() >= 1 && x.dim() == g.dim();
  for (int d = 0; same_rows && d + 1 < g.dim(); ++d) same_rows = g.shape()[d] == x.shape()[d];
  EMBER_CHECK(same_rows, "linear backward: gradient of shape ", g.shape(), " does not match input of shape ", x.shape(),
              " (expected the same leading dims)");
  const std::int64_t out_features = g.shape().back(), in = x.shape().back();
  TensorBase grad_w = empty({out_features, in}, g.options());
  TensorBase grad_b = bias ? empty({out_features}, g.options()) : TensorBase();
  if (grad_w.numel() == 0 && !(bias && out_features > 0)) return {grad_w, grad_b};
  TensorBase keep_g, keep_x;
  const kernels::TensorRef gt = matrix_operand(g, true, keep_g);  // [1, out, rows]
  if (gt.sizes[2] == 0) {  // no rows: empty sums
    fill(grad_w, 0.0);
    if (bias) fill(grad_b, 0.0);
    return {grad_w, grad_b};
  }
  if (in == 0) {  // no weights; the bias gradient alone
    if (bias) grad_b = reduce(kernels::ReduceKind::Sum, reshape(g, {-1, out_features}), 1u, false, "linear");
    return {grad_w, grad_b};
  }
  run_gemm(grad_w, gt, matrix_operand(x, false, keep_x), 0.0, TensorBase(), bias ? grad_b : TensorBase());
  return {grad_w, grad_b};
}

}  // namespace ember::ops
