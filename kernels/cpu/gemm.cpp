// Batched matrix multiply on the CPU through Eigen: C[i] = alpha * A[i] @ B[i] + beta * C[i].
//
// Each operand is mapped in place: a matrix whose column stride is 1 is a row-major Eigen map and
// one whose row stride is 1 is a column-major map, each with its other stride as the outer stride,
// so a transposed view costs nothing. Eigen then picks its kernel: coefficient-wise for tiny
// products, GEMV when a side is a vector, blocked GEMM otherwise. A linear layer's tiny weight
// gradient takes a faster path (see product() below).
#include <algorithm>
#include <array>
#include <type_traits>
#include <utility>
#include <vector>

#include <Eigen/Core>

#include "ember/core/dtype.h"
#include "ember/core/error.h"
#include "ember/core/shape.h"
#include "ember/core/threads.h"
#include "ember/kernels/cpu/cpu_kernels.h"
#include "ember/kernels/cpu/parallel.h"

namespace ember::kernels::cpu {

namespace {

template <typename T, int Order>
using ConstMatMap = Eigen::Map<const Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Order>,
                               Eigen::Unaligned, Eigen::OuterStride<>>;
template <typename T>
using OutMatMap = Eigen::Map<Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>,
                             Eigen::Unaligned, Eigen::OuterStride<>>;

// How one [rows, cols] matrix with strides (rs, cs) maps onto Eigen without a copy.
struct Layout {
  bool mappable;  // one of the strides is 1 (or its dim is 1, so it is never used)
  bool row_major;
  std::int64_t ld;  // the outer stride
};

Layout layout_of(std::int64_t rows, std::int64_t cols, std::int64_t rs, std::int64_t cs) {
  // A stride along a dim of size 1 is never used; give Eigen a plausible value for it instead.
  if (cs == 1 || cols == 1) return {true, true, rows == 1 ? cols : rs};
  if (rs == 1 || rows == 1) return {true, false, cols == 1 ? rows : cs};
  return {false, true, 0};
}

// Below this many multiply-adds Eigen's blocked GEMM is mostly packing. A column-major A times a
// row-major B with at most kMaxRegisterRow columns (g^T @ x, the weight gradient of a layer with
// few inputs) is faster with each row of C accumulated in registers over the inner dimension, its
// width a compile-time constant: 290 ns against 585 on SimpleNet's [2x100] @ [100x10] (Eigen's
// lazy product takes 1200 there, its coefficients being strided). For a row-major A times a
// column-major B (x @ w^T, the forward) nothing beat GEMM once the sizes were only known at run
// time: the lazy product took 675 ns against 593 on [100x10] @ [10x2], and the whole SimpleNet step
// was 0.1 us slower with it.
constexpr std::int64_t kSmallProductMaxMacs = 2048;
constexpr int kMaxRegisterRow = 16;

template <typename T>
using RowVectorMap = Eigen::Map<const Eigen::Matrix<T, 1, Eigen::Dynamic>>;

// C = A @ B (+ bias) for a column-major A and a row-major B, C's W columns kept in registers.
template <typename T, int W>
void register_row_product(T* c, std::int64_t ldc, const T* a, std::int64_t lda, const T* b,
                          std::int64_t ldb, std::int64_t m, std::int64_t k, const T* bias) {
  for (std::int64_t i = 0; i < m; ++i) {
    std::array<T, W> acc{};
    for (std::int64_t q = 0; q < k; ++q) {
      const T s = a[i + q * lda];
      const T* row = b + q * ldb;
      for (int j = 0; j < W; ++j) acc[j] += s * row[j];
    }
    T* out = c + i * ldc;
    for (int j = 0; j < W; ++j) out[j] = bias != nullptr ? acc[j] + bias[j] : acc[j];
  }
}

template <typename T, std::size_t... Widths>
constexpr auto register_row_products(std::index_sequence<Widths...> /*widths*/) {
  return std::array{&register_row_product<T, static_cast<int>(Widths) + 1>...};
}

// One product, with A and B already mapped. beta == 0 never reads C (it may hold NaN). A bias
// (length n, contiguous; beta is then 0) is added to every row of C.
template <typename T, typename MapA, typename MapB>
void product(OutMatMap<T>& c, const MapA& a, const MapB& b, T alpha, T beta, const T* bias) {
  if (beta == T(0)) {
    if constexpr (!MapA::IsRowMajor && MapB::IsRowMajor) {
      if (alpha == T(1) && a.rows() * a.cols() * b.cols() <= kSmallProductMaxMacs && c.cols() <= kMaxRegisterRow) {
        static constexpr auto by_width = register_row_products<T>(std::make_index_sequence<kMaxRegisterRow>{});
        by_width[static_cast<std::size_t>(c.cols() - 1)](c.data(), c.outerStride(), a.data(), a.outerStride(),
                                                         b.data(), b.outerStride(), c.rows(), a.cols(), bias);
        return;
      }
    }
    if (bias == nullptr) {
      c.noalias() = alpha * a * b;
      return;
    }
    c.rowwise() = RowVectorMap<T>(bias, c.cols());
    c.noalias() += alpha * a * b;
    return;
  }
  if (beta != T(1)) c *= beta;
  c.noalias() += alpha * a * b;
}

// Products of at least this many multiply-adds in all are split across the intra-op threads (about
// 10 us of work on one core); smaller ones run on the calling thread. A split cuts C into blocks
// of rows (or of columns, when C is wider than tall) of at least kMinBlock each, every block an
// independent Eigen product: Eigen's own threading needs OpenMP, which Ember does not use.
constexpr std::int64_t kParallelMinMacs = std::int64_t{1} << 18;
constexpr std::int64_t kMinBlock = 32;

template <typename T, int OrderA, int OrderB>
void gemm_batches(const GemmArgs& g, const T* a, std::int64_t a_batch_stride, Layout la,
                  const T* b, std::int64_t b_batch_stride, Layout lb) {
  const std::int64_t batch = g.c.sizes[0], m = g.c.sizes[1], n = g.c.sizes[2],
                     k = g.a.sizes[2];
  const T alpha = static_cast<T>(g.alpha), beta = static_cast<T>(g.beta);
  T* c = g.c.ptr<T>();
  const std::int64_t ldc = m == 1 ? n : g.c.strides[1];
  const T* bias = g.bias.data != nullptr ? g.bias.ptr<T>() : nullptr;
  // Element offsets of row r of A and of column q of B and C, in each one's layout.
  auto a_row = [&](std::int64_t r) { return OrderA == Eigen::RowMajor ? r * la.ld : r; };
  auto b_col = [&](std::int64_t q) { return OrderB == Eigen::RowMajor ? q : q * lb.ld; };
  // C[i] rows [r0, r1) and columns [q0, q1).
  auto block = [&](std::int64_t i, std::int64_t r0, std::int64_t r1, std::int64_t q0, std::int64_t q1) {
    OutMatMap<T> ci(c + i * g.c.strides[0] + r0 * ldc + q0, r1 - r0, q1 - q0, Eigen::OuterStride<>(ldc));
    const ConstMatMap<T, OrderA> ai(a + i * a_batch_stride + a_row(r0), r1 - r0, k, Eigen::OuterStride<>(la.ld));
    const ConstMatMap<T, OrderB> bi(b + i * b_batch_stride + b_col(q0), k, q1 - q0, Eigen::OuterStride<>(lb.ld));
    product(ci, ai, bi, alpha, beta, bias != nullptr ? bias + q0 : nullptr);
  };
  const int threads = get_num_threads();
  if (threads == 1 || batch * m * n * k < kParallelMinMacs) {
    for (std::int64_t i = 0; i < batch; ++i) block(i, 0, m, 0, n);
    return;
  }
  const bool by_rows = m >= n;
  const std::int64_t extent = by_rows ? m : n;
  // Enough blocks for every thread, counting the batch, each at least kMinBlock wide.
  const std::int64_t per_matrix = std::clamp<std::int64_t>((threads + batch - 1) / batch, 1,
                                                           std::max<std::int64_t>(extent / kMinBlock, 1));
  parallel_for(batch * per_matrix, 1, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t item = begin; item < end; ++item) {
      const std::int64_t i = item / per_matrix, j = item % per_matrix;
      const std::int64_t lo = extent * j / per_matrix, hi = extent * (j + 1) / per_matrix;
      if (by_rows) block(i, lo, hi, 0, n);
      else block(i, 0, m, lo, hi);
    }
  });
}

