// IDX files made in memory for the tests of data/: the header from its parts, big-endian words,
// and gzip through zlib (the same library the reader inflates with, but its other half); and the
// message of the error a call throws.
#pragma once

#include <zlib.h>

#include <cstdint>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <string_view>

#include "ember/core/error.h"

namespace ember::test {

// The message of the ember::Error that `call` throws; empty when it throws none, which fails any
// check that the message holds some text.
template <typename Call>
std::string error_message(Call&& call) {
  try {
    call();
  } catch (const Error& e) {
    return e.what();
  }
  return {};
}

inline std::string big_endian32(std::uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
          static_cast<char>(v)};
}

// An IDX file: 00 00, the type byte, the number of dims, the dims, then `data` as given (already
// big-endian: tests spell the bytes out).
inline std::string idx_file(std::uint8_t type, std::initializer_list<std::uint32_t> dims,
                            std::string_view data) {
  std::string out{'\0', '\0', static_cast<char>(type), static_cast<char>(dims.size())};
  for (std::uint32_t d : dims) out += big_endian32(d);
  out += data;
  return out;
}

// `bytes` as one gzip member, as `gzip -9` writes it.
inline std::string gzip(std::string_view bytes) {
  z_stream z{};
  // 15 + 16: the largest window, with a gzip header and trailer rather than zlib's.
  if (deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    throw std::runtime_error("gzip: deflateInit2 failed");
  }
  std::string out(deflateBound(&z, static_cast<uLong>(bytes.size())), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
  z.avail_in = static_cast<uInt>(bytes.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  if (rc != Z_STREAM_END) throw std::runtime_error("gzip: deflate did not finish");
  return out;
}

}  // namespace ember::test
