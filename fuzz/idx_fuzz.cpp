// libFuzzer target for the IDX reader (data/idx.h), which reads data-set files that may be
// truncated, corrupted or hostile, gzipped or not. Any input must end in a parsed array (and a
// tensor of it) or an ember::Error: never a crash, a hang, an out-of-bounds access or a huge
// allocation.
//
// Random bytes are almost never a gzip stream, so they would reach the reader behind zlib only
// through the gzipped seeds; so half the inputs (chosen by the first byte) are gzipped here first,
// letting the fuzzer explore the IDX parsing behind decompression as freely as the plain one. The
// other half go in as they are, gzipped seeds included, for zlib's side of the reader.
#include <cstddef>
#include <cstdint>
#include <string>

#include "ember/core/error.h"
#include "ember/data/idx.h"
#include "ember/data/idx_tensor.h"
#include "idx_support.h"  // tests/: gzip()

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  std::string bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] & 1) bytes = ember::test::gzip(bytes);
  try {
    const ember::data::IdxArray array = ember::data::parse_idx(bytes, "fuzz input");
    (void)ember::data::to_tensor(array);
  } catch (const ember::Error&) {
    // Refusing bad input with a clear error is the expected outcome.
  }
  return 0;
}
