// Element types a tensor can hold, as data: one list gives each dtype's enum value, C++ type, name,
// size and what arithmetic on it accumulates in. float32 is the default, as in PyTorch.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "ember/core/error.h"
#include "ember/core/half_types.h"

// X(Name, C++ type, printed name, is_floating, accumulation dtype). The enum's values are the
// positions in this list; checkpoints store them, so new dtypes go at the end.
#define EMBER_DTYPES(X)                                  \
  X(Float32, float, "float32", true, Float64)            \
  X(Float64, double, "float64", true, Float64)           \
  X(BFloat16, ::ember::BFloat16, "bfloat16", true, Float32) \
  X(Float16, ::ember::Half, "float16", true, Float32)     \
  X(Int64, std::int64_t, "int64", false, Int64)          \
  X(Int32, std::int32_t, "int32", false, Int64)          \
  X(UInt8, std::uint8_t, "uint8", false, Int64)          \
  X(Bool, bool, "bool", false, Int64)

namespace ember {

#define EMBER_DTYPE_ENUM(Name, type, name, floating, accumulate) Name,
enum class DType : std::uint8_t { EMBER_DTYPES(EMBER_DTYPE_ENUM) };
#undef EMBER_DTYPE_ENUM

inline constexpr DType kFloat32 = DType::Float32;
inline constexpr DType kFloat64 = DType::Float64;
inline constexpr DType kBFloat16 = DType::BFloat16;
inline constexpr DType kFloat16 = DType::Float16;
inline constexpr DType kInt64 = DType::Int64;
inline constexpr DType kInt32 = DType::Int32;
inline constexpr DType kUInt8 = DType::UInt8;
inline constexpr DType kBool = DType::Bool;

#define EMBER_DTYPE_COUNT(Name, type, name, floating, accumulate) +1
inline constexpr int kDTypeCount = 0 EMBER_DTYPES(EMBER_DTYPE_COUNT);
#undef EMBER_DTYPE_COUNT
static_assert(kDTypeCount == 8, "a dtype was added: extend the dtype tests (tests/dtype_test.cpp)");

// Every dtype, in the list's order.
inline constexpr DType kDTypes[] = {
#define EMBER_DTYPE_VALUE(Name, type, name, floating, accumulate) DType::Name,
    EMBER_DTYPES(EMBER_DTYPE_VALUE)
#undef EMBER_DTYPE_VALUE
};

struct DTypeTraits {
  std::string_view name;  // as PyTorch prints it: "float32"
  std::size_t size;       // bytes per element
  bool is_floating;
  DType accumulate;  // what sums and products of many elements accumulate in
};

inline constexpr DTypeTraits kDTypeTraits[] = {
#define EMBER_DTYPE_TRAITS(Name, type, name, floating, accumulate) \
  {name, sizeof(type), floating, DType::accumulate},
    EMBER_DTYPES(EMBER_DTYPE_TRAITS)
#undef EMBER_DTYPE_TRAITS
};

// What a value outside the list (a corrupted or future code) reports, rather than reading past the
// table: size 0, so nothing is ever allocated or copied for it.
inline constexpr DTypeTraits kUnknownDTypeTraits = {"unknown dtype", 0, false, DType::Float64};

constexpr const DTypeTraits& traits(DType dtype) {
  const auto i = static_cast<std::size_t>(dtype);
  return i < static_cast<std::size_t>(kDTypeCount) ? kDTypeTraits[i] : kUnknownDTypeTraits;
}
constexpr std::size_t element_size(DType dtype) { return traits(dtype).size; }
constexpr std::string_view dtype_name(DType dtype) { return traits(dtype).name; }
constexpr bool is_floating(DType dtype) { return traits(dtype).is_floating; }

// Maps a C++ element type to its DType.
template <typename T> struct dtype_of;
#define EMBER_DTYPE_OF(Name, type, name, floating, accumulate) \
  template <> struct dtype_of<type> {                          \
    static constexpr DType value = DType::Name;                \
  };
EMBER_DTYPES(EMBER_DTYPE_OF)
#undef EMBER_DTYPE_OF
template <typename T> inline constexpr DType dtype_of_v = dtype_of<T>::value;

// Calls fn with a value of the C++ type that `dtype` stands for: the one place where a dtype
// becomes a template argument. Every dtype of the list is a case, so a new one reaches every
// caller at compile time. For storage work: copies, conversions, fills, printing.
template <typename Fn> decltype(auto) dispatch_dtype(DType dtype, Fn&& fn) {
  switch (dtype) {
#define EMBER_DTYPE_CASE(Name, type, name, floating, accumulate) \
  case DType::Name: return fn(type{});
    EMBER_DTYPES(EMBER_DTYPE_CASE)
#undef EMBER_DTYPE_CASE
  }
  EMBER_FAIL("ember: unknown dtype code ", static_cast<int>(dtype));
}

// The dtypes arithmetic works on: the floating ones, the cases of dispatch_arithmetic below. Core's
// ops check this first (ops::check_arithmetic_dtype), so that users see their op's name;
// dispatch_arithmetic throws too, naming the kernel, for any other dtype that reaches it.
constexpr bool has_arithmetic(DType dtype) { return is_floating(dtype); }

// The type arithmetic on elements of type T computes in (PyTorch's "opmath" type): float for the
// 16-bit floats, which kernels widen on load and round once on store, and T itself otherwise.
template <typename T> struct compute_type { using type = T; };
template <> struct compute_type<BFloat16> { using type = float; };
template <> struct compute_type<Half> { using type = float; };
template <typename T> using compute_t = typename compute_type<T>::type;

template <typename Fn> decltype(auto) dispatch_arithmetic(DType dtype, const char* op, Fn&& fn) {
  switch (dtype) {
    case DType::Float32: return fn(float{});
    case DType::Float64: return fn(double{});
    case DType::BFloat16: return fn(BFloat16{});
    case DType::Float16: return fn(Half{});
    default: break;
  }
  EMBER_FAIL("ember: ", op, " does not support dtype ", dtype_name(dtype),
             " (floating dtypes only); convert with .to(ember::kFloat32)");
}

// For the kernels that work on float32 and float64 only: the optimizers' fused updates (bfloat16
// parameters, with float32 master weights inside the optimizer, are not written yet) and CUDA's
// small-GEMM kernel (16-bit products go to cuBLAS instead).
template <typename Fn> decltype(auto) dispatch_float32_64(DType dtype, const char* op, Fn&& fn) {
  switch (dtype) {
    case DType::Float32: return fn(float{});
    case DType::Float64: return fn(double{});
    default: break;
  }
  EMBER_FAIL("ember: ", op, " does not support dtype ", dtype_name(dtype),
             " yet (float32 and float64 only); convert with .to(ember::kFloat32)");
}

}  // namespace ember
