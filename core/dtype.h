// Element types a tensor can hold. float32 is the default, as in PyTorch.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace ember {

enum class DType : std::uint8_t { Float32, Float64 };

inline constexpr DType kFloat32 = DType::Float32;
inline constexpr DType kFloat64 = DType::Float64;

constexpr std::size_t element_size(DType dtype) { return dtype == DType::Float64 ? 8 : 4; }

constexpr std::string_view dtype_name(DType dtype) {
  return dtype == DType::Float64 ? "float64" : "float32";
}

// Maps a C++ element type to its DType; only float and double are tensors' element types.
template <typename T> struct dtype_of;
template <> struct dtype_of<float> { static constexpr DType value = DType::Float32; };
template <> struct dtype_of<double> { static constexpr DType value = DType::Float64; };
template <typename T> inline constexpr DType dtype_of_v = dtype_of<T>::value;

// Calls fn with a value of the C++ type that `dtype` stands for: the one place where a dtype
// becomes a template argument.
template <typename Fn> decltype(auto) dispatch_dtype(DType dtype, Fn&& fn) {
  if (dtype == DType::Float64) return fn(double{});
  return fn(float{});
}

}  // namespace ember
