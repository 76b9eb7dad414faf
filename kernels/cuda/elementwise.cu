// Element-wise ops: out[i] = f(in_0[i], ..., in_{N-1}[i]) for unary ops and their backward, binary,
// binary-with-scalar, copy (with float <-> double conversion) and fill. The math is the functors of
// kernels/elementwise_math.h, shared with the CPU loops; this file is compiled with --fmad=false so
// that they round as the CPU rounds them (see CMakeLists.txt).
//
// One launcher serves them all, with three kernels:
//  - flat_vec_kernel: every operand contiguous and 16-byte aligned: 16-byte loads and stores
//    (4 floats or 2 doubles per thread per step), the last numel % 4 (or % 2) elements apart;
//  - flat_kernel: every operand contiguous, some pointer not aligned (a view at an odd offset);
//  - strided_kernel: views and broadcast inputs; offsets from div/mod of the linear index
//    (indexing.cuh), in 32-bit arithmetic when the tensor is small enough.
// All are grid-stride loops: any numel works with a grid sized to the GPU.
#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>
#include <utility>

#include "ember/core/error.h"
#include "ember/kernels/cuda/check.h"
#include "ember/kernels/cuda/device.h"
#include "ember/kernels/cuda/indexing.cuh"
#include "ember/kernels/cuda/launch.cuh"
#include "ember/kernels/cuda/elementwise.h"
#include "ember/kernels/cuda/overlapped_launch.cuh"
#include "ember/kernels/cuda/runtime.h"
#include "ember/kernels/elementwise_math.h"

