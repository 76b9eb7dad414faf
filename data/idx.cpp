#include "ember/data/idx.h"

#include <algorithm>
#include <bit>
#include <cerrno>
#include <climits>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <type_traits>

// zlib reads the gzipped files (Debian ships its data sets gzipped): inflating by hand is not worth
// writing. ZLIB_CONST makes its input pointer const, so that our bytes need no const_cast.
#define ZLIB_CONST
#include <zlib.h>

namespace ember::data {

namespace {

static_assert(
    std::endian::native == std::endian::little || std::endian::native == std::endian::big,
    "IDX data is converted from big-endian to the host's order: a mixed-endian host needs more");

struct TypeInfo {
  IdxType type;
  std::size_t size;
  std::string_view name;
};

// In EMBER_IDX_TYPES's order, which is also IdxValues's (checked below).
constexpr TypeInfo kTypes[] = {
#define EMBER_IDX_TYPE_INFO(Name, code, type, name) {IdxType::Name, sizeof(type), name},
    EMBER_IDX_TYPES(EMBER_IDX_TYPE_INFO)
#undef EMBER_IDX_TYPE_INFO
};
static_assert(std::size(kTypes) == std::variant_size_v<IdxValues>,
              "one IdxValues alternative per IdxType");

constexpr std::size_t position_of(IdxType type) {
  std::size_t i = 0;
  while (kTypes[i].type != type) ++i;
  return i;
}
#define EMBER_IDX_CHECK_ALTERNATIVE(Name, code, type, name)                                       \
  static_assert(std::is_same_v<std::variant_alternative_t<position_of(IdxType::Name), IdxValues>, \
                               std::vector<type>>,                                                \
                "IdxValues lists its alternatives in EMBER_IDX_TYPES's order");
EMBER_IDX_TYPES(EMBER_IDX_CHECK_ALTERNATIVE)
#undef EMBER_IDX_CHECK_ALTERNATIVE

const TypeInfo* find_type(std::uint8_t code) {
  for (const TypeInfo& info : kTypes) {
    if (static_cast<std::uint8_t>(info.type) == code) return &info;
  }
  return nullptr;
}

IdxValues make_values(IdxType type, std::size_t count) {
  switch (type) {
#define EMBER_IDX_MAKE(Name, code, type, name) \
  case IdxType::Name:                          \
    return std::vector<type>(count);
    EMBER_IDX_TYPES(EMBER_IDX_MAKE)
#undef EMBER_IDX_MAKE
  }
  EMBER_FAIL("IDX: unknown element type ", static_cast<int>(type));
}

// C++23's std::byteswap, through the builtins GCC and clang share until then.
template <typename U>
U byteswap(U value) {
  static_assert(std::is_unsigned_v<U>);
  if constexpr (sizeof(U) == 2) {
    return __builtin_bswap16(value);
  } else if constexpr (sizeof(U) == 4) {
    return __builtin_bswap32(value);
  } else {
    static_assert(sizeof(U) == 8);
    return __builtin_bswap64(value);
  }
}

// IDX stores elements big-endian; this turns them into the host's order in place.
template <typename T>
void big_endian_to_host(std::vector<T>& values) {
  if constexpr (sizeof(T) > 1 && std::endian::native == std::endian::little) {
    using U = std::conditional_t<sizeof(T) == 2, std::uint16_t,
                                 std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>>;
    static_assert(sizeof(U) == sizeof(T));
    for (T& v : values) v = std::bit_cast<T>(byteswap(std::bit_cast<U>(v)));
  }
}

std::uint32_t read_u32_big_endian(const unsigned char* p) {
  return std::uint32_t{p[0]} << 24 | std::uint32_t{p[1]} << 16 | std::uint32_t{p[2]} << 8 | p[3];
}

std::string hex_byte(unsigned value) {
  constexpr char kDigits[] = "0123456789abcdef";
  return {'0', 'x', kDigits[(value >> 4) & 15], kDigits[value & 15]};
}

// --- Where the IDX bytes come from --------------------------------------------------------------
// Both sources offer read(out, n), which fills up to n bytes and returns fewer only where the data
// ends; expect_room(n), which refuses a header that declares more bytes than can follow; and
// at_end(), whether nothing follows what was read.

class PlainSource {
 public:
  PlainSource(std::string_view bytes, const std::string& source) : rest_(bytes), source_(source) {}

  std::size_t read(unsigned char* out, std::size_t n) {
    n = std::min(n, rest_.size());
    if (n) std::memcpy(out, rest_.data(), n);
    rest_.remove_prefix(n);
    return n;
  }
  void expect_room(std::uint64_t n, const std::string& declared) const {
    EMBER_CHECK(n <= rest_.size(), "IDX file '", source_, "' is truncated: its header declares ",
                declared, " but only ", rest_.size(), " bytes follow the header");
  }
  bool at_end() const { return rest_.empty(); }

