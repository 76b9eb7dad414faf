// Element-wise CPU kernels: unary ops and their backward, binary ops, tensor-scalar ops, strided
// copy with dtype conversion, and fill. The math is the functors of kernels/elementwise_math.h,
// shared with the CUDA kernels.
//
// Every kernel has the same shape: a per-run function (a plain loop over a contiguous run, which
// the compiler vectorises, a broadcast scalar hoisted, otherwise a strided loop), reached either
// directly when all operands are contiguous or a broadcast scalar (no plan built: small tensors
// pay only a few checks), or through the shared N-d plan in strided_loop.h.
#include <algorithm>
#include <cstring>
#include <type_traits>

#include "ember/core/dtype.h"
#include "ember/core/error.h"
#include "ember/kernels/cpu/cpu_kernels.h"
#include "ember/kernels/cpu/strided_loop.h"
#include "ember/kernels/elementwise_math.h"

namespace ember::kernels::cpu {

namespace {

// An input operand: its first element and its layout, or no layout for a host scalar that every
// element reads (binary_scalar's scalar).
template <typename T> struct Operand {
  const T* data;
  const TensorRef* ref;  // null: broadcast scalar
  bool contiguous() const { return ref != nullptr && ref->is_contiguous(); }
  bool scalar() const { return ref == nullptr || is_broadcast_scalar(*ref); }
  const std::int64_t* strides() const { return ref != nullptr ? ref->strides.data() : nullptr; }
};

// ---- Unary ----------------------------------------------------------------------------------

template <typename Op, typename T>
void unary_run(T* o, std::int64_t so, const T* a, std::int64_t sa, std::int64_t n) {
  constexpr Op op{};
  if (so == 1 && sa == 1) {
    for (std::int64_t i = 0; i < n; ++i) o[i] = op(a[i]);
    return;
  }
  if (sa == 0) {  // broadcast input: one evaluation for the whole run
    const T v = op(*a);
    for (std::int64_t i = 0; i < n; ++i) o[i * so] = v;
    return;
  }
  for (std::int64_t i = 0; i < n; ++i) o[i * so] = op(a[i * sa]);
}

template <typename Op, typename T>
void unary_loop(const TensorRef& out, const TensorRef& in) {
  T* o = out.ptr<T>();
  const T* a = in.ptr<T>();
  if (out.is_contiguous()) {
    if (in.is_contiguous()) return unary_run<Op>(o, 1, a, 1, out.numel());
    if (is_broadcast_scalar(in)) return unary_run<Op>(o, 1, a, 0, out.numel());
  }
  const auto plan = make_plan<2>(out.sizes, {out.strides.data(), in.strides.data()});
  run_plan(plan, [&](const auto& off, const auto& st, std::int64_t n) {
    unary_run<Op>(o + off[0], st[0], a + off[1], st[1], n);
  });
}

// ---- Binary ---------------------------------------------------------------------------------

// Out is the operands' storage type, or bool for comparisons. A and B differ only for a scalar
// operand held in the compute type (binary_scalar on bfloat16/float16).
template <typename Op, typename A, typename B, typename Out>
void binary_run(Out* o, std::int64_t so, const A* a, std::int64_t sa, const B* b, std::int64_t sb,
                std::int64_t n) {
  constexpr Op op{};
  if (so == 1) {
    if (sa == 1 && sb == 1) {
      for (std::int64_t i = 0; i < n; ++i) o[i] = op(a[i], b[i]);
      return;
    }
    // One side broadcast along the run: read it once (it cannot alias out, which never has a
    // stride-0 dim), so the loop is as tight as the contiguous one.
    if (sa == 1 && sb == 0) {
      const B bv = *b;
      for (std::int64_t i = 0; i < n; ++i) o[i] = op(a[i], bv);
      return;
    }
    if (sa == 0 && sb == 1) {
      const A av = *a;
      for (std::int64_t i = 0; i < n; ++i) o[i] = op(av, b[i]);
      return;
    }
  }
  for (std::int64_t i = 0; i < n; ++i) o[i * so] = op(a[i * sa], b[i * sb]);
}

template <typename Op, typename A, typename B>
void binary_loop(const TensorRef& out, Operand<A> a, Operand<B> b) {
  using Out = decltype(Op{}(A{}, B{}));
  Out* o = out.ptr<Out>();
  if (out.is_contiguous()) {
    const bool ac = a.contiguous(), bc = b.contiguous();
    if (ac && bc) return binary_run<Op>(o, 1, a.data, 1, b.data, 1, out.numel());
    if (ac && b.scalar()) return binary_run<Op>(o, 1, a.data, 1, b.data, 0, out.numel());
    if (bc && a.scalar()) return binary_run<Op>(o, 1, a.data, 0, b.data, 1, out.numel());
  }
  const auto plan = make_plan<3>(out.sizes, {out.strides.data(), a.strides(), b.strides()});
  run_plan(plan, [&](const auto& off, const auto& st, std::int64_t n) {
    binary_run<Op>(o + off[0], st[0], a.data + off[1], st[1], b.data + off[2], st[2], n);
  });
}

// T: the tensors' storage type.
template <typename T, typename A, typename B>
void binary_dispatch(BinaryOp op, const TensorRef& out, Operand<A> a, Operand<B> b) {
  math::visit(op, [&](auto f) { binary_loop<math::OnStorage<decltype(f), T>>(out, a, b); });
}

// ---- Copy and fill --------------------------------------------------------------------------

template <typename To, typename From>
void copy_run(To* o, std::int64_t so, const From* a, std::int64_t sa, std::int64_t n) {
  if (so == 1 && sa == 1) {
    if constexpr (std::is_same_v<To, From>) {
      // memmove: an in-place copy (same view) is allowed and memcpy would be UB there.
      std::memmove(o, a, static_cast<std::size_t>(n) * sizeof(To));
    } else {
      for (std::int64_t i = 0; i < n; ++i) o[i] = convert<To>(a[i]);
    }
    return;
  }
  if (sa == 0) {  // broadcast source: convert once
    const To v = convert<To>(*a);
    for (std::int64_t i = 0; i < n; ++i) o[i * so] = v;
    return;
  }
  for (std::int64_t i = 0; i < n; ++i) o[i * so] = convert<To>(a[i * sa]);
}

template <typename To, typename From>
void copy_loop(const TensorRef& dst, const TensorRef& src) {
  To* o = dst.ptr<To>();
  const From* a = src.ptr<From>();
  if (dst.is_contiguous()) {
    if (src.is_contiguous()) return copy_run(o, 1, a, 1, dst.numel());
    if (is_broadcast_scalar(src)) return copy_run(o, 1, a, 0, dst.numel());
  }
  const auto plan = make_plan<2>(dst.sizes, {dst.strides.data(), src.strides.data()});
  run_plan(plan, [&](const auto& off, const auto& st, std::int64_t n) {
    copy_run(o + off[0], st[0], a + off[1], st[1], n);
  });
}

template <typename T>
void fill_loop(const TensorRef& out, T value) {
  T* o = out.ptr<T>();
  if (out.is_contiguous()) {
    std::fill_n(o, out.numel(), value);
    return;
  }
  const auto plan = make_plan<1>(out.sizes, {out.strides.data()});
  run_plan(plan, [&](const auto& off, const auto& st, std::int64_t n) {
    T* p = o + off[0];
    const std::int64_t s = st[0];
    for (std::int64_t i = 0; i < n; ++i) p[i * s] = value;
  });
}

}  // namespace

void unary(int /*device*/, UnaryOp op, const TensorRef& out, const TensorRef& in) {
  dispatch_arithmetic(out.dtype, "unary", [&](auto tag) {
    using T = decltype(tag);
    math::visit(op, [&](auto f) { unary_loop<math::OnStorage<decltype(f), T>, T>(out, in); });
  });
}

void unary_backward(int /*device*/, UnaryOp op, const TensorRef& grad_in, const TensorRef& grad_out,
                    const TensorRef& saved) {
  dispatch_arithmetic(grad_in.dtype, "unary_backward", [&](auto tag) {
    using T = decltype(tag);
    math::visit(op, [&](auto f) {
      binary_loop<math::OnStorage<math::BackwardOf<decltype(f)>, T>>(
          grad_in, Operand<T>{grad_out.ptr<T>(), &grad_out}, Operand<T>{saved.ptr<T>(), &saved});
    });
  });
}

void binary(int /*device*/, BinaryOp op, const TensorRef& out, const TensorRef& a,
            const TensorRef& b) {
  if (math::returns_bool(op)) {  // comparisons: every dtype
    dispatch_dtype(a.dtype, [&](auto tag) {
      using T = decltype(tag);
      math::visit(op, [&](auto f) {
        if constexpr (math::is_comparison<decltype(f)>) {
          binary_loop<math::OnStorage<decltype(f), T>>(out, Operand<T>{a.ptr<T>(), &a}, Operand<T>{b.ptr<T>(), &b});
        }
      });
    });
    return;
  }
  dispatch_arithmetic(a.dtype, "binary", [&](auto tag) {
    using T = decltype(tag);
    binary_dispatch<T>(op, out, Operand<T>{a.ptr<T>(), &a}, Operand<T>{b.ptr<T>(), &b});
  });
}

void binary_scalar(int /*device*/, BinaryOp op, const TensorRef& out, const TensorRef& a,
                   double scalar, bool scalar_first) {
  dispatch_arithmetic(a.dtype, "binary_scalar", [&](auto tag) {
    using T = decltype(tag);
    // The scalar is rounded to the compute type first (float for bfloat16 and float16), as PyTorch
    // does for a Python number combined with a float tensor.
    using C = compute_t<T>;
    const C s = static_cast<C>(scalar);
    const Operand<T> tensor{a.ptr<T>(), &a};
    const Operand<C> value{&s, nullptr};
    if (scalar_first) return binary_dispatch<T>(op, out, value, tensor);
    return binary_dispatch<T>(op, out, tensor, value);
  });
}

void copy(int /*device*/, const TensorRef& dst, const TensorRef& src) {
  dispatch_dtype(dst.dtype, [&](auto to) {
    dispatch_dtype(src.dtype, [&](auto from) {
      copy_loop<decltype(to), decltype(from)>(dst, src);
    });
  });
}

void fill(int /*device*/, const TensorRef& out, double value) {
  dispatch_dtype(out.dtype, [&](auto tag) {
    using T = decltype(tag);
    fill_loop<T>(out, static_cast<T>(value));
  });
}

}  // namespace ember::kernels::cpu