namespace ember::kernels::cuda_impl {

namespace {

// The input pointers, passed by value as a kernel parameter (fill has no inputs).
template <typename T, int N> struct Inputs {
  const T* ptr[N > 0 ? N : 1];
};

// Sixteen bytes of T, loaded and stored as one vector instruction.
template <typename T> struct alignas(16) Pack {
  static constexpr int kSize = 16 / sizeof(T);
  T v[kSize];
};

// op(x[0], ..., x[N-1]), converted to the output type.
template <typename Out, typename Op, typename In, int N, std::size_t... K>
__device__ __forceinline__ Out apply(const Op& op, const In (&x)[N > 0 ? N : 1], std::index_sequence<K...>) {
  return static_cast<Out>(op(x[K]...));
}

template <typename Out, typename In, int N, typename Op>
__global__ void flat_kernel(Out* out, Inputs<In, N> in, std::int64_t n, Op op) {
  overlap_prologue();
  const std::int64_t stride = static_cast<std::int64_t>(gridDim.x) * blockDim.x;
  for (std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
    In x[N > 0 ? N : 1];
#pragma unroll
    for (int k = 0; k < N; ++k) x[k] = in.ptr[k][i];
    out[i] = apply<Out, Op, In, N>(op, x, std::make_index_sequence<N>{});
  }
}

template <typename T, int N, typename Op>
__global__ void flat_vec_kernel(T* out, Inputs<T, N> in, std::int64_t n, Op op) {
  overlap_prologue();
  constexpr int V = Pack<T>::kSize;
  const std::int64_t n_packs = n / V;
  const std::int64_t thread = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  const std::int64_t stride = static_cast<std::int64_t>(gridDim.x) * blockDim.x;
  for (std::int64_t p = thread; p < n_packs; p += stride) {
    Pack<T> packs[N > 0 ? N : 1];
#pragma unroll
    for (int k = 0; k < N; ++k) packs[k] = reinterpret_cast<const Pack<T>*>(in.ptr[k])[p];
    Pack<T> result;
#pragma unroll
    for (int j = 0; j < V; ++j) {
      T x[N > 0 ? N : 1];
#pragma unroll
      for (int k = 0; k < N; ++k) x[k] = packs[k].v[j];
      result.v[j] = apply<T, Op, T, N>(op, x, std::make_index_sequence<N>{});
    }
    reinterpret_cast<Pack<T>*>(out)[p] = result;
  }
  // The tail (fewer than V elements) goes to the first threads of the grid.
  const std::int64_t i = n_packs * V + thread;
  if (i < n) {
    T x[N > 0 ? N : 1];
#pragma unroll
    for (int k = 0; k < N; ++k) x[k] = in.ptr[k][i];
    out[i] = apply<T, Op, T, N>(op, x, std::make_index_sequence<N>{});
  }
}

// Operand 0 of `calc` is the output, operand k + 1 is input k.
template <typename Out, typename In, int N, typename Op, typename Index>
__global__ void strided_kernel(Out* out, Inputs<In, N> in, OffsetCalc<N + 1, Index> calc, Index n, Op op) {
  overlap_prologue();
  const Index stride = static_cast<Index>(gridDim.x) * static_cast<Index>(blockDim.x);
  for (Index i = static_cast<Index>(blockIdx.x) * static_cast<Index>(blockDim.x) + static_cast<Index>(threadIdx.x);
       i < n; i += stride) {
    Index offsets[N + 1];
    calc.get(i, offsets);
    In x[N > 0 ? N : 1];
#pragma unroll
    for (int k = 0; k < N; ++k) x[k] = in.ptr[k][offsets[k + 1]];
    out[offsets[0]] = apply<Out, Op, In, N>(op, x, std::make_index_sequence<N>{});
  }
}

bool aligned16(const void* p) { return reinterpret_cast<std::uintptr_t>(p) % 16 == 0; }

// out = op(ins...) element-wise. Inputs have out's sizes (already broadcast) and dtype In.
template <typename Out, typename In, int N, typename Op>
void launch_elementwise(const TensorRef& out, const TensorRef* const (&ins)[N > 0 ? N : 1], Op op, int device) {
  const std::int64_t n = out.numel();
  if (n == 0) return;
  const DeviceContext& ctx = context(device);
  Inputs<In, N> in{};
  bool contiguous = out.is_contiguous();
  bool aligned = aligned16(out.data);
  for (int k = 0; k < N; ++k) {
    in.ptr[k] = ins[k]->template ptr<const In>();
    contiguous = contiguous && ins[k]->is_contiguous();
    aligned = aligned && aligned16(ins[k]->data);
  }
  Out* dst = out.ptr<Out>();

  if (contiguous) {
    if constexpr (std::is_same_v<Out, In>) {
      if (aligned) {
        const unsigned grid = grid_size(n / Pack<In>::kSize, ctx.sm_count);
        launch_overlapped<flat_vec_kernel<Out, N, Op>>(ctx, grid, kBlockSize, dst, in, n, op);
        return;
      }
    }
    launch_overlapped<flat_kernel<Out, In, N, Op>>(ctx, grid_size(n, ctx.sm_count), kBlockSize, dst, in, n, op);
    return;
  }

  const Strides* strides[N + 1];
  strides[0] = &out.strides;
  for (int k = 0; k < N; ++k) strides[k + 1] = &ins[k]->strides;
  const Layout<N + 1> layout = make_layout<N + 1>(out.sizes, strides);
  const unsigned grid = grid_size(n, ctx.sm_count);
  if (fits_32bit(layout)) {
    launch_overlapped<strided_kernel<Out, In, N, Op, std::int32_t>>(
        ctx, grid, kBlockSize, dst, in, OffsetCalc<N + 1, std::int32_t>(layout), static_cast<std::int32_t>(n), op);
  } else {
    launch_overlapped<strided_kernel<Out, In, N, Op, std::int64_t>>(
        ctx, grid, kBlockSize, dst, in, OffsetCalc<N + 1, std::int64_t>(layout), n, op);
  }
}

// `out_dtype`: what the output must be, the input's dtype unless the op is a comparison (bool).
void check_operand(const char* op, const TensorRef& out, const TensorRef& in, DType out_dtype) {
  EMBER_CHECK(in.sizes == out.sizes, "ember (CUDA backend) ", op, ": input sizes ", in.sizes.str(),
              " differ from output sizes ", out.sizes.str(), " (inputs must be broadcast by the caller)");
  EMBER_CHECK(out.dtype == out_dtype, "ember (CUDA backend) ", op, ": output dtype ", dtype_name(out.dtype),
              " for an input of dtype ", dtype_name(in.dtype), " (expected ", dtype_name(out_dtype), ")");
}
void check_operand(const char* op, const TensorRef& out, const TensorRef& in) {
  check_operand(op, out, in, in.dtype);
}

// Functors built from the op table with a bound scalar or constant.
// T: the elements' type; S: the scalar's, the compute type (float for bfloat16 and float16).
template <typename Op, typename T, typename S> struct ScalarRight {  // x op s
  Op op;
  S s;
  __device__ auto operator()(T x) const { return op(x, s); }
};
template <typename Op, typename T, typename S> struct ScalarLeft {  // s op x
  Op op;
  S s;
  __device__ auto operator()(T x) const { return op(s, x); }
};
template <typename T> struct Constant {
  T value;
  __device__ T operator()() const { return value; }
};
// A copy's element conversion (core/half_types.h), the same as the CPU's.
template <typename To> struct ConvertTo {
  template <typename From> __device__ To operator()(From x) const { return convert<To>(x); }
};

}  // namespace

void unary(int device, UnaryOp op, const TensorRef& out, const TensorRef& in) {
  check_operand("unary", out, in);
  const DeviceGuard guard(device);
  dispatch_arithmetic(out.dtype, "unary", [&](auto zero) {
    using T = decltype(zero);
    math::visit(op, [&](auto f) {
      launch_elementwise<T, T, 1>(out, {&in}, math::OnStorage<decltype(f), T>{}, device);
    });
  });
}

void unary_backward(int device, UnaryOp op, const TensorRef& grad_in, const TensorRef& grad_out,
                    const TensorRef& saved) {
  check_operand("unary_backward", grad_in, grad_out);
  check_operand("unary_backward", grad_in, saved);
  const DeviceGuard guard(device);
  dispatch_arithmetic(grad_in.dtype, "unary_backward", [&](auto zero) {
    using T = decltype(zero);
    math::visit(op, [&](auto f) {
      launch_elementwise<T, T, 2>(grad_in, {&grad_out, &saved},
                                  math::OnStorage<math::BackwardOf<decltype(f)>, T>{}, device);
    });
  });
}

void binary(int device, BinaryOp op, const TensorRef& out, const TensorRef& a, const TensorRef& b) {
  const DType out_dtype = math::result_dtype(op, a.dtype);
  check_operand("binary", out, a, out_dtype);
  check_operand("binary", out, b, out_dtype);
  const DeviceGuard guard(device);
  if (math::returns_bool(op)) {  // comparisons: every dtype
    dispatch_dtype(a.dtype, [&](auto zero) {
      using T = decltype(zero);
      math::visit(op, [&](auto f) {
        if constexpr (math::is_comparison<decltype(f)>) {
          launch_elementwise<bool, T, 2>(out, {&a, &b}, math::OnStorage<decltype(f), T>{}, device);
        }
      });
    });
    return;
  }
  dispatch_arithmetic(a.dtype, "binary", [&](auto zero) {
    using T = decltype(zero);
    math::visit(op, [&](auto f) {
      if constexpr (!math::is_comparison<decltype(f)>) {
        using Op = math::OnStorage<decltype(f), T>;
        launch_elementwise<T, T, 2>(out, {&a, &b}, Op{}, device);
      }
    });
  });
}

void binary_scalar(int device, BinaryOp op, const TensorRef& out, const TensorRef& a, double scalar,
                   bool scalar_first) {
  check_operand("binary_scalar", out, a, math::result_dtype(op, a.dtype));
  const DeviceGuard guard(device);
  dispatch_arithmetic(a.dtype, "binary_scalar", [&](auto zero) {
    using T = decltype(zero);
    // The scalar takes the tensor's compute type (float for bfloat16 and float16), as in PyTorch.
    using S = compute_t<T>;
    const S s = static_cast<S>(scalar);
    math::visit(op, [&](auto f) {
      using Op = math::OnStorage<decltype(f), T>;
      using Out = decltype(Op{}(T{}, S{}));
      if (scalar_first) launch_elementwise<Out, T, 1>(out, {&a}, ScalarLeft<Op, T, S>{Op{}, s}, device);
      else launch_elementwise<Out, T, 1>(out, {&a}, ScalarRight<Op, T, S>{Op{}, s}, device);
    });
  });
}

void fill(int device, const TensorRef& out, double value) {
  const std::int64_t n = out.numel();
  if (n == 0) return;
  const DeviceGuard guard(device);
  // +0.0 is all-zero bits in every dtype: a contiguous zero fill is a memset.
  if (value == 0.0 && !std::signbit(value) && out.is_contiguous()) {
    const std::size_t bytes = static_cast<std::size_t>(n) * element_size(out.dtype);
    EMBER_CUDA_CHECK(cudaMemsetAsync(out.data, 0, bytes, context(device).stream()));
    return;
  }
  dispatch_dtype(out.dtype, [&](auto zero) {
    using T = decltype(zero);
    launch_elementwise<T, T, 0>(out, {nullptr}, Constant<T>{static_cast<T>(value)}, device);
  });
}

void copy(int device, const TensorRef& dst, const TensorRef& src) {
  EMBER_CHECK(src.sizes == dst.sizes, "ember (CUDA backend) copy: source sizes ", src.sizes.str(),
              " differ from destination sizes ", dst.sizes.str());
  const std::int64_t n = dst.numel();
  if (n == 0) return;
  const DeviceGuard guard(device);
  if (src.dtype == dst.dtype && dst.is_contiguous() && src.is_contiguous()) {
    if (src.data == dst.data) return;
    const std::size_t bytes = static_cast<std::size_t>(n) * element_size(dst.dtype);
    EMBER_CUDA_CHECK(cudaMemcpyAsync(dst.data, src.data, bytes, cudaMemcpyDeviceToDevice,
                                     context(device).stream()));
    return;
  }
  dispatch_dtype(dst.dtype, [&](auto dst_zero) {
    dispatch_dtype(src.dtype, [&](auto src_zero) {
      using To = decltype(dst_zero);
      using From = decltype(src_zero);
      launch_elementwise<To, From, 1>(dst, {&src}, ConvertTo<To>{}, device);
    });
  });
}

}  // namespace ember::kernels::cuda_impl