 private:
  std::string_view rest_;
  const std::string& source_;
};

// A gzip stream, inflated on demand: only as much as the IDX header says is read, so a stream that
// goes on (a decompression bomb) costs no more than the data it was asked for.
class GzipSource {
 public:
  GzipSource(std::string_view compressed, const std::string& source)
      : compressed_(compressed), source_(source) {
    // 15 + 16: the largest window, inside a gzip wrapper (header, CRC-32 and length) rather than
    // zlib's own.
    const int rc = inflateInit2(&z_, 15 + 16);
    EMBER_CHECK(rc == Z_OK, "IDX file '", source_, "': zlib could not start inflating (",
                zlib_message(rc), ")");
  }
  ~GzipSource() { inflateEnd(&z_); }
  GzipSource(const GzipSource&) = delete;
  GzipSource& operator=(const GzipSource&) = delete;

  std::size_t read(unsigned char* out, std::size_t n) {
    std::size_t got = 0;
    while (got < n && !ended_) {
      feed();
      const std::size_t ask = std::min<std::size_t>(n - got, UINT_MAX);  // zlib counts in uInt
      z_.next_out = out + got;
      z_.avail_out = static_cast<uInt>(ask);
      const int rc = inflate(&z_, Z_NO_FLUSH);
      got += ask - z_.avail_out;
      if (rc == Z_STREAM_END) {
        next_member();
      } else if (rc == Z_BUF_ERROR) {  // no progress: feed() had nothing left to give
        EMBER_FAIL("IDX file '", source_, "' is truncated: its gzip stream ends without its end ",
                   "marker after ", produced_ + got, " bytes of data (an interrupted download?)");
      } else if (rc != Z_OK) {
        EMBER_FAIL("IDX file '", source_, "' has a corrupt gzip stream (zlib: ", zlib_message(rc),
                   ")");
      }
    }
    produced_ += got;
    return got;
  }

  // Deflate's densest code turns one compressed byte into at most 1032 bytes (zlib's FAQ), so a
  // stream of n bytes holds at most 1032 n: a header that declares more cannot be right, and is
  // refused before its size is allocated.
  void expect_room(std::uint64_t n, const std::string& declared) const {
    constexpr std::uint64_t kMaxRatio = 1032;
    const std::uint64_t size = compressed_.size();
    const std::uint64_t most = size > std::numeric_limits<std::uint64_t>::max() / kMaxRatio
                                   ? std::numeric_limits<std::uint64_t>::max()
                                   : size * kMaxRatio;
    EMBER_CHECK(produced_ <= most && n <= most - produced_, "IDX file '", source_,
                "' is truncated or corrupt: its header declares ", declared, ", more than its ",
                size, " bytes of gzip can hold");
  }

  // Inflates one byte more at most: a stream that goes on past the data is refused without
  // inflating the rest. At its end, read() has checked the end marker and the CRC.
  bool at_end() {
    unsigned char byte;
    return read(&byte, 1) == 0;
  }

 private:
  std::string zlib_message(int rc) const {
    if (z_.msg) return z_.msg;
    return rc == Z_MEM_ERROR ? "out of memory" : "error " + std::to_string(rc);
  }

  void feed() {
    if (z_.avail_in == 0 && fed_ < compressed_.size()) {
      const std::size_t n = std::min<std::size_t>(compressed_.size() - fed_, UINT_MAX);
      z_.next_in = reinterpret_cast<const Bytef*>(compressed_.data() + fed_);
      z_.avail_in = static_cast<uInt>(n);
      fed_ += n;
    }
  }

  // After one gzip member ends: the file may go on with another (`cat a.gz b.gz` is valid gzip and
  // gunzip reads both); anything else after it is not gzip data.
  void next_member() {
    const std::size_t left = z_.avail_in + (compressed_.size() - fed_);
    if (left == 0) {
      ended_ = true;
      return;
    }
    const std::size_t at = compressed_.size() - left;
    EMBER_CHECK(left >= 2 && static_cast<unsigned char>(compressed_[at]) == 0x1f &&
                    static_cast<unsigned char>(compressed_[at + 1]) == 0x8b,
                "IDX file '", source_, "' has ", left,
                " bytes after the end of its gzip stream that are not gzip data");
    inflateReset(&z_);
  }

