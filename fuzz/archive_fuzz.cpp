// libFuzzer target for the tensor-archive reader (io/archive.h), which reads checkpoint files that
// may be truncated, corrupted or hostile. Any input must end in a parsed archive or an ember::Error:
// never a crash, a hang, an out-of-bounds access or a huge allocation.
//
// Random bytes almost never carry a valid checksum, which would stop them at the first check; so
// half the inputs (chosen by the first byte) get a correct checksum appended, letting the fuzzer
// explore the field parsing behind it. The checksum check itself is tested in tests/nn_test.cpp.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "ember/io/archive.h"
#include "ember/core/error.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  std::string bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] & 1) {
    const std::uint64_t sum = ember::archive_checksum(bytes);
    bytes.append(reinterpret_cast<const char*>(&sum), sizeof sum);
  }
  try {
    const ember::NamedTensors tensors = ember::parse_tensors(bytes, "fuzz input");
    (void)tensors;
  } catch (const ember::Error&) {
    // Refusing bad input with a clear error is the expected outcome.
  }
  return 0;
}