// Copies a [batch, rows, cols] operand with no unit stride into a contiguous row-major buffer.
// Core never passes one (it guarantees a unit stride), so this is a safety net, not a fast path.
template <typename T>
const T* pack(const TensorRef& t, std::vector<T>& buf, Layout& layout) {
  const std::int64_t batch = t.sizes[0], rows = t.sizes[1], cols = t.sizes[2];
  buf.resize(static_cast<std::size_t>(batch * rows * cols));
  const T* src = t.ptr<T>();
  std::size_t w = 0;
  for (std::int64_t i = 0; i < batch; ++i)
    for (std::int64_t r = 0; r < rows; ++r)
      for (std::int64_t q = 0; q < cols; ++q)
        buf[w++] = src[i * t.strides[0] + r * t.strides[1] + q * t.strides[2]];
  layout = {true, true, cols};
  return buf.data();
}

template <typename T>
void gemm_typed(const GemmArgs& g) {
  const std::int64_t batch = g.c.sizes[0], m = g.c.sizes[1], n = g.c.sizes[2],
                     k = g.a.sizes[2];
  if (batch == 0 || m == 0 || n == 0) return;
  if (k == 0) {  // empty sum: C = beta * C, the bias rows, or zeros without reading C
    const T beta = static_cast<T>(g.beta);
    for (std::int64_t i = 0; i < batch; ++i) {
      OutMatMap<T> ci(g.c.ptr<T>() + i * g.c.strides[0], m, n,
                      Eigen::OuterStride<>(m == 1 ? n : g.c.strides[1]));
      if (g.bias.data != nullptr) ci.rowwise() = RowVectorMap<T>(g.bias.ptr<T>(), n);
      else if (beta == T(0)) ci.setZero();
      else ci *= beta;
    }
    return;
  }

  Layout la = layout_of(m, k, g.a.strides[1], g.a.strides[2]);
  Layout lb = layout_of(k, n, g.b.strides[1], g.b.strides[2]);
  const T* a = g.a.ptr<T>();
  const T* b = g.b.ptr<T>();
  std::int64_t a_batch_stride = g.a.strides[0], b_batch_stride = g.b.strides[0];
  std::vector<T> a_buf, b_buf;
  if (!la.mappable) {
    a = pack(g.a, a_buf, la);
    a_batch_stride = m * k;
  }
  if (!lb.mappable) {
    b = pack(g.b, b_buf, lb);
    b_batch_stride = k * n;
  }
  constexpr int R = Eigen::RowMajor, C = Eigen::ColMajor;
  if (la.row_major) {
    if (lb.row_major) return gemm_batches<T, R, R>(g, a, a_batch_stride, la, b, b_batch_stride, lb);
    return gemm_batches<T, R, C>(g, a, a_batch_stride, la, b, b_batch_stride, lb);
  }
  if (lb.row_major) return gemm_batches<T, C, R>(g, a, a_batch_stride, la, b, b_batch_stride, lb);
  return gemm_batches<T, C, C>(g, a, a_batch_stride, la, b, b_batch_stride, lb);
}