  z_stream z_{};
  std::string_view compressed_;
  const std::string& source_;
  std::size_t fed_ = 0;         // bytes of compressed_ handed to zlib so far
  std::uint64_t produced_ = 0;  // bytes inflated so far, over every member
  bool ended_ = false;
};

// --- The format --------------------------------------------------------------------------------

template <typename Source>
IdxArray parse(Source& in, const std::string& source) {
  unsigned char head[4];
  const std::size_t got = in.read(head, sizeof head);
  EMBER_CHECK(got == sizeof head, "IDX file '", source, "' is too short for an IDX header (", got,
              " bytes; the header alone is at least 8)");
  EMBER_CHECK(head[0] == 0 && head[1] == 0, "IDX file '", source,
              "' is not an IDX file: it starts with ", hex_byte(head[0]), " ", hex_byte(head[1]),
              ", not IDX's two zero bytes");
  const TypeInfo* type = find_type(head[2]);
  EMBER_CHECK(
      type != nullptr, "IDX file '", source, "' has unknown element type byte ", hex_byte(head[2]),
      " (IDX defines 0x08 uint8, 0x09 int8, 0x0b int16, 0x0c int32, 0x0d float32, 0x0e float64)");
  const int ndim = head[3];
  EMBER_CHECK(ndim >= 1 && ndim <= kIdxMaxDims, "IDX file '", source, "' declares ", ndim,
              " dimensions; Ember reads 1 to ", kIdxMaxDims);

  unsigned char dim_bytes[4 * kIdxMaxDims];
  const std::size_t dims_size = 4 * static_cast<std::size_t>(ndim);
  const std::size_t got_dims = in.read(dim_bytes, dims_size);
  EMBER_CHECK(got_dims == dims_size, "IDX file '", source, "' is truncated in its header: ", ndim,
              " dimensions need ", dims_size, " bytes after the first 4, and ", got_dims,
              " follow");

  // The product of the nonzero sizes, bounded as it goes so that it cannot overflow: each size is
  // below 2^32 and the running product at most kLimit.
  constexpr std::uint64_t kLimit = std::min<std::uint64_t>(kIdxMaxBytes, SIZE_MAX);
  IdxArray out;
  std::uint64_t count = 1;
  bool any_zero = false, too_big = false;
  for (int d = 0; d < ndim; ++d) {
    const std::uint32_t size = read_u32_big_endian(dim_bytes + 4 * d);
    out.dims.push_back(size);
    if (size == 0) {
      any_zero = true;
    } else if (count > kLimit / size) {
      too_big = true;
    } else {
      count *= size;
    }
  }
  if (any_zero) count = 0;
  std::string declared = idx_describe(out.dims, type->type) + " elements";  // for messages
  EMBER_CHECK(!too_big && count <= kLimit / type->size, "IDX file '", source, "' declares ",
              declared, ": more than the ", kLimit, " bytes Ember accepts (a corrupt header?)");
  const std::uint64_t nbytes = count * type->size;
  declared += " (" + std::to_string(nbytes) + " bytes)";

  in.expect_room(nbytes, declared);
  out.values = make_values(type->type, static_cast<std::size_t>(count));
  std::visit(
      [&](auto& values) {
        const std::size_t got_data =
            in.read(reinterpret_cast<unsigned char*>(values.data()), nbytes);
        EMBER_CHECK(got_data == nbytes, "IDX file '", source,
                    "' is truncated: its header declares ", declared, " but its data ends after ",
                    got_data, " bytes");
        big_endian_to_host(values);
      },
      out.values);
  EMBER_CHECK(in.at_end(), "IDX file '", source, "' goes on after the ", declared,
              " its header declares (a wrong header, or two files joined?)");
  return out;
}

}  // namespace

std::string_view idx_type_name(IdxType type) {
  for (const TypeInfo& info : kTypes) {
    if (info.type == type) return info.name;
  }
  return "unknown IDX type";
}

std::string idx_describe(const std::vector<std::int64_t>& dims, IdxType type) {
  std::string out;
  for (std::size_t d = 0; d < dims.size(); ++d) out += (d ? " x " : "") + std::to_string(dims[d]);
  return out + " " + std::string(idx_type_name(type));
}

IdxType IdxArray::type() const { return kTypes[values.index()].type; }

std::int64_t IdxArray::numel() const {
  return std::visit([](const auto& v) { return static_cast<std::int64_t>(v.size()); }, values);
}

IdxArray parse_idx(std::string_view bytes, const std::string& source) {
  // The file's own first bytes say whether it is gzipped, whatever its name: IDX starts with 00 00.
  if (bytes.size() >= 2 && static_cast<unsigned char>(bytes[0]) == 0x1f &&
      static_cast<unsigned char>(bytes[1]) == 0x8b) {
    GzipSource in(bytes, source);
    return parse(in, source);
  }
  PlainSource in(bytes, source);
  return parse(in, source);
}

IdxArray load_idx(const std::string& path) {
  std::error_code error;
  const std::uintmax_t size = std::filesystem::file_size(path, error);  // fails for a folder too
  EMBER_CHECK(!error, "load_idx: cannot read '", path, "' (", error.message(), ")");
  std::ifstream in(path, std::ios::binary);
  EMBER_CHECK(in.good(), "load_idx: cannot open '", path, "' (", std::strerror(errno), ")");
  std::string bytes(size, '\0');
  in.read(bytes.data(), static_cast<std::streamsize>(size));
  EMBER_CHECK(static_cast<std::uintmax_t>(in.gcount()) == size, "load_idx: reading '", path,
              "' failed after ", in.gcount(), " of ", size, " bytes");
  return parse_idx(bytes, path);
}

}  // namespace ember::data
