// Element types a tensor can hold, as data: one list gives each dtype's enum value, C++ type, name,
// size and what arithmetic on it accumulates in. float32 is the default, as in PyTorch.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "ember/core/error.h"

// X(Name, C++ type, printed name, is_floating, accumulation dtype). The enum's values are the
// positions in this list; checkpoints store them, so new dtypes go at the end.
#define EMBER_DTYPES(X)                               \
  X(Float32, float, "float32", true, Float64)         \
  X(Float64, double, "float64", true, Float64)

namespace ember {

#define EMBER_DTYPE_ENUM(Name, type, name, floating, accumulate) Name,
enum class DType : std::uint8_t { EMBER_DTYPES(EMBER_DTYPE_ENUM) };
#undef EMBER_DTYPE_ENUM

inline constexpr DType kFloat32 = DType::Float32;
inline constexpr DType kFloat64 = DType::Float64;

#define EMBER_DTYPE_COUNT(Name, type, name, floating, accumulate) +1
inline constexpr int kDTypeCount = 0 EMBER_DTYPES(EMBER_DTYPE_COUNT);
#undef EMBER_DTYPE_COUNT
static_assert(kDTypeCount == 2, "a dtype was added: extend dispatch_dtype's callers and the dtype tests");

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
// caller at compile time.
template <typename Fn> decltype(auto) dispatch_dtype(DType dtype, Fn&& fn) {
  switch (dtype) {
#define EMBER_DTYPE_CASE(Name, type, name, floating, accumulate) \
  case DType::Name: return fn(type{});
    EMBER_DTYPES(EMBER_DTYPE_CASE)
#undef EMBER_DTYPE_CASE
  }
  EMBER_FAIL("ember: unknown dtype code ", static_cast<int>(dtype));
}

}  // namespace ember
