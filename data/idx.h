// IDX files: the format of MNIST, Fashion-MNIST and their relatives, plain or gzipped.
//
// Format (http://yann.lecun.com/exdb/mnist/, all integers big-endian):
//   0x00 0x00 | u8 element type (table below) | u8 ndim | ndim x u32 dim | row-major elements
// A gzipped file is recognised by its first two bytes (1f 8b), not by its name, and read through
// zlib. Files are read whole and checked against their header: a file that is truncated, has bytes
// after its data, or declares more data than it holds is refused with an ember::Error naming the
// file and the problem, before anything of the declared size is allocated.
//
// This part knows nothing of tensors; data/idx_tensor.h turns an IdxArray into one.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "ember/core/error.h"
#include "ember/core/shape.h"

namespace ember::data {

// X(Name, type byte, C++ type, printed name): the element types IDX defines, in type-byte order.
#define EMBER_IDX_TYPES(X)              \
  X(UInt8, 0x08, std::uint8_t, "uint8") \
  X(Int8, 0x09, std::int8_t, "int8")    \
  X(Int16, 0x0B, std::int16_t, "int16") \
  X(Int32, 0x0C, std::int32_t, "int32") \
  X(Float32, 0x0D, float, "float32")    \
  X(Float64, 0x0E, double, "float64")

#define EMBER_IDX_TYPE_ENUM(Name, code, type, name) Name = code,
enum class IdxType : std::uint8_t { EMBER_IDX_TYPES(EMBER_IDX_TYPE_ENUM) };
#undef EMBER_IDX_TYPE_ENUM

std::string_view idx_type_name(IdxType type);

// The elements, in the host's byte order: one alternative per IdxType, in the list's order
// (idx.cpp checks the two agree).
using IdxValues =
    std::variant<std::vector<std::uint8_t>, std::vector<std::int8_t>, std::vector<std::int16_t>,
                 std::vector<std::int32_t>, std::vector<float>, std::vector<double>>;

// Refused as absurd rather than allocated: more dimensions than an Ember tensor has, and more data
// than this. The largest IDX data sets (EMNIST) hold under 1 GiB.
inline constexpr int kIdxMaxDims = kMaxDims;
inline constexpr std::uint64_t kIdxMaxBytes = std::uint64_t{1} << 36;  // 64 GiB

struct IdxArray {
  std::vector<std::int64_t> dims;  // 1 to kIdxMaxDims sizes, each below 2^32 (zero allowed)
  IdxValues values;                // product(dims) elements, row-major

  IdxType type() const;
  std::int64_t numel() const;
  // The elements as T, which must be the file's element type (else an ember::Error saying which
  // it is): array.as<std::uint8_t>()[i].
  template <typename T>
  const std::vector<T>& as() const {
    const auto* v = std::get_if<std::vector<T>>(&values);
    EMBER_CHECK(v != nullptr, "IdxArray::as: the elements are ", idx_type_name(type()),
                ", not the type asked for");
    return *v;
  }
};

// "60000 x 28 x 28 uint8": sizes and element type, as error messages show them.
std::string idx_describe(const std::vector<std::int64_t>& dims, IdxType type);

// Reads the IDX file at `path`, gzipped or not. Throws ember::Error when it cannot be read or is
// not a whole, consistent IDX file.
IdxArray load_idx(const std::string& path);
// The same from bytes already in memory; `source` names them in error messages (the fuzz target
// fuzz/idx_fuzz.cpp calls this).
IdxArray parse_idx(std::string_view bytes, const std::string& source);

}  // namespace ember::data
