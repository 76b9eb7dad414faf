// 2-D convolution on the CPU (kernels::ConvArgs has the contract): each sample and group lowered
// onto a matrix product with Eigen's GEMM.
//
// For sample n and group g, with K = Cg * kH * kW and P = H_out * W_out, the patches of the input
// form col [K, P] (im2col: row (c, i, j) holds the input pixel each output position reads through
// kernel tap (i, j) of channel c, 0 in the padding). With W_g the group's weight rows [Og, K]:
//   forward          out[n, g] [Og, P] = W_g @ col
//   input gradient   col'      [K, P]  = W_g^T @ gout[n, g], scattered back onto the input (col2im)
//   weight gradient  gW_g      [Og, K] = sum over n of gout[n, g] @ col^T
// A 1x1 kernel with stride 1 and no padding needs no lowering: col is the input itself.
//
// The work is split over the samples (kernels/cpu/parallel.h): each chunk lowers into its own
// buffer, and the weight gradient sums one partial gradient per thread. Small convolutions stay on
// the calling thread. Refs that are not contiguous in the compute type (channels-last, or 16-bit,
// which computes in float32 as the GEMM does) are copied into contiguous float32/float64 buffers
// first, and the result copied (rounded once) into the written ref.
#include <Eigen/Core>
#include <algorithm>
#include <cstring>
#include <type_traits>
#include <vector>

#include "ember/core/dtype.h"
#include "ember/core/error.h"
#include "ember/core/threads.h"
#include "ember/kernels/cpu/cpu_kernels.h"
#include "ember/kernels/cpu/parallel.h"

namespace ember::kernels::cpu {

namespace {

template <typename T>
using RowMajor = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <typename T>
using ColMajor = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::ColMajor>;
template <typename T>
using ConstRowMap = Eigen::Map<const RowMajor<T>>;
template <typename T>
using ConstColMap = Eigen::Map<const ColMajor<T>>;
template <typename T>
using RowMap = Eigen::Map<RowMajor<T>>;

// The sizes of one call, from the refs' NCHW dims.
struct Geometry {
  std::int64_t n, c, h, w;  // input
  std::int64_t o, kh, kw;   // weight [o, c / groups, kh, kw]
  std::int64_t ho, wo;      // output
  std::int64_t groups, cg, og;
  std::int64_t sh, sw, ph, pw, dh, dw;  // stride, pad_begin, dilation

  explicit Geometry(const ConvArgs& a)
      : n(a.input.sizes[0]),
        c(a.input.sizes[1]),
        h(a.input.sizes[2]),
        w(a.input.sizes[3]),
        o(a.weight.sizes[0]),
        kh(a.weight.sizes[2]),
        kw(a.weight.sizes[3]),
        ho(a.output.sizes[2]),
        wo(a.output.sizes[3]),
        groups(a.groups),
        cg(c / a.groups),
        og(o / a.groups),
        sh(a.stride[0]),
        sw(a.stride[1]),
        ph(a.pad_begin[0]),
        pw(a.pad_begin[1]),
        dh(a.dilation[0]),
        dw(a.dilation[1]) {}