// bfloat16 and float16: Eigen has no fast kernels for them, so A, B, the bias (and C, when beta
// reads it) are widened to float32 by the copy kernel, multiplied in float32 and C is rounded
// once, which is also how PyTorch computes them (accumulating in float32).
void gemm_widened(const GemmArgs& g) {
  auto widen = [](const TensorRef& t, std::vector<float>& buf, bool read) {
    buf.resize(static_cast<std::size_t>(t.numel()));
    const TensorRef wide{buf.data(), kFloat32, t.sizes, contiguous_strides(t.sizes)};
    if (read) copy(0, wide, t);
    return wide;
  };
  std::vector<float> a, b, c, bias;
  GemmArgs f = g;
  f.a = widen(g.a, a, true);
  f.b = widen(g.b, b, true);
  f.c = widen(g.c, c, g.beta != 0.0);
  if (g.bias.data != nullptr) f.bias = widen(g.bias, bias, true);
  gemm_typed<float>(f);
  copy(0, g.c, f.c);
}

}  // namespace

void gemm(int /*device*/, const GemmArgs& args) {
  const TensorRef &a = args.a, &b = args.b, &c = args.c;
  EMBER_CHECK(a.ndim() == 3 && b.ndim() == 3 && c.ndim() == 3 && a.sizes[0] == c.sizes[0] &&
                  b.sizes[0] == c.sizes[0] && a.sizes[1] == c.sizes[1] &&
                  b.sizes[2] == c.sizes[2] && a.sizes[2] == b.sizes[1],
              "ember: cpu gemm: shapes do not chain: A ", a.sizes.str(), " @ B ", b.sizes.str(),
              " -> C ", c.sizes.str(),
              " (expected [batch, M, K] @ [batch, K, N] -> [batch, M, N])");
  EMBER_CHECK(a.dtype == c.dtype && b.dtype == c.dtype, "ember: cpu gemm: dtypes differ: A ",
              dtype_name(a.dtype), ", B ", dtype_name(b.dtype), ", C ", dtype_name(c.dtype));
  EMBER_CHECK(c.strides[2] == 1 || c.sizes[2] == 1,
              "ember: cpu gemm: C must be row-major within a matrix, got strides ",
              c.strides.str(), " for sizes ", c.sizes.str());
  check_epilogue_args(args, "cpu gemm");
  // product() adds the bias; relu and the row sums run through the backend's own unary and reduce
  // (reduce sums in double). allow_tf32 has no CPU meaning: float32 products are computed in
  // float32.
  dispatch_arithmetic(c.dtype, "matmul", [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_same_v<compute_t<T>, T>) gemm_typed<T>(args);
    else gemm_widened(args);
  });
  if (args.relu) unary(0, UnaryOp::Relu, c, c);
  if (args.row_sums.data != nullptr) reduce(0, ReduceKind::Sum, row_sums_as_reduce_output(args), a);
}

}  // namespace ember::kernels::cpu