  std::int64_t k() const { return cg * kh * kw; }
  std::int64_t p() const { return ho * wo; }
  // col is the input itself: every output pixel reads exactly its own input pixel.
  bool pointwise() const {
    return kh == 1 && kw == 1 && sh == 1 && sw == 1 && ph == 0 && pw == 0 && ho == h && wo == w;
  }
  // Multiply-adds of one sample, for deciding how many threads the call is worth.
  double macs_per_sample() const {
    return static_cast<double>(o) * static_cast<double>(k()) * static_cast<double>(p());
  }
};

// For kernel tap offset `off` (j * dw - pw) along a row of `w` input pixels read with stride s into
// `wo` outputs: the outputs [begin, end) whose input pixel x * s + off lies inside the row.
struct Span {
  std::int64_t begin, end;
};
Span inside(std::int64_t off, std::int64_t s, std::int64_t w, std::int64_t wo) {
  // x * s + off >= 0  <=>  x >= ceil(-off / s);  x * s + off < w  <=>  x < ceil((w - off) / s).
  auto ceil_div = [](std::int64_t a, std::int64_t b) {
    return a >= 0 ? (a + b - 1) / b : -((-a) / b);
  };
  const std::int64_t begin = std::clamp<std::int64_t>(ceil_div(-off, s), 0, wo);
  const std::int64_t end = std::clamp<std::int64_t>(ceil_div(w - off, s), begin, wo);
  return {begin, end};
}

template <typename T>
using Vec = Eigen::Map<Eigen::Array<T, Eigen::Dynamic, 1>>;
template <typename T>
using ConstVec = Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>>;

// Short runs (a row is often 7 to 28 pixels) are copied and zeroed through Eigen's own vector
// loops: GCC turns a plain loop into a memcpy or memset call, which costs more than the run itself.
template <typename T>
void zero(T* dst, std::int64_t n) {
  if (n > 0) Vec<T>(dst, n).setZero();
}

// The "block" case: kernel tap (i, j) of a stride-1 convolution whose output rows are as wide as
// the input's (wo == w, as with padding="same"). Output pixel k of the tap's col row reads input
// pixel k + shift of the plane, for every output row that reads inside the input; so all of those
// rows are one run, except the columns that fall in the left or right padding, which read a
// neighbouring row's pixel (or none, at the plane's ends) and are set to 0 separately.
bool blocks(const Geometry& g) { return g.sh == 1 && g.sw == 1 && g.wo == g.w; }

// Zeroes columns [from, to) of rows ys of a col row: a few pixels per row, strided (no memset).
template <typename T>
void zero_columns(T* row, std::int64_t wo, std::int64_t from, std::int64_t to, Span ys) {
  for (std::int64_t x = from; x < to; ++x) {
    for (std::int64_t y = ys.begin; y < ys.end; ++y) row[y * wo + x] = T(0);
  }
}

// col [K, P] from one sample's group of channels `in` [Cg, H, W].
template <typename T>
void im2col(const Geometry& g, const T* in, T* col) {
  const std::int64_t p = g.p();
  const bool block = blocks(g);
  T* row = col;
  for (std::int64_t c = 0; c < g.cg; ++c) {
    const T* plane = in + c * g.h * g.w;
    for (std::int64_t i = 0; i < g.kh; ++i) {
      const std::int64_t y_off = i * g.dh - g.ph;
      const Span ys = inside(y_off, g.sh, g.h, g.ho);
      for (std::int64_t j = 0; j < g.kw; ++j, row += p) {
        const std::int64_t x_off = j * g.dw - g.pw;
        const Span xs = inside(x_off, g.sw, g.w, g.wo);
        zero(row, ys.begin * g.wo);  // rows reading the top and bottom padding
        zero(row + ys.end * g.wo, (g.ho - ys.end) * g.wo);
        if (block) {
          const std::int64_t shift = y_off * g.w + x_off;
          const std::int64_t begin = std::max(ys.begin * g.wo, -shift),
                             end = std::min(ys.end * g.wo, g.h * g.w - shift);
          zero(row + ys.begin * g.wo, begin - ys.begin * g.wo);
          if (end > begin)
            Vec<T>(row + begin, end - begin) = ConstVec<T>(plane + begin + shift, end - begin);
          zero(row + std::max(begin, end), ys.end * g.wo - std::max(begin, end));
          zero_columns(row, g.wo, 0, xs.begin, ys);
          zero_columns(row, g.wo, xs.end, g.wo, ys);
          continue;
        }
        for (std::int64_t y = ys.begin; y < ys.end; ++y) {
          T* dst = row + y * g.wo;
          const T* src = plane + (y * g.sh + y_off) * g.w + x_off;
          zero(dst, xs.begin);
          if (g.sw == 1) {
            if (xs.end > xs.begin)
              Vec<T>(dst + xs.begin, xs.end - xs.begin) =
                  ConstVec<T>(src + xs.begin, xs.end - xs.begin);
          } else {
            for (std::int64_t x = xs.begin; x < xs.end; ++x) dst[x] = src[x * g.sw];
          }
          zero(dst + xs.end, g.wo - xs.end);
        }
      }
    }
  }
}

// The reverse of im2col: adds each entry of col [K, P] onto the input pixel it was read from, into
// `in` [Cg, H, W] (zeroed by the caller). Padding positions are dropped (in the block case, by
// zeroing them in col first: col is the caller's scratch).
template <typename T>
void col2im(const Geometry& g, T* col, T* in) {
  const std::int64_t p = g.p();
  const bool block = blocks(g);
  T* row = col;
  for (std::int64_t c = 0; c < g.cg; ++c) {
    T* plane = in + c * g.h * g.w;
    for (std::int64_t i = 0; i < g.kh; ++i) {
      const std::int64_t y_off = i * g.dh - g.ph;
      const Span ys = inside(y_off, g.sh, g.h, g.ho);
      for (std::int64_t j = 0; j < g.kw; ++j, row += p) {
        const std::int64_t x_off = j * g.dw - g.pw;
        const Span xs = inside(x_off, g.sw, g.w, g.wo);
        if (block) {
          zero_columns(row, g.wo, 0, xs.begin, ys);
          zero_columns(row, g.wo, xs.end, g.wo, ys);
          const std::int64_t shift = y_off * g.w + x_off;
          const std::int64_t begin = std::max(ys.begin * g.wo, -shift),
                             end = std::min(ys.end * g.wo, g.h * g.w - shift);
          if (end > begin)
            Vec<T>(plane + begin + shift, end - begin) += ConstVec<T>(row + begin, end - begin);
          continue;
        }
        for (std::int64_t y = ys.begin; y < ys.end; ++y) {
          const T* src = row + y * g.wo;
          T* dst = plane + (y * g.sh + y_off) * g.w + x_off;
          if (g.sw == 1) {
            if (xs.end > xs.begin)
              Vec<T>(dst + xs.begin, xs.end - xs.begin) +=
                  ConstVec<T>(src + xs.begin, xs.end - xs.begin);
          } else {
            for (std::int64_t x = xs.begin; x < xs.end; ++x) dst[x * g.sw] += src[x];
          }
        }
      }
    }
  }
}

// Samples per chunk of parallel_for: enough that a chunk is some tens of microseconds of GEMM
// (waking a thread costs a few).
constexpr double kMinChunkMacs = 1e6;
std::int64_t grain(const Geometry& g) {
  return std::max<std::int64_t>(
      1, static_cast<std::int64_t>(kMinChunkMacs / std::max(g.macs_per_sample(), 1.0)));
}

template <typename T>
void forward(const Geometry& g, const T* in, const T* weight, T* out) {
  const std::int64_t k = g.k(), p = g.p();
  parallel_for(g.n, grain(g), [&](std::int64_t begin, std::int64_t end) {
    std::vector<T> col(g.pointwise() ? 0
                                     : static_cast<std::size_t>(k * p));  // this chunk's lowering
    for (std::int64_t n = begin; n < end; ++n) {
      for (std::int64_t grp = 0; grp < g.groups; ++grp) {
        const T* x = in + (n * g.c + grp * g.cg) * g.h * g.w;
        if (!g.pointwise()) im2col(g, x, col.data());
        const ConstRowMap<T> w_g(weight + grp * g.og * k, g.og, k);
        const ConstRowMap<T> patches(g.pointwise() ? x : col.data(), k, p);
        RowMap<T> y(out + (n * g.o + grp * g.og) * p, g.og, p);
        y.noalias() = w_g * patches;
      }
    }
  });
}

template <typename T>
void backward_input(const Geometry& g, const T* grad_out, const T* weight, T* grad_in) {
  const std::int64_t k = g.k(), p = g.p();
  parallel_for(g.n, grain(g), [&](std::int64_t begin, std::int64_t end) {
    std::vector<T> col(g.pointwise() ? 0 : static_cast<std::size_t>(k * p));
    for (std::int64_t n = begin; n < end; ++n) {
      for (std::int64_t grp = 0; grp < g.groups; ++grp) {
        T* dx = grad_in + (n * g.c + grp * g.cg) * g.h * g.w;
        // W_g^T: the group's [Og, K] row-major rows read as a column-major [K, Og] matrix.
        const ConstColMap<T> w_t(weight + grp * g.og * k, k, g.og);
        const ConstRowMap<T> dy(grad_out + (n * g.o + grp * g.og) * p, g.og, p);
        RowMap<T> cols(g.pointwise() ? dx : col.data(), k, p);
        cols.noalias() = w_t * dy;
        if (!g.pointwise()) {
          std::fill(dx, dx + g.cg * g.h * g.w, T(0));
          col2im(g, col.data(), dx);
        }
      }
    }
  });
}

template <typename T>
void backward_weight(const Geometry& g, const T* in, const T* grad_out, T* grad_weight) {
  const std::int64_t k = g.k(), p = g.p(), wsize = g.o * k;
  // The batch in `parts` runs of samples, each summed into its own gradient (part 0 into
  // grad_weight itself), the parts added at the end: one part per thread the work is worth.
  const std::int64_t parts =
      std::clamp<std::int64_t>(g.n / grain(g), 1, std::min<std::int64_t>(g.n, get_num_threads()));
  std::vector<std::vector<T>> partial(static_cast<std::size_t>(parts - 1),
                                      std::vector<T>(static_cast<std::size_t>(wsize)));
  parallel_for(parts, 1, [&](std::int64_t part_begin, std::int64_t part_end) {
    std::vector<T> col(g.pointwise() ? 0 : static_cast<std::size_t>(k * p));
    for (std::int64_t part = part_begin; part < part_end; ++part) {
      T* dw = part == 0 ? grad_weight : partial[static_cast<std::size_t>(part - 1)].data();
      std::fill(dw, dw + wsize, T(0));
      for (std::int64_t n = g.n * part / parts; n < g.n * (part + 1) / parts; ++n) {
        for (std::int64_t grp = 0; grp < g.groups; ++grp) {
          const T* x = in + (n * g.c + grp * g.cg) * g.h * g.w;
          if (!g.pointwise()) im2col(g, x, col.data());
          // col^T: col's [K, P] row-major rows read as a column-major [P, K] matrix.
          const ConstColMap<T> patches_t(g.pointwise() ? x : col.data(), p, k);
          const ConstRowMap<T> dy(grad_out + (n * g.o + grp * g.og) * p, g.og, p);
          RowMap<T> dw_g(dw + grp * g.og * k, g.og, k);
          dw_g.noalias() += dy * patches_t;
        }
      }
    }
  });
  for (const auto& s : partial) Vec<T>(grad_weight, wsize) += ConstVec<T>(s.data(), wsize);
}

// A ref as contiguous NCHW data of the compute type C: its own memory when it already is, else a
// copy in `buf` (copy converts the dtype and gathers a channels-last layout).
template <typename C>
C* dense(const TensorRef& r, std::vector<C>& buf, bool read) {
  if (r.dtype == dtype_of_v<C> && r.is_contiguous()) return r.ptr<C>();
  buf.resize(static_cast<std::size_t>(r.numel()));
  if (read) copy(0, TensorRef{buf.data(), dtype_of_v<C>, r.sizes, contiguous_strides(r.sizes)}, r);
  return buf.data();
}

// Runs `compute` (a forward, backward_input or backward_weight over contiguous C data) with the
// refs in, in and out (in that order: the written one last), copying into and out of buffers where
// a ref is not contiguous C.
template <typename C, typename Compute>
void run(const Geometry& g, const TensorRef& a, const TensorRef& b, const TensorRef& out,
         Compute compute) {
  std::vector<C> a_buf, b_buf, out_buf;
  const C* a_data = dense(a, a_buf, true);
  const C* b_data = dense(b, b_buf, true);
  C* out_data = dense(out, out_buf, false);
  compute(g, a_data, b_data, out_data);
  if (out_data != out.ptr<C>()) {
    copy(0, out, TensorRef{out_data, dtype_of_v<C>, out.sizes, contiguous_strides(out.sizes)});
  }
}

void check_conv_refs(const ConvArgs& a, const char* who) {
  EMBER_CHECK(a.input.ndim() == 4 && a.weight.ndim() == 4 && a.output.ndim() == 4, "ember: cpu ",
              who, ": refs must be 4-D, got input ", a.input.sizes.str(), ", weight ",
              a.weight.sizes.str(), ", output ", a.output.sizes.str());
  EMBER_CHECK(a.input.dtype == a.weight.dtype && a.input.dtype == a.output.dtype, "ember: cpu ",
              who, ": dtypes differ: input ", dtype_name(a.input.dtype), ", weight ",
              dtype_name(a.weight.dtype), ", output ", dtype_name(a.output.dtype));
}

// Every dtype through its compute type: float32 and float64 as they are, 16-bit widened to float32.
template <typename Compute>
void dispatch(const ConvArgs& args, const char* who, const TensorRef& a, const TensorRef& b,
              const TensorRef& out, Compute compute) {
  check_conv_refs(args, who);
  if (out.numel() == 0) return;
  if (a.numel() == 0 || b.numel() == 0) {  // an empty sum (core never calls with one)
    fill(0, out, 0.0);
    return;
  }
  const Geometry g(args);
  dispatch_arithmetic(args.input.dtype, who, [&](auto tag) {
    using C = compute_t<decltype(tag)>;
    run<C>(g, a, b, out,
           [&](const Geometry& geo, const C* x, const C* y, C* z) { compute(geo, x, y, z); });
  });
}

}  // namespace

void conv2d(int /*device*/, const ConvArgs& args) {
  dispatch(
      args, "conv2d", args.input, args.weight, args.output,
      [](const Geometry& g, const auto* in, const auto* w, auto* out) { forward(g, in, w, out); });
}

void conv2d_backward_input(int /*device*/, const ConvArgs& args) {
  dispatch(args, "conv2d_backward_input", args.output, args.weight, args.input,
           [](const Geometry& g, const auto* dy, const auto* w, auto* dx) {
             backward_input(g, dy, w, dx);
           });
}

void conv2d_backward_weight(int /*device*/, const ConvArgs& args) {
  dispatch(args, "conv2d_backward_weight", args.input, args.output, args.weight,
           [](const Geometry& g, const auto* x, const auto* dy, auto* dw) {
             backward_weight(g, x, dy, dw);
           });
}

}  // namespace ember::kernels::cpu
